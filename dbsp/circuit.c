/*
 * circuit.c: one circuit per worker pool, shared by every view.  A circuit
 * holds segments, each an instance of one plan on every worker (D6), in an
 * order where a segment comes after every segment it reads (links, D12).
 * A step is ONE share per worker that runs every dirty segment in that
 * order; the controlling thread runs worker 0's share (and every share of a
 * small step), tasks on the scheduler the others (D5).  A link hands a
 * segment's output delta on worker w to a later segment's input on worker w
 * inside the share, with no trip through the controlling thread.  Segments fail alone (D13): a failing segment stops on every
 * worker, the segments reading it are failed with it, the others go on.
 * When every task is done the outputs of every segment that stepped are
 * published at once (D11).  Segments are added and removed between steps.
 * dbsp_host (host.c) is a circuit of one segment.  Design: dbsp/README.md,
 * "Circuits: segments, links, one share per worker".
 */
#include "dbsp_int.h"

#include <pthread.h>
#include <stdatomic.h>

/* An input of a segment fed, every step, by an output of an earlier one. */
typedef struct clink {
    dbsp_node input;
    dbsp_seg *from;
    dbsp_node output;
} clink;

/* Where one worker is in one segment during a step. */
typedef struct segw {
    dbsp_ctx ctx;
    uint32_t next;            /* first node not yet evaluated this step */
    bool started;             /* links pulled, old deltas dropped */
    ivm_rc rc;                /* this worker's result for the segment */
} segw;

struct dbsp_seg {
    dbsp_circuit *circ;
    const dbsp_plan *plan;
    uint32_t nnodes;
    segw *w;                  /* one per worker */
    xchg **xchgs;             /* one per node, non-NULL at exchanges */
    bool *filters;            /* one per node: its delta may be inserted
                                 into a probed trace (D15) */
    clink *links;
    uint32_t nlinks;
    size_t linkcap;
    uint32_t rr;              /* next worker to feed */
    bool dirty;               /* fed or touched since the last step */
    bool run;                 /* runs in the step in progress */
    atomic_bool failing;      /* failed during this step: every worker stops it */
    uint64_t steps;           /* steps this segment completed */
    uint64_t ran_at;          /* circuit step + 1 at which it last ran */
    ivm_rc rc;                /* sticky: the first failure */
    ivm_err err;
};

/* One worker's share of a step: a position in the run list.  It is run by
 * the controlling thread or by a task on the worker's scheduler thread,
 * never both: `task` is set when it is handed to the scheduler, and from
 * then on only the task touches it (the spawn orders everything before). */
typedef struct cwork {
    dbsp_circuit *circ;
    uint32_t worker;
    uint32_t i;               /* index in circ->run */
    bool done;                /* ran to the end on the controlling thread */
    rt_task *task;            /* handed to the scheduler, or NULL */
} cwork;

typedef struct inline_wake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
} inline_wake;

struct dbsp_circuit {
    rt_sched *sched;
    uint32_t nworkers;
    pthread_mutex_t publish_mu; /* D11: publishing vs. taking cursors */
    spine_batch *empty;
    dbsp_seg **segs;          /* in link order (D12) */
    uint32_t nsegs;
    size_t segcap;
    dbsp_seg **run;           /* the segments of the step in progress, in order */
    uint32_t nrun;
    size_t runcap;
    cwork *w;
    uint64_t steps;           /* circuit steps run */
    size_t fed;               /* entries fed since the last step */
    dbsp_step_opts opts;
    inline_wake iw;           /* the controlling thread's waker */
    pthread_mutex_t done_mu;  /* guards ndone */
    pthread_cond_t done_cv;   /* signalled when a task of a step is done */
    uint32_t ndone;           /* tasks of this step that are done */
};

/* ---- Creation -------------------------------------------------------------- */

ivm_rc dbsp_circuit_new(rt_sched *sched, dbsp_circuit **out)
{
    uint32_t nw = rt_sched_size(sched);
    if (nw == 0)
        return IVM_INVALID;
    dbsp_circuit *c = ivm_calloc(1, sizeof *c);
    if (c == NULL)
        return IVM_NOMEM;
    c->sched = sched;
    c->nworkers = nw;
    pthread_mutex_init(&c->publish_mu, NULL);
    pthread_mutex_init(&c->iw.mu, NULL);
    pthread_cond_init(&c->iw.cv, NULL);
    pthread_mutex_init(&c->done_mu, NULL);
    pthread_cond_init(&c->done_cv, NULL);
    spine_builder eb;
    spine_builder_init(&eb);
    ivm_rc rc = spine_builder_finish(&eb, &c->empty);
    spine_builder_fini(&eb);
    if (rc == IVM_OK && (c->w = ivm_calloc(nw, sizeof *c->w)) == NULL)
        rc = IVM_NOMEM;
    if (rc != IVM_OK) {
        dbsp_circuit_free(c);
        return rc;
    }
    for (uint32_t wi = 0; wi < nw; wi++) {
        c->w[wi].circ = c;
        c->w[wi].worker = wi;
    }
    c->opts.solo_max = DBSP_SOLO_MAX_DEFAULT;
    c->opts.solo_budget_ns = DBSP_SOLO_BUDGET_DEFAULT_NS;
    const char *env = getenv("IVM_SOLO_MAX");
    if (env != NULL && *env != '\0')
        c->opts.solo_max = (size_t)strtoull(env, NULL, 10);
    *out = c;
    return IVM_OK;
}

