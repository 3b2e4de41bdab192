/*
 * host.c: a plan running on the workers of an rt_pool.  Every worker holds
 * its own instance of the whole circuit (one state per node, D6); fed
 * batches go to workers round robin; a step evaluates every node in id order
 * on every worker at once, and exchange nodes move rows between them.  It
 * does not schedule operators cooperatively or stream rows during a step:
 * that is issue "Exchange".  Here a step runs in stages separated by
 * rt_pool_run barriers, one more stage per exchange level (D5); the README's
 * "Host" section draws it.  Failures leave the host in a sticky error state.
 */
#include "dbsp_int.h"

/* One worker's circuit instance and where it is in the current step. */
typedef struct hworker {
    dbsp_ctx ctx;
    uint32_t next;            /* first node not yet evaluated this step */
    ivm_rc rc;                /* result of its last stage */
} hworker;

struct dbsp_host {
    const dbsp_plan *plan;
    rt_pool *pool;
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
        if (nd->kind != DBSP_DISTINCT && nd->kind != DBSP_JOIN && nd->kind != DBSP_AGGREGATE)
            continue;
        for (uint32_t k = 0; k < nd->nin; k++)
            if (!p->nodes[nd->in[k]].partitioned)
                return false;
    }
    return true;
}

ivm_rc dbsp_host_new(const dbsp_plan *p, rt_pool *pool, dbsp_host **out)
{
    uint32_t nw = rt_pool_size(pool);
    if (nw == 0 || (nw > 1 && !sharding_ok(p)))
        return IVM_INVALID;
    dbsp_host *h = ivm_calloc(1, sizeof *h);
    if (h == NULL)
        return IVM_NOMEM;
    h->plan = p;
    h->pool = pool;
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
        if (p->nodes[i].kind == DBSP_EXCHANGE && (rc = xchg_new(nw, &h->xchgs[i])) != IVM_OK)
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
    uint32_t wi = h->rr;
    h->rr = (h->rr + 1) % h->nworkers;
    return dbsp_input_queue_take(h->w[wi].ctx.inst[input].state, b_owned);
}

/* ---- Steps ----------------------------------------------------------------- */

/* One stage on one worker: evaluates nodes from where the worker stopped
 * until the end or an operator that must wait for the other workers
 * (IVM_PENDING, an exchange).  Runs on the worker's pool thread and touches
 * only that worker's instance, plus the exchanges (X1). */
static ivm_rc stage_run(void *arg, uint32_t wi)
{
    dbsp_host *h = arg;
    hworker *w = &h->w[wi];
    dbsp_ctx *c = &w->ctx;
    ivm_rc rc = IVM_OK;
    while (w->next < h->nnodes) {
        dbsp_node n = w->next;
        const dbsp_pnode *nd = &h->plan->nodes[n];
        spine_batch *out = NULL;
        rc = nd->vt->eval(c, n, c->inst[n].state, &out);
        /* D7: scratch holds nothing past the node that made it. */
        rt_arena_reset(&c->scratch);
        if (rc == IVM_PENDING) {
            rc = IVM_OK;
            break;
        }
        if (rc != IVM_OK) {
            ivm_err_set(&c->err, rc, 0, 0, "%s node %u failed: %s", nd->vt->name,
                        (unsigned)n, ivm_rc_str(rc));
            break;
        }
        IVM_ASSERT(out != NULL); /* D10 */
        c->inst[n].delta = out;
        w->next++;
    }
    w->rc = rc;
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
    }
    /* D5: each rt_pool_run is a stage; its return is the barrier after
     * which every exchange's senders have flushed (X2). */
    for (;;) {
        uint64_t before = 0, after = 0;
        for (uint32_t wi = 0; wi < h->nworkers; wi++)
            before += h->w[wi].next;
        ivm_rc rc = rt_pool_run(h->pool, stage_run, h);
        if (rc != IVM_OK) {
            const ivm_err *why = NULL;
            for (uint32_t wi = 0; wi < h->nworkers && why == NULL; wi++)
                if (h->w[wi].rc != IVM_OK)
                    why = &h->w[wi].ctx.err;
            host_fail(h, rc, why);
            return sticky(h, err);
        }
        bool done = true;
        for (uint32_t wi = 0; wi < h->nworkers; wi++) {
            after += h->w[wi].next;
            done = done && h->w[wi].next == h->nnodes;
        }
        if (done)
            break;
        if (after == before) {
            host_fail(h, IVM_INTERNAL, NULL);
            ivm_err_reset(&h->err, IVM_INTERNAL, 0, 0,
                          "circuit step made no progress: an exchange waits forever");
            return sticky(h, err);
        }
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
    rc = spine_cursor_new(spines, h->nworkers, NULL, 0, out);
    ivm_free(spines);
    return rc;
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
