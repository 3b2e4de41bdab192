/*
 * op_exchange.c: shard_accumulate, placed before every stateful operator so
 * that all rows with one key meet on the worker that owns the key.
 *
 *   out[w] = sum over workers v of { (r, x) in in[v] : owner(key(r)) = w }
 *
 * so that, summed over workers, out = in: the exchange is the identity on the
 * Z-set and only moves rows (linear).  Per step: O(|d in|) to split and send,
 * O(|d out| log N) to merge what N senders sent.  State: where the step is
 * (below); the rows in flight live in the exchange module (exchange/README.md).
 *
 * A step crosses an exchange in two calls to eval (D5):
 *
 *   IDLE --eval: send d in, flush--> SENT --eval: collect--> IDLE
 *                                     |  (IVM_PENDING: other workers have not
 *                                     |   flushed yet; the host calls again
 *                                     |   after its next barrier)
 *
 * With one worker the collect follows the flush at once.  With more, the
 * first eval always returns IVM_PENDING, so that every receiver collects only
 * after rt_pool_run has returned for all senders (X2); issue "Exchange"
 * replaces this with bounded queues that stream during the step.
 */
#include "dbsp_int.h"

typedef enum exchange_phase {
    EXCHANGE_IDLE = 0,        /* nothing sent this step */
    EXCHANGE_SENT             /* sent and flushed; collect pending */
} exchange_phase;

typedef struct exchange_state {
    exchange_phase phase;
} exchange_state;

ivm_rc dbsp_plan_exchange(dbsp_plan *p, dbsp_node in, dbsp_node *out)
{
    const dbsp_pnode *src = dbsp_plan_node(p, in);
    if (src == NULL)
        return IVM_INVALID;
    dbsp_pnode nd = {.kind = DBSP_EXCHANGE, .vt = &dbsp_op_exchange_vt, .ncols = src->ncols,
                     .nkey = src->nkey, .nin = 1, .in = {in}, .partitioned = true};
    return dbsp_plan_add(p, &nd, out);
}

static ivm_rc exchange_init(dbsp_ctx *c, dbsp_node n, void *state)
{
    IVM_UNUSED(state);
    return c->xchgs[n] != NULL ? IVM_OK : IVM_INTERNAL;
}

static ivm_rc exchange_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out)
{
    exchange_state *s = state;
    xchg *x = c->xchgs[n];
    ivm_rc rc;
    if (s->phase == EXCHANGE_IDLE) {
        spine_batch *in = dbsp_ctx_in(c, n, 0);
        if ((rc = xchg_send_take(x, c->worker, spine_batch_ref(in))) != IVM_OK)
            return rc;
        if ((rc = xchg_flush(x, c->worker)) != IVM_OK)
            return rc;
        s->phase = EXCHANGE_SENT;
        if (c->nworkers > 1)
            return IVM_PENDING;
    }
    rc = xchg_collect(x, c->worker, out);
    if (rc == IVM_OK)
        s->phase = EXCHANGE_IDLE;
    return rc;
}

static void exchange_fini(void *state)
{
    IVM_UNUSED(state);
}

const dbsp_op_vtab dbsp_op_exchange_vt = {
    .name = "exchange",
    .state_desc = "rows in flight between workers during a step",
    .state_size = sizeof(exchange_state),
    .init = exchange_init,
    .eval = exchange_eval,
    .trace = NULL,
    .stats = NULL,
    .fini = exchange_fini,
};