static void seg_free(dbsp_seg *s)
{
    if (s == NULL)
        return;
    uint32_t nw = s->circ->nworkers;
    for (uint32_t wi = 0; s->w != NULL && wi < nw; wi++) {
        dbsp_ctx *c = &s->w[wi].ctx;
        for (uint32_t i = 0; c->inst != NULL && i < s->nnodes; i++) {
            if (c->inst[i].state != NULL) {
                s->plan->nodes[i].vt->fini(c->inst[i].state);
                ivm_free(c->inst[i].state);
            }
            spine_batch_unref(c->inst[i].delta);
        }
        ivm_free(c->inst);
        spine_builder_fini(&c->bld);
        rt_arena_fini(&c->scratch);
    }
    ivm_free(s->w);
    for (uint32_t i = 0; s->xchgs != NULL && i < s->nnodes; i++)
        xchg_free(s->xchgs[i]);
    ivm_free(s->xchgs);
    ivm_free(s->filters);
    ivm_free(s->links);
    ivm_free(s);
}

/* True for kinds whose eval may return its input batch itself (or keep it
 * for a later step, z^-1), so that a batch built for a node can end up
 * wherever the forwarding node's delta goes. */
static bool forwards(dbsp_kind k)
{
    return k == DBSP_FILTER || k == DBSP_PLUS || k == DBSP_EXCHANGE || k == DBSP_Z1 ||
           k == DBSP_INPUT;
}

/* D15: which nodes' deltas need key filters.  An integrate node inserts its
 * input's delta into a trace that joins, aggregates, distinct, top-k and set
 * operations seek exactly into, and top-k inserts its own delta into its
 * state; every other spine or consumer never asks a filter.  The need
 * flows back through nodes that may pass a batch on unchanged; up to a
 * fixed point, as z^-1 may read a later node. */
static void mark_filters(const dbsp_plan *p, bool *need)
{
    for (uint32_t i = 0; i < p->n; i++)
        need[i] = p->nodes[i].kind == DBSP_TOPK;
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = p->n; i-- > 0;) {
            const dbsp_pnode *nd = &p->nodes[i];
            /* An integral not kept (D17) stores none of its deltas. */
            bool pass = (nd->kind == DBSP_INTEGRATE && !dbsp_integrate_derives(p, i)) ||
                        (need[i] && forwards(nd->kind));
            for (uint32_t j = 0; pass && j < nd->nin; j++)
                if (!need[nd->in[j]]) {
                    need[nd->in[j]] = true;
                    changed = true;
                }
        }
    }
}

void dbsp_circuit_free(dbsp_circuit *c)
{
    if (c == NULL)
        return;
    for (uint32_t i = c->nsegs; i-- > 0;)
        seg_free(c->segs[i]);
    ivm_free(c->segs);
    ivm_free(c->run);
    ivm_free(c->w);
    spine_batch_unref(c->empty);
    pthread_mutex_destroy(&c->publish_mu);
    pthread_mutex_destroy(&c->iw.mu);
    pthread_cond_destroy(&c->iw.cv);
    pthread_mutex_destroy(&c->done_mu);
    pthread_cond_destroy(&c->done_cv);
    ivm_free(c);
}

/* Stateful operators need all rows of a key on one worker (D4): with more
 * than one worker their inputs must come through an exchange. */
static bool sharding_ok(const dbsp_plan *p)
{
    for (uint32_t i = 0; i < p->n; i++) {
        const dbsp_pnode *nd = &p->nodes[i];
        if (nd->kind != DBSP_DISTINCT && nd->kind != DBSP_JOIN && nd->kind != DBSP_AGGREGATE &&
            nd->kind != DBSP_SETOP && nd->kind != DBSP_TOPK)
            continue;
        for (uint32_t k = 0; k < nd->nin; k++)
            if (!p->nodes[nd->in[k]].partitioned)
                return false;
    }
    return true;
}

