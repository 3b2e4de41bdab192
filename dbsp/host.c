/*
 * host.c: a plan running on the workers of an rt_sched.  Every worker holds
 * its own instance of the whole circuit (one state per node, D6); fed
 * batches go to workers round robin.  A step is one task per worker that
 * evaluates every node in id order; an operator that must wait (an exchange
 * whose peers have not flushed, a full queue, a spine over its backpressure
 * threshold) returns IVM_PENDING with the worker's waker registered, the
 * task returns RT_PENDING, and the worker runs other tasks or sleeps until
 * woken (D5).  When every task is done the host publishes the outputs'
 * deltas, so a commit becomes visible on all workers at once (D11); the
 * README's "Host" section draws it.  Failures leave the host in a sticky
 * error state.
 */
#include "dbsp_int.h"

#include <pthread.h>
#include <stdatomic.h>

/* One worker's circuit instance and where it is in the current step. */
typedef struct hworker {
    dbsp_ctx ctx;
    dbsp_host *host;
    uint32_t next;            /* first node not yet evaluated this step */
    ivm_rc rc;                /* result of the step on this worker */
    rt_task *task;            /* the step's task, between spawn and join */
} hworker;

struct dbsp_host {
    const dbsp_plan *plan;
    rt_sched *sched;
    pthread_mutex_t publish_mu; /* D11: publishing vs. taking cursors */
    atomic_bool failing;      /* a worker failed this step: the rest stop */
    uint32_t nworkers;
    uint32_t nnodes;
    hworker *w;
    xchg **xchgs;             /* one per node, non-NULL at exchanges */
    spine_batch *empty;
    uint32_t rr;              /* next worker to feed */
    uint64_t steps;           /* steps completed */
    ivm_rc rc;                /* sticky: the first failure */
    ivm_err err;
};

/* ---- Helpers shared by the operators ------------------------------------- */

ivm_rc dbsp_ctx_build(dbsp_ctx *c, ivm_rc rc, spine_batch **out)
{
    if (rc == IVM_OK)
        rc = spine_builder_finish(&c->bld, out);
    else
        spine_builder_clear(&c->bld);
    spine_builder_set_sorted(&c->bld, false);
    return rc;
}

ivm_rc dbsp_row_decode(dbsp_ctx *c, const uint8_t *row, size_t len, uint32_t ncols,
                       ivm_value *vals)
{
    int got = spine_row_decode(row, len, vals, ncols);
    /* D1: an entry is the whole row; a shorter or longer one is corrupt. */
    if (got != (int)ncols || spine_row_prefix_len(row, len, ncols) != len)
        return ivm_err_set(&c->err, IVM_CORRUPT, 0, 0,
                           "a row does not hold the %u columns its node has", (unsigned)ncols);
    return IVM_OK;
}

ivm_rc dbsp_batches_sum_take(spine_batch **bs, size_t n, spine_batch *empty, spine_batch **out)
{
    /* Empty batches add nothing. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (bs[i] == NULL || bs[i]->n == 0)
            spine_batch_unref(bs[i]);
        else
            bs[m++] = bs[i];
    }
    n = m;
    if (n == 0) {
        *out = spine_batch_ref(empty);
        return IVM_OK;
    }
    /* Pairwise rounds: every entry is merged O(log n) times. */
    while (n > 1) {
        m = 0;
        for (size_t i = 0; i < n; i += 2) {
            if (i + 1 == n) {
                bs[m++] = bs[i];
                break;
            }
            spine_batch *sum = NULL;
            ivm_rc rc = spine_batch_merge(bs[i], bs[i + 1], &sum);
            spine_batch_unref(bs[i]);
            spine_batch_unref(bs[i + 1]);
            if (rc != IVM_OK) {
                for (size_t k = 0; k < m; k++)
                    spine_batch_unref(bs[k]);
                for (size_t k = i + 2; k < n; k++)
                    spine_batch_unref(bs[k]);
                return rc;
            }
            bs[m++] = sum;
        }
        n = m;
    }
    *out = bs[0];
    return IVM_OK;
}

/* ---- Creation -------------------------------------------------------------- */

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

