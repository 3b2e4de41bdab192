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
 * A step crosses an exchange in phases; eval returns IVM_PENDING wherever
 * the exchange would have to wait (a full queue, a peer that has not
 * flushed), with the worker's waker registered, and resumes there when
 * called again (D5):
 *
 *   IDLE --send d in--> SENDING --outbox empty--> FLUSHING --markers queued-->
 *   COLLECTING --every peer's marker--> IDLE (d out = this worker's shard)
 *
 * The host polls the worker again when the waker fires; meanwhile the worker
 * runs other tasks or sleeps.
 */
#include "dbsp_int.h"

typedef enum exchange_phase {
    EXCHANGE_IDLE = 0,        /* nothing sent this step */
    EXCHANGE_SENDING,         /* pieces wait in the outbox */
    EXCHANGE_FLUSHING,        /* flush markers not all queued */
    EXCHANGE_COLLECTING       /* waiting for every peer's marker */
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
    ivm_rc rc = IVM_OK;
    switch (s->phase) {
    case EXCHANGE_IDLE:
        rc = xchg_send_take(x, c->worker, spine_batch_ref(dbsp_ctx_in(c, n, 0)), c->waker);
        s->phase = EXCHANGE_SENDING;
        break;
    case EXCHANGE_SENDING:
        rc = xchg_send_poll(x, c->worker, c->waker);
        break;
    default:
        break;
    }
    if (rc != IVM_OK)
        return rc;
    if (s->phase == EXCHANGE_SENDING)
        s->phase = EXCHANGE_FLUSHING;
    if (s->phase == EXCHANGE_FLUSHING) {
        if ((rc = xchg_flush(x, c->worker, c->waker)) != IVM_OK)
            return rc;
        s->phase = EXCHANGE_COLLECTING;
    }
    rc = xchg_collect(x, c->worker, c->waker, out);
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