ivm_rc dbsp_circuit_add(dbsp_circuit *c, const dbsp_plan *p, dbsp_seg **out)
{
    uint32_t nw = c->nworkers;
    if (nw > 1 && !sharding_ok(p))
        return IVM_INVALID;
    if (ivm_grow((void **)&c->segs, &c->segcap, c->nsegs + 1, sizeof *c->segs) != IVM_OK)
        return IVM_NOMEM;
    dbsp_seg *s = ivm_calloc(1, sizeof *s);
    if (s == NULL)
        return IVM_NOMEM;
    s->circ = c;
    s->plan = p;
    s->nnodes = p->n;
    atomic_init(&s->failing, false);
    ivm_rc rc = IVM_NOMEM;
    s->w = ivm_calloc(nw, sizeof *s->w);
    s->xchgs = ivm_calloc(p->n + 1, sizeof *s->xchgs);
    s->filters = ivm_calloc(p->n + 1, sizeof *s->filters);
    if (s->w == NULL || s->xchgs == NULL || s->filters == NULL)
        goto fail;
    mark_filters(p, s->filters);
    /* Every context is made whole first, so that freeing after a failure
     * below finds nothing half-initialised but operator states (whose fini
     * copes with a zeroed state). */
    for (uint32_t wi = 0; wi < nw; wi++) {
        dbsp_ctx *x = &s->w[wi].ctx;
        x->plan = p;
        x->worker = wi;
        x->nworkers = nw;
        x->empty = c->empty;
        x->xchgs = s->xchgs;
        rt_arena_init(&x->scratch);
        spine_builder_init(&x->bld);
        /* Every operator of the segment builds its delta here, one after
         * the other: a join's or map's delta of a large commit is several
         * megabytes, which regrowing from 64 KiB at every node made cost
         * a copy per doubling and a fault per page (a quarter of q9's
         * CPU time). */
        spine_builder_set_keep(&x->bld, DBSP_BUILDER_KEEP);
        ivm_err_clear(&x->err);
    }
    for (uint32_t i = 0; i < p->n; i++)
        if (p->nodes[i].kind == DBSP_EXCHANGE && (rc = xchg_new(nw, 0, &s->xchgs[i])) != IVM_OK)
            goto fail;
    for (uint32_t wi = 0; wi < nw; wi++) {
        dbsp_ctx *x = &s->w[wi].ctx;
        x->inst = ivm_calloc(p->n + 1, sizeof *x->inst);
        if (x->inst == NULL) {
            rc = IVM_NOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < p->n; i++) {
            const dbsp_op_vtab *vt = p->nodes[i].vt;
            x->inst[i].state = ivm_calloc(1, vt->state_size ? vt->state_size : 1);
            if (x->inst[i].state == NULL) {
                rc = IVM_NOMEM;
                goto fail;
            }
            if ((rc = vt->init(x, i, x->inst[i].state)) != IVM_OK)
                goto fail;
        }
    }
    c->segs[c->nsegs++] = s;
    *out = s;
    return IVM_OK;
fail:
    seg_free(s);
    return rc;
}

void dbsp_circuit_remove(dbsp_circuit *c, dbsp_seg *s)
{
    if (s == NULL)
        return;
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->nsegs; i++) {
        dbsp_seg *o = c->segs[i];
        if (o == s)
            continue;
        /* Readers of s stop being fed by it (D12). */
        uint32_t k = 0;
        for (uint32_t l = 0; l < o->nlinks; l++)
            if (o->links[l].from != s)
                o->links[k++] = o->links[l];
        o->nlinks = k;
        c->segs[m++] = o;
    }
    c->nsegs = m;
    seg_free(s);
}

static uint32_t seg_pos(const dbsp_circuit *c, const dbsp_seg *s)
{
    for (uint32_t i = 0; i < c->nsegs; i++)
        if (c->segs[i] == s)
            return i;
    return UINT32_MAX;
}

ivm_rc dbsp_circuit_link(dbsp_circuit *c, dbsp_seg *from, dbsp_node output, dbsp_seg *to,
                         dbsp_node input)
{
    uint32_t pf = seg_pos(c, from), pt = seg_pos(c, to);
    const dbsp_pnode *o = from ? dbsp_plan_node(from->plan, output) : NULL;
    const dbsp_pnode *in = to ? dbsp_plan_node(to->plan, input) : NULL;
    /* D12: a segment reads only segments added before it. */
    if (pf == UINT32_MAX || pt == UINT32_MAX || pf >= pt || o == NULL || in == NULL ||
        o->kind != DBSP_OUTPUT || in->kind != DBSP_INPUT || o->ncols != in->ncols ||
        in->nkey > in->ncols)
        return IVM_INVALID;
    if (ivm_grow((void **)&to->links, &to->linkcap, to->nlinks + 1, sizeof *to->links) != IVM_OK)
        return IVM_NOMEM;
    to->links[to->nlinks++] = (clink){.input = input, .from = from, .output = output};
    return IVM_OK;
}

/* ---- Feeding --------------------------------------------------------------- */

/* A fed batch of at least this many entries per worker is sliced (D6). */
#define FEED_SLICE_MIN 1024

/* D1: every row of the batch has the node's columns, and klen covers exactly
 * its key columns. */