ivm_rc dbsp_host_new(const dbsp_plan *p, rt_sched *sched, dbsp_host **out)
{
    uint32_t nw = rt_sched_size(sched);
    if (nw == 0 || (nw > 1 && !sharding_ok(p)))
        return IVM_INVALID;
    dbsp_host *h = ivm_calloc(1, sizeof *h);
    if (h == NULL)
        return IVM_NOMEM;
    h->plan = p;
    h->sched = sched;
    pthread_mutex_init(&h->publish_mu, NULL);
    atomic_init(&h->failing, false);
    h->nworkers = nw;
    h->nnodes = p->n;
    ivm_rc rc = IVM_NOMEM;
    spine_builder eb;
    spine_builder_init(&eb);
    rc = spine_builder_finish(&eb, &h->empty);
    spine_builder_fini(&eb);
    if (rc != IVM_OK)
        goto fail;
    rc = IVM_NOMEM;
    h->w = ivm_calloc(nw, sizeof *h->w);
    if (h->w == NULL)
        goto fail;
    /* Every context is made whole first, so that freeing after a failure
     * below finds nothing half-initialised but operator states (whose fini
     * copes with a zeroed state). */
    for (uint32_t wi = 0; wi < nw; wi++) {
        dbsp_ctx *c = &h->w[wi].ctx;
        h->w[wi].host = h;
        c->plan = p;
        c->worker = wi;
        c->nworkers = nw;
        c->empty = h->empty;
        rt_arena_init(&c->scratch);
        spine_builder_init(&c->bld);
        ivm_err_clear(&c->err);
    }
    h->xchgs = ivm_calloc(p->n + 1, sizeof *h->xchgs);
    if (h->xchgs == NULL)
        goto fail;
    for (uint32_t wi = 0; wi < nw; wi++)
        h->w[wi].ctx.xchgs = h->xchgs;
    for (uint32_t i = 0; i < p->n; i++)
        if (p->nodes[i].kind == DBSP_EXCHANGE && (rc = xchg_new(nw, 0, &h->xchgs[i])) != IVM_OK)
            goto fail;
    for (uint32_t wi = 0; wi < nw; wi++) {
        dbsp_ctx *c = &h->w[wi].ctx;
        c->inst = ivm_calloc(p->n + 1, sizeof *c->inst);
        if (c->inst == NULL) {
            rc = IVM_NOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < p->n; i++) {
            const dbsp_op_vtab *vt = p->nodes[i].vt;
            c->inst[i].state = ivm_calloc(1, vt->state_size ? vt->state_size : 1);
            if (c->inst[i].state == NULL) {
                rc = IVM_NOMEM;
                goto fail;
            }
            if ((rc = vt->init(c, i, c->inst[i].state)) != IVM_OK)
                goto fail;
        }
    }
    *out = h;
    return IVM_OK;
fail:
    dbsp_host_free(h);
    return rc;
}

void dbsp_host_free(dbsp_host *h)
{
    if (h == NULL)
        return;
    for (uint32_t wi = 0; h->w != NULL && wi < h->nworkers; wi++) {
        dbsp_ctx *c = &h->w[wi].ctx;
        for (uint32_t i = 0; c->inst != NULL && i < h->nnodes; i++) {
            if (c->inst[i].state != NULL) {
                h->plan->nodes[i].vt->fini(c->inst[i].state);
                ivm_free(c->inst[i].state);
            }
            spine_batch_unref(c->inst[i].delta);
        }
        ivm_free(c->inst);
        spine_builder_fini(&c->bld);
        rt_arena_fini(&c->scratch);
    }
    ivm_free(h->w);
    for (uint32_t i = 0; h->xchgs != NULL && i < h->nnodes; i++)
        xchg_free(h->xchgs[i]);
    ivm_free(h->xchgs);
    spine_batch_unref(h->empty);
    pthread_mutex_destroy(&h->publish_mu);
    ivm_free(h);
}

/* ---- Errors ---------------------------------------------------------------- */