static bool batch_fits(const spine_batch *b, uint32_t ncols, uint32_t nkey)
{
    if (nkey > ncols)
        return false;
    /* One walk over each row's columns: the key's, then the value's. */
    for (size_t i = 0; i < b->n; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(b, i, &len);
        size_t kl = b->klen[i], rest = len - kl;
        if (ncols > 0 && len == 0)
            return false;
        /* prefix_len is 0 for a row short of the columns asked: a key of
         * nkey > 0 columns is never empty, nor a value of some columns. */
        if (spine_row_prefix_len(row, len, nkey) != kl || (nkey > 0 && kl == 0))
            return false;
        if (ncols > nkey ? rest == 0 || spine_row_prefix_len(row + kl, rest, ncols - nkey) != rest
                         : rest != 0)
            return false;
    }
    return true;
}

/* shaped: the caller built the batch to the input's shape, so its rows
 * are walked only under IVM_SLOW_CHECKS; row_keyed: shaped, but every
 * entry's key is the whole entry, which only an input that maps alone
 * read may take (dbsp_plan_input_rows_whole). */
static ivm_rc feed_take(dbsp_seg *s, dbsp_node input, spine_batch *b_owned, bool shaped,
                        bool row_keyed)
{
    if (s->rc != IVM_OK) {
        spine_batch_unref(b_owned);
        return s->rc;
    }
    const dbsp_pnode *nd = dbsp_plan_node(s->plan, input);
    if (b_owned == NULL || nd == NULL || nd->kind != DBSP_INPUT ||
        (!shaped && !batch_fits(b_owned, nd->ncols, nd->nkey)) ||
        (row_keyed && !dbsp_plan_input_rows_whole(s->plan, input))) {
        spine_batch_unref(b_owned);
        return IVM_INVALID;
    }
    if (shaped)
        IVM_ASSERT_SLOW(batch_fits(b_owned, nd->ncols, row_keyed ? nd->ncols : nd->nkey));
    s->dirty = true;
    s->circ->fed += b_owned->n;
    uint32_t k = s->circ->nworkers;
    /* D6: a big batch is cut into one contiguous slice per worker, so that
     * every worker runs its share of the stages before the first exchange;
     * a small one goes whole to the next worker in turn. */
    const spine_batch *b = b_owned;
    if (k > 1 && b->n >= (size_t)k * FEED_SLICE_MIN) {
        ivm_rc rc = IVM_OK;
        spine_builder bl;
        spine_builder_init(&bl);
        /* Keys that are whole rows are read by maps alone: no filters. */
        if (row_keyed)
            spine_builder_set_filters(&bl, false);
        for (uint32_t part = 0; part < k && rc == IVM_OK; part++) {
            size_t lo = b->n * part / k, hi = b->n * (part + 1) / k;
            for (size_t i = lo; i < hi && rc == IVM_OK; i++) {
                size_t len;
                const uint8_t *row = spine_batch_row(b, i, &len);
                rc = spine_builder_push(&bl, row, b->klen[i], row + b->klen[i],
                                        len - b->klen[i], b->w[i]);
            }
            spine_batch *slice = NULL;
            if (rc == IVM_OK)
                rc = spine_builder_finish(&bl, &slice);
            uint32_t wi = s->rr;
            s->rr = (s->rr + 1) % k;
            if (rc == IVM_OK)
                rc = dbsp_input_queue_take(s->w[wi].ctx.inst[input].state, slice);
        }
        spine_builder_fini(&bl);
        spine_batch_unref(b_owned);
        return rc;
    }
    uint32_t wi = s->rr;
    s->rr = (s->rr + 1) % k;
    return dbsp_input_queue_take(s->w[wi].ctx.inst[input].state, b_owned);
}

ivm_rc dbsp_seg_feed_take(dbsp_seg *s, dbsp_node input, spine_batch *b_owned)
{
    return feed_take(s, input, b_owned, false, false);
}

ivm_rc dbsp_seg_feed_take_shaped(dbsp_seg *s, dbsp_node input, spine_batch *b_owned)
{
    return feed_take(s, input, b_owned, true, false);
}

ivm_rc dbsp_seg_feed_take_row_keyed(dbsp_seg *s, dbsp_node input, spine_batch *b_owned)
{
    return feed_take(s, input, b_owned, true, true);
}

void dbsp_seg_touch(dbsp_seg *s)
{
    s->dirty = true;
}

/* ---- Steps ----------------------------------------------------------------- */

/* Wakes every worker that may wait on one of s's exchanges, so that after a
 * failure they see `failing` and leave the segment instead of waiting for
 * the failed worker's flush. */
static void seg_wake_all(dbsp_seg *s)
{
    for (uint32_t i = 0; i < s->nnodes; i++)
        if (s->xchgs[i] != NULL)
            xchg_wake_all(s->xchgs[i]);
}

/* Worker w fails segment s (D13): the other workers leave it at their next
 * poll of it; the segments reading it see `failing` when they start. */
static void seg_fail_on(dbsp_seg *s, segw *sw, ivm_rc rc)
{
    sw->rc = rc;
    atomic_store_explicit(&s->failing, true, memory_order_release);
    seg_wake_all(s);
}

/* A link's delta in the input node's layout: the same batch when the key
 * widths agree, else the rows re-keyed (order kept: a key's encoding is a
 * prefix of the row, D1).  The worker's builder is free between nodes. */
static ivm_rc link_batch(dbsp_ctx *x, const dbsp_pnode *in, const dbsp_pnode *outn,
                         bool filters, spine_batch *d, spine_batch **out)
{
    if (in->nkey == outn->nkey) {
        *out = spine_batch_ref(d);
        return IVM_OK;
    }
    spine_builder *b = &x->bld;
    spine_builder_set_filters(b, filters);
    ivm_rc rc = IVM_OK;
    for (size_t i = 0; i < d->n && rc == IVM_OK; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(d, i, &len);
        size_t kl = spine_row_prefix_len(row, len, in->nkey);
        rc = spine_builder_push(b, row, kl, row + kl, len - kl, d->w[i]);
    }
    return dbsp_ctx_build(x, rc, out);
}

static void seg_drop_deltas(dbsp_seg *s)
{
    for (uint32_t wi = 0; wi < s->circ->nworkers; wi++)
        for (uint32_t i = 0; i < s->nnodes; i++) {
            spine_batch_unref(s->w[wi].ctx.inst[i].delta);
            s->w[wi].ctx.inst[i].delta = NULL;
        }
}

/* Starts segment s on one worker: drops its last deltas and queues what its
 * links bring from the segments it reads, on this same worker (D12). */
static ivm_rc seg_start(dbsp_seg *s, segw *sw, uint32_t worker)
{
    dbsp_ctx *x = &sw->ctx;
    for (uint32_t i = 0; i < s->nnodes; i++) {
        spine_batch_unref(x->inst[i].delta);
        x->inst[i].delta = NULL;
    }
    for (uint32_t l = 0; l < s->nlinks; l++) {
        const clink *k = &s->links[l];
        if (!k->from->run)
            continue;
        spine_batch *d = k->from->w[worker].ctx.inst[k->output].delta;
        if (d == NULL || d->n == 0)
            continue;
        spine_batch *b = NULL;
        ivm_rc rc = link_batch(x, &s->plan->nodes[k->input], &k->from->plan->nodes[k->output],
                               s->filters[k->input], d, &b);
        if (rc == IVM_OK)
            rc = dbsp_input_queue_take(x->inst[k->input].state, b);
        if (rc != IVM_OK)
            return ivm_err_set(&x->err, rc, 0, 0, "feeding input node %u: %s",
                               (unsigned)k->input, ivm_rc_str(rc));
    }
    return IVM_OK;
}

/* One worker's step: every segment of the run list in order, each node in
 * id order, from where it stopped until the end or an operator that must
 * wait.  Runs on the worker's thread and touches only that worker's
 * instances, plus the exchanges (X1). */
static rt_poll step_run(cwork *cw, rt_waker waker)
{
    dbsp_circuit *c = cw->circ;
    for (; cw->i < c->nrun; cw->i++) {
        dbsp_seg *s = c->run[cw->i];
        segw *sw = &s->w[cw->worker];
        dbsp_ctx *x = &sw->ctx;
        if (!sw->started) {
            sw->started = true;
            bool upstream_failed = false;
            for (uint32_t l = 0; l < s->nlinks; l++)
                upstream_failed |= s->links[l].from->run &&
                                   atomic_load_explicit(&s->links[l].from->failing,
                                                        memory_order_acquire);
            if (upstream_failed) {
                /* D13: its input is unknown; the message comes after the join. */
                seg_fail_on(s, sw, IVM_INTERNAL);
                continue;
            }
            ivm_rc rc = seg_start(s, sw, cw->worker);
            if (rc != IVM_OK) {
                seg_fail_on(s, sw, rc);
                continue;
            }
        }
        x->waker = waker;
        while (sw->next < s->nnodes) {
            if (atomic_load_explicit(&s->failing, memory_order_acquire)) {
                if (sw->rc == IVM_OK)
                    sw->rc = IVM_INTERNAL; /* abandoned; the failing worker reports */
                /* D14: the task ends soon; no spine may still hold its waker. */
                if (x->waiting != NULL) {
                    spine_ready_cancel(x->waiting);
                    x->waiting = NULL;
                }
                break;
            }
            dbsp_node n = sw->next;
            const dbsp_pnode *nd = &s->plan->nodes[n];
            spine_batch *out = NULL;
            /* D15: key filters only on deltas that may reach a probed trace. */
            spine_builder_set_filters(&x->bld, s->filters[n]);
            ivm_rc rc = nd->vt->eval(x, n, x->inst[n].state, &out);
            /* D7: scratch holds nothing past the node that made it. */
            rt_arena_reset(&x->scratch);
            if (rc == IVM_PENDING)
                return RT_PENDING;
            if (rc != IVM_OK) {
                ivm_err_set(&x->err, rc, 0, 0, "%s node %u failed: %s", nd->vt->name,
                            (unsigned)n, ivm_rc_str(rc));
                seg_fail_on(s, sw, rc);
                break;
            }
            IVM_ASSERT(out != NULL); /* D10 */
            x->inst[n].delta = out;
            sw->next++;
            /* The builder kept its peak for the next node and step; a step
             * whose batches were all far smaller gives it back. */
            if (sw->next == s->nnodes)
                spine_builder_trim(&x->bld);
        }
    }
    return RT_DONE;
}