/* Enters the sticky state with rc and the message of the failing worker. */
static ivm_rc host_fail(dbsp_host *h, ivm_rc rc, const ivm_err *why)
{
    if (h->rc != IVM_OK)
        return h->rc;
    h->rc = rc;
    if (why != NULL && why->rc != IVM_OK)
        ivm_err_set(&h->err, rc, why->line, why->col, "%s", why->msg);
    else
        ivm_err_set(&h->err, rc, 0, 0, "circuit step failed: %s", ivm_rc_str(rc));
    return rc;
}

static ivm_rc sticky(dbsp_host *h, ivm_err *err)
{
    ivm_err_set(err, h->rc, h->err.line, h->err.col, "%s", h->err.msg);
    return h->rc;
}

/* ---- Feeding --------------------------------------------------------------- */

/* A fed batch of at least this many entries per worker is sliced (D6). */
#define FEED_SLICE_MIN 1024

/* D1: every row of the batch has the node's columns, and klen covers exactly
 * its key columns. */
static bool batch_fits(const spine_batch *b, uint32_t ncols, uint32_t nkey)
{
    for (size_t i = 0; i < b->n; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(b, i, &len);
        if (spine_row_prefix_len(row, len, ncols) != len ||
            spine_row_prefix_len(row, len, nkey) != b->klen[i])
            return false;
        if (ncols > 0 && len == 0)
            return false;
    }
    return true;
}

ivm_rc dbsp_host_feed_take(dbsp_host *h, dbsp_node input, spine_batch *b_owned)
{
    if (h->rc != IVM_OK) {
        spine_batch_unref(b_owned);
        return h->rc;
    }
    const dbsp_pnode *nd = dbsp_plan_node(h->plan, input);
    if (b_owned == NULL || nd == NULL || nd->kind != DBSP_INPUT ||
        !batch_fits(b_owned, nd->ncols, nd->nkey)) {
        spine_batch_unref(b_owned);
        return IVM_INVALID;
    }
    /* D6: a big batch is cut into one contiguous slice per worker, so that
     * every worker runs its share of the stages before the first exchange;
     * a small one goes whole to the next worker in turn. */
    const spine_batch *b = b_owned;
    uint32_t k = h->nworkers;
    if (k > 1 && b->n >= (size_t)k * FEED_SLICE_MIN) {
        ivm_rc rc = IVM_OK;
        spine_builder bl;
        spine_builder_init(&bl);
        for (uint32_t part = 0; part < k && rc == IVM_OK; part++) {
            size_t lo = b->n * part / k, hi = b->n * (part + 1) / k;
            spine_builder_set_sorted(&bl, true); /* a run of a sorted batch */
            for (size_t i = lo; i < hi && rc == IVM_OK; i++) {
                size_t len;
                const uint8_t *row = spine_batch_row(b, i, &len);
                rc = spine_builder_push(&bl, row, b->klen[i], row + b->klen[i],
                                        len - b->klen[i], b->w[i]);
            }
            spine_batch *slice = NULL;
            if (rc == IVM_OK)
                rc = spine_builder_finish(&bl, &slice);
            uint32_t wi = h->rr;
            h->rr = (h->rr + 1) % h->nworkers;
            if (rc == IVM_OK)
                rc = dbsp_input_queue_take(h->w[wi].ctx.inst[input].state, slice);
        }
        spine_builder_fini(&bl);
        spine_batch_unref(b_owned);
        return rc;
    }
    uint32_t wi = h->rr;
    h->rr = (h->rr + 1) % h->nworkers;
    return dbsp_input_queue_take(h->w[wi].ctx.inst[input].state, b_owned);
}

/* ---- Steps ----------------------------------------------------------------- */

/* Wakes every worker that may wait on an exchange, so that after a failure
 * they see `failing` and stop instead of waiting for the failed worker's
 * flush. */
static void wake_all(dbsp_host *h)
{
    for (uint32_t i = 0; i < h->nnodes; i++)
        if (h->xchgs[i] != NULL)
            xchg_wake_all(h->xchgs[i]);
}

/* A worker's step: evaluates nodes from where it stopped until the end or
 * an operator that must wait.  Runs on the worker's thread and touches only
 * that worker's instance, plus the exchanges (X1). */