static rt_poll step_poll(void *arg, rt_task *self)
{
    cwork *cw = arg;
    rt_poll r = step_run(cw, rt_task_waker(self));
    if (r == RT_DONE) {
        /* Counted after the last exchange call of this worker's step: see
         * step_drive, which joins only once every task is here. */
        dbsp_circuit *c = cw->circ;
        pthread_mutex_lock(&c->done_mu);
        c->ndone++;
        pthread_cond_signal(&c->done_cv);
        pthread_mutex_unlock(&c->done_mu);
    }
    return r;
}

/* The controlling thread runs worker 0's share of every step, and every
 * worker's share of a small one (D5): a spawn and a join cost thread
 * wake-ups, and a step of a few rows has nothing to overlap.  An operator
 * that must wait on the controlling thread registers this waker, and the
 * thread sleeps on the condition until it is called. */
static void inline_wake_fn(void *arg)
{
    inline_wake *iw = arg;
    pthread_mutex_lock(&iw->mu);
    iw->woken = true;
    pthread_cond_signal(&iw->cv);
    pthread_mutex_unlock(&iw->mu);
}

/* Hands worker wi's share to its scheduler thread.  The task resumes where
 * the controlling thread left it (cw->i and the segments' positions); a
 * waker the controlling thread registered for it may still fire, which
 * costs a spurious poll of the others and nothing more.  False if the task
 * could not be made (out of memory): the share stays on this thread. */
static bool hand_over(dbsp_circuit *c, uint32_t wi)
{
    cwork *cw = &c->w[wi];
    return rt_task_spawn(c->sched, wi, step_poll, cw, &cw->task) == IVM_OK;
}

/* Runs a step (D5).  The controlling thread polls its shares in turns:
 * worker 0's always, every worker's in a solo step until the budget is
 * spent.  Every share it polls registers the same waker, so a wake of any
 * of them makes it poll them all again; it sleeps only after a round in
 * which none finished and nothing woke it.  Shares handed to the scheduler
 * are joined once every one of them has counted itself done. */
static void step_drive(dbsp_circuit *c, bool solo)
{
    inline_wake *iw = &c->iw;
    rt_waker waker = {inline_wake_fn, iw};
    uint32_t nw = c->nworkers;
    uint32_t nspawned = 0;
    if (!solo)
        for (uint32_t wi = 1; wi < nw; wi++)
            nspawned += hand_over(c, wi);
    /* The budget is work done: the wall clock is read every round, the
     * thread's CPU time (a system call) only once the wall clock says the
     * budget may be spent, so a thread that was merely preempted keeps its
     * step. */
    bool timed = solo && nw > 1 && c->opts.solo_budget_ns != UINT64_MAX;
    uint64_t t0 = timed ? rt_now_ns() : 0, cpu0 = timed ? rt_thread_cpu_ns() : 0;
    for (;;) {
        bool all = true;
        for (uint32_t wi = 0; wi < nw; wi++) {
            cwork *cw = &c->w[wi];
            if (cw->done || cw->task != NULL)
                continue;
            if (step_run(cw, waker) == RT_DONE)
                cw->done = true;
            else
                all = false;
        }
        if (all)
            break;
        if (solo && timed && rt_now_ns() - t0 >= c->opts.solo_budget_ns &&
            rt_thread_cpu_ns() - cpu0 >= c->opts.solo_budget_ns) {
            /* Long for a solo step: the other shares go to their threads. */
            solo = false;
            for (uint32_t wi = 1; wi < nw; wi++)
                if (!c->w[wi].done)
                    nspawned += hand_over(c, wi);
            continue;
        }
        /* A wake that came during the round is not lost: woken stays set. */
        pthread_mutex_lock(&iw->mu);
        while (!iw->woken)
            pthread_cond_wait(&iw->cv, &iw->mu);
        iw->woken = false;
        pthread_mutex_unlock(&iw->mu);
    }
    if (nspawned == 0)
        return;
    /* A worker may still wake another's task through an exchange after
     * that task is done; joining frees a task, so the joins wait until
     * every task has finished its last exchange call (ndone). */
    pthread_mutex_lock(&c->done_mu);
    while (c->ndone < nspawned)
        pthread_cond_wait(&c->done_cv, &c->done_mu);
    pthread_mutex_unlock(&c->done_mu);
    for (uint32_t wi = 1; wi < nw; wi++)
        if (c->w[wi].task != NULL)
            rt_task_join(c->w[wi].task);
}

/* Enters s's sticky error state with rc and why's message. */
static void seg_sticky(dbsp_seg *s, ivm_rc rc, const ivm_err *why)
{
    if (s->rc != IVM_OK)
        return;
    s->rc = rc;
    if (why != NULL && why->rc != IVM_OK)
        ivm_err_set(&s->err, rc, why->line, why->col, "%s", why->msg);
    else
        ivm_err_set(&s->err, rc, 0, 0, "circuit step failed: %s", ivm_rc_str(rc));
}

/* After the join: a failed segment's error is its first worker's own (an
 * abandoning worker records none), or that of a segment it reads. */
static void seg_settle_failure(dbsp_seg *s)
{
    for (uint32_t i = 0; i < s->nnodes; i++)
        if (s->xchgs[i] != NULL)
            xchg_reset(s->xchgs[i]);
    for (uint32_t wi = 0; wi < s->circ->nworkers; wi++) {
        segw *sw = &s->w[wi];
        if (sw->rc != IVM_OK && sw->ctx.err.rc != IVM_OK) {
            seg_sticky(s, sw->rc, &sw->ctx.err);
            return;
        }
    }
    for (uint32_t l = 0; l < s->nlinks; l++) {
        const dbsp_seg *f = s->links[l].from;
        if (f->rc != IVM_OK) {
            ivm_err e;
            ivm_err_clear(&e);
            ivm_err_set(&e, f->rc, 0, 0, "an input failed: %s", f->err.msg);
            seg_sticky(s, f->rc, &e);
            return;
        }
    }
    seg_sticky(s, IVM_INTERNAL, NULL);
}

/* D11: every worker has finished the step; the outputs' deltas of every
 * segment that stepped join their contents at once, under the lock that
 * cursors take. */
static void publish(dbsp_circuit *c)
{
    pthread_mutex_lock(&c->publish_mu);
    for (uint32_t r = 0; r < c->nrun; r++) {
        dbsp_seg *s = c->run[r];
        if (s->rc != IVM_OK)
            continue;
        ivm_rc rc = IVM_OK;
        for (uint32_t i = 0; i < s->nnodes && rc == IVM_OK; i++) {
            if (s->plan->nodes[i].kind != DBSP_OUTPUT)
                continue;
            for (uint32_t wi = 0; wi < c->nworkers && rc == IVM_OK; wi++) {
                dbsp_inst *in = &s->w[wi].ctx.inst[i];
                rc = dbsp_output_publish(in->state, in->delta);
            }
        }
        if (rc != IVM_OK)
            seg_sticky(s, rc, NULL);
    }
    pthread_mutex_unlock(&c->publish_mu);
}

ivm_rc dbsp_circuit_step(dbsp_circuit *c, ivm_err *err)
{
    /* The run list: dirty segments and, in link order, every healthy
     * segment reading one that runs (D12). */
    if (ivm_grow((void **)&c->run, &c->runcap, c->nsegs + 1, sizeof *c->run) != IVM_OK)
        return ivm_err_set(err, IVM_NOMEM, 0, 0, "out of memory starting a circuit step");
    c->nrun = 0;
    for (uint32_t i = 0; i < c->nsegs; i++) {
        dbsp_seg *s = c->segs[i];
        bool run = s->dirty;
        for (uint32_t l = 0; l < s->nlinks && !run; l++)
            run = s->links[l].from->run;
        s->dirty = false;
        s->run = run && s->rc == IVM_OK;
        if (!s->run) {
            /* Its last deltas are stale now: drop them (only segments that
             * ran in the last step hold any). */
            if (s->ran_at == c->steps && s->ran_at != 0)
                seg_drop_deltas(s);
            continue;
        }
        c->run[c->nrun++] = s;
        atomic_store_explicit(&s->failing, false, memory_order_relaxed);
        for (uint32_t wi = 0; wi < c->nworkers; wi++) {
            segw *sw = &s->w[wi];
            sw->next = 0;
            sw->started = false;
            sw->rc = IVM_OK;
            sw->ctx.step = s->steps;
            ivm_err_clear(&sw->ctx.err);
        }
    }
    if (c->nrun == 0) {
        c->fed = 0;
        c->steps++;
        return IVM_OK;
    }
    for (uint32_t wi = 0; wi < c->nworkers; wi++) {
        c->w[wi].i = 0;
        c->w[wi].done = false;
        c->w[wi].task = NULL;
    }
    c->ndone = 0; /* no task runs: ordered before them by the spawns */
    /* The spawns are ordered before the tasks' reads by the scheduler's
     * queue (runtime/README.md); so is every write above. */
    step_drive(c, c->nworkers == 1 || c->fed < c->opts.solo_max);
    c->fed = 0;
    for (uint32_t r = 0; r < c->nrun; r++) {
        dbsp_seg *s = c->run[r];
        /* No waker may outlive the tasks it wakes. */
        for (uint32_t i = 0; i < s->nnodes; i++)
            if (s->xchgs[i] != NULL)
                xchg_disarm_all(s->xchgs[i]);
        if (atomic_load(&s->failing))
            seg_settle_failure(s);
    }
    publish(c);
    c->steps++;
    for (uint32_t r = 0; r < c->nrun; r++) {
        dbsp_seg *s = c->run[r];
        if (s->rc == IVM_OK) {
            s->steps++;
            s->ran_at = c->steps;
        }
    }
    return IVM_OK;
}