static rt_poll step_poll(void *arg, rt_task *self)
{
    hworker *w = arg;
    dbsp_host *h = w->host;
    dbsp_ctx *c = &w->ctx;
    c->waker = rt_task_waker(self);
    while (w->next < h->nnodes) {
        if (atomic_load_explicit(&h->failing, memory_order_acquire)) {
            w->rc = IVM_INTERNAL; /* abandoned; the failing worker reports */
            return RT_DONE;
        }
        dbsp_node n = w->next;
        const dbsp_pnode *nd = &h->plan->nodes[n];
        spine_batch *out = NULL;
        ivm_rc rc = nd->vt->eval(c, n, c->inst[n].state, &out);
        /* D7: scratch holds nothing past the node that made it. */
        rt_arena_reset(&c->scratch);
        if (rc == IVM_PENDING)
            return RT_PENDING;
        if (rc != IVM_OK) {
            ivm_err_set(&c->err, rc, 0, 0, "%s node %u failed: %s", nd->vt->name,
                        (unsigned)n, ivm_rc_str(rc));
            w->rc = rc;
            atomic_store_explicit(&h->failing, true, memory_order_release);
            wake_all(h);
            return RT_DONE;
        }
        IVM_ASSERT(out != NULL); /* D10 */
        c->inst[n].delta = out;
        w->next++;
    }
    w->rc = IVM_OK;
    return RT_DONE;
}

/* D11: every worker has finished the step; its outputs' deltas join their
 * contents at once, under the lock that cursors take. */
static ivm_rc publish(dbsp_host *h)
{
    ivm_rc rc = IVM_OK;
    pthread_mutex_lock(&h->publish_mu);
    for (uint32_t i = 0; i < h->nnodes && rc == IVM_OK; i++) {
        if (h->plan->nodes[i].kind != DBSP_OUTPUT)
            continue;
        for (uint32_t wi = 0; wi < h->nworkers && rc == IVM_OK; wi++) {
            dbsp_inst *in = &h->w[wi].ctx.inst[i];
            rc = dbsp_output_publish(in->state, in->delta);
        }
    }
    pthread_mutex_unlock(&h->publish_mu);
    return rc;
}

ivm_rc dbsp_host_step(dbsp_host *h, ivm_err *err)
{
    if (h->rc != IVM_OK)
        return sticky(h, err);
    /* Last step's deltas go; outputs' deltas were readable until now. */
    for (uint32_t wi = 0; wi < h->nworkers; wi++) {
        hworker *w = &h->w[wi];
        for (uint32_t i = 0; i < h->nnodes; i++) {
            spine_batch_unref(w->ctx.inst[i].delta);
            w->ctx.inst[i].delta = NULL;
        }
        w->next = 0;
        w->rc = IVM_OK;
        w->ctx.step = h->steps;
        w->task = NULL;
    }
    atomic_store(&h->failing, false);
    ivm_rc rc = IVM_OK;
    for (uint32_t wi = 0; wi < h->nworkers && rc == IVM_OK; wi++)
        rc = rt_task_spawn(h->sched, wi, step_poll, &h->w[wi], &h->w[wi].task);
    if (rc != IVM_OK) {
        atomic_store(&h->failing, true);
        wake_all(h);
    }
    for (uint32_t wi = 0; wi < h->nworkers; wi++)
        if (h->w[wi].task != NULL)
            rt_task_join(h->w[wi].task);
    /* No waker may outlive the tasks it wakes. */
    for (uint32_t i = 0; i < h->nnodes; i++)
        if (h->xchgs[i] != NULL)
            xchg_disarm_all(h->xchgs[i]);
    if (rc != IVM_OK) {
        host_fail(h, rc, NULL);
        return sticky(h, err);
    }
    const ivm_err *why = NULL;
    for (uint32_t wi = 0; wi < h->nworkers; wi++) {
        hworker *w = &h->w[wi];
        if (w->rc != IVM_OK && w->ctx.err.rc != IVM_OK && why == NULL) {
            why = &w->ctx.err;
            rc = w->rc;
        }
    }
    if (why != NULL) {
        for (uint32_t i = 0; i < h->nnodes; i++)
            if (h->xchgs[i] != NULL)
                xchg_reset(h->xchgs[i]);
        host_fail(h, rc, why);
        return sticky(h, err);
    }
    if ((rc = publish(h)) != IVM_OK) {
        host_fail(h, rc, NULL);
        return sticky(h, err);
    }
    h->steps++;
    return IVM_OK;
}