void dbsp_circuit_set_step_opts(dbsp_circuit *c, const dbsp_step_opts *o)
{
    c->opts = *o;
}

/* ---- Segment results ------------------------------------------------------- */

ivm_rc dbsp_seg_status(const dbsp_seg *s, ivm_err *err)
{
    if (s->rc != IVM_OK && err != NULL)
        ivm_err_set(err, s->rc, s->err.line, s->err.col, "%s", s->err.msg);
    return s->rc;
}

bool dbsp_seg_stepped(const dbsp_seg *s)
{
    return s->rc == IVM_OK && s->ran_at != 0 && s->ran_at == s->circ->steps;
}

static ivm_rc output_node(const dbsp_seg *s, dbsp_node output)
{
    if (s->rc != IVM_OK)
        return s->rc;
    const dbsp_pnode *nd = dbsp_plan_node(s->plan, output);
    return nd != NULL && nd->kind == DBSP_OUTPUT ? IVM_OK : IVM_INVALID;
}

ivm_rc dbsp_seg_delta(dbsp_seg *s, dbsp_node output, spine_batch **out)
{
    ivm_rc rc = output_node(s, output);
    if (rc != IVM_OK)
        return rc;
    dbsp_circuit *c = s->circ;
    if (!dbsp_seg_stepped(s)) { /* it did not run in the last step */
        *out = spine_batch_ref(c->empty);
        return IVM_OK;
    }
    spine_batch **parts = ivm_calloc(c->nworkers, sizeof *parts);
    if (parts == NULL)
        return IVM_NOMEM;
    size_t k = 0;
    for (uint32_t wi = 0; wi < c->nworkers; wi++) {
        spine_batch *d = s->w[wi].ctx.inst[output].delta;
        if (d != NULL)
            parts[k++] = spine_batch_ref(d);
    }
    rc = dbsp_batches_sum_take(parts, k, c->empty, out);
    ivm_free(parts);
    return rc;
}

ivm_rc dbsp_seg_cursor(dbsp_seg *s, dbsp_node output, spine_cursor **out)
{
    ivm_rc rc = output_node(s, output);
    if (rc != IVM_OK)
        return rc;
    dbsp_circuit *c = s->circ;
    const spine **spines = ivm_calloc(c->nworkers, sizeof *spines);
    if (spines == NULL)
        return IVM_NOMEM;
    const dbsp_op_vtab *vt = s->plan->nodes[output].vt;
    for (uint32_t wi = 0; wi < c->nworkers; wi++)
        spines[wi] = vt->trace(s->w[wi].ctx.inst[output].state);
    pthread_mutex_lock(&c->publish_mu);
    rc = spine_cursor_new(spines, c->nworkers, NULL, 0, out);
    pthread_mutex_unlock(&c->publish_mu);
    ivm_free(spines);
    return rc;
}

void dbsp_seg_stats(const dbsp_seg *s, spine_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t wi = 0; wi < s->circ->nworkers; wi++)
        for (uint32_t i = 0; i < s->nnodes; i++) {
            const dbsp_op_vtab *vt = s->plan->nodes[i].vt;
            if (vt->stats != NULL)
                vt->stats(s->w[wi].ctx.inst[i].state, out);
        }
}

uint32_t dbsp_circuit_segments(const dbsp_circuit *c)
{
    return c->nsegs;
}

ivm_rc dbsp_seg_compact(dbsp_seg *s)
{
    if (s->rc != IVM_OK)
        return s->rc;
    /* Between steps no worker touches a segment's operators, and the end of
     * the step ordered their writes before this thread's reads (the caller
     * waited for it), so this thread may act as every spine's owner. */
    ivm_rc rc = IVM_OK;
    for (uint32_t wi = 0; wi < s->circ->nworkers; wi++)
        for (uint32_t i = 0; i < s->nnodes; i++) {
            const dbsp_op_vtab *vt = s->plan->nodes[i].vt;
            ivm_rc r = vt->compact != NULL ? vt->compact(s->w[wi].ctx.inst[i].state) : IVM_OK;
            if (rc == IVM_OK)
                rc = r;
        }
    return rc;
}