/* ---- Reading outputs ------------------------------------------------------- */

static ivm_rc output_node(dbsp_host *h, dbsp_node output)
{
    if (h->rc != IVM_OK)
        return h->rc;
    const dbsp_pnode *nd = dbsp_plan_node(h->plan, output);
    return nd != NULL && nd->kind == DBSP_OUTPUT ? IVM_OK : IVM_INVALID;
}

ivm_rc dbsp_host_delta(dbsp_host *h, dbsp_node output, spine_batch **out)
{
    ivm_rc rc = output_node(h, output);
    if (rc != IVM_OK)
        return rc;
    spine_batch **parts = ivm_calloc(h->nworkers, sizeof *parts);
    if (parts == NULL)
        return IVM_NOMEM;
    size_t k = 0;
    for (uint32_t wi = 0; wi < h->nworkers; wi++) {
        spine_batch *d = h->w[wi].ctx.inst[output].delta;
        if (d != NULL)
            parts[k++] = spine_batch_ref(d);
    }
    rc = dbsp_batches_sum_take(parts, k, h->empty, out);
    ivm_free(parts);
    return rc;
}

ivm_rc dbsp_host_cursor(dbsp_host *h, dbsp_node output, spine_cursor **out)
{
    ivm_rc rc = output_node(h, output);
    if (rc != IVM_OK)
        return rc;
    const spine **spines = ivm_calloc(h->nworkers, sizeof *spines);
    if (spines == NULL)
        return IVM_NOMEM;
    const dbsp_op_vtab *vt = h->plan->nodes[output].vt;
    for (uint32_t wi = 0; wi < h->nworkers; wi++)
        spines[wi] = vt->trace(h->w[wi].ctx.inst[output].state);
    pthread_mutex_lock(&h->publish_mu);
    rc = spine_cursor_new(spines, h->nworkers, NULL, 0, out);
    pthread_mutex_unlock(&h->publish_mu);
    ivm_free(spines);
    return rc;
}

ivm_rc dbsp_host_compact(dbsp_host *h)
{
    if (h->rc != IVM_OK)
        return h->rc;
    /* Between steps no worker touches its operators' state, and the step's
     * end ordered their writes before this thread's reads (the engine
     * waited for it), so this thread may act as every spine's owner. */
    ivm_rc rc = IVM_OK;
    for (uint32_t wi = 0; wi < h->nworkers; wi++)
        for (uint32_t i = 0; i < h->nnodes; i++) {
            const dbsp_op_vtab *vt = h->plan->nodes[i].vt;
            ivm_rc r = vt->compact != NULL ? vt->compact(h->w[wi].ctx.inst[i].state) : IVM_OK;
            if (rc == IVM_OK)
                rc = r;
        }
    return rc;
}

void dbsp_stats_add(spine_stats *acc, const spine_stats *st)
{
    acc->rows += st->rows;
    acc->bytes += st->bytes;
    acc->batches += st->batches;
    for (unsigned l = 0; l < SPINE_MAX_LEVELS; l++)
        acc->level_batches[l] += st->level_batches[l];
    acc->pending += st->pending;
    acc->merges += st->merges;
    acc->merge_rows += st->merge_rows;
    acc->waits += st->waits;
    acc->wait_ns += st->wait_ns;
}

void dbsp_host_stats(dbsp_host *h, spine_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t wi = 0; wi < h->nworkers; wi++)
        for (uint32_t i = 0; i < h->nnodes; i++) {
            const dbsp_op_vtab *vt = h->plan->nodes[i].vt;
            if (vt->stats != NULL)
                vt->stats(h->w[wi].ctx.inst[i].state, out);
        }
}
