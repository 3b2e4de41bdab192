/*
 * limit.c: the engine's memory limit.  The memory counted is what the
 * runtime accounts (rt_mem_used: every spine batch and builder buffer of
 * the process, which is where tables, indexes, views' state and staged
 * changes live).  Over the limit, statements and pushes that would add data
 * are refused before they start and the open transaction is rolled back,
 * which frees what it staged; reads, DELETE, DROP and COMMIT still run, so
 * a user can get back under it.  The check is one relaxed load per
 * statement or push.  It does not cap memory: a statement that starts
 * under the limit runs to its end.  See sql/README.md (the memory limit,
 * M1).
 */
#include "engine_int.h"

static bool adds_data(plan_skind kind)
{
    switch (kind) {
    case PLAN_S_CREATE_TABLE:
    case PLAN_S_CREATE_VIEW:
    case PLAN_S_CREATE_INDEX:
    case PLAN_S_INSERT:
    case PLAN_S_UPDATE:
        return true;
    default:
        return false;
    }
}

/* Refuses with IVM_NOMEM when over the limit, rolling back the open
 * transaction (keeps M1: what was refused changed nothing, and a
 * transaction is never left half-applied). */
static ivm_rc over_limit(ivm_db *db, uint32_t line, uint32_t col, ivm_err *err)
{
    uint64_t used = rt_mem_used();
    if (db->mem_limit == 0 || used <= db->mem_limit)
        return IVM_OK;
    bool had_txn = db->in_txn;
    if (had_txn)
        ivm_rollback(db);
    IVM_UNUSED(line);
    IVM_UNUSED(col);
    /* No position: the statement is fine, the engine is full. */
    return ivm_err_set(err, IVM_NOMEM, 0, 0,
                       "memory limit exceeded: %llu bytes in use, limit %llu%s",
                       (unsigned long long)used, (unsigned long long)db->mem_limit,
                       had_txn ? "; the transaction was rolled back" : "");
}

ivm_rc limit_check_stmt(ivm_db *db, const plan_stmt *st, ivm_err *err)
{
    if (db->mem_limit == 0 || !adds_data(st->kind))
        return IVM_OK;
    return over_limit(db, st->pos.line, st->pos.col, err);
}

ivm_rc limit_check_push(ivm_db *db, ivm_err *err)
{
    if (db->mem_limit == 0)
        return IVM_OK;
    return over_limit(db, 0, 0, err);
}

void limit_after_commit(ivm_db *db)
{
    if (db->mem_limit == 0 || rt_mem_used() <= db->mem_limit)
        return;
    /* A delete adds a batch of negative weights that cancels rows only
     * when a merge meets them; over the limit, the tables' spines (and
     * their UNIQUE indexes) and the views' operator spines are merged at
     * once so that deleting frees memory now.  O(state) per commit, only
     * while over the limit. */
    for (size_t i = 0; i < db->nrels; i++) {
        table *t = db->rels[i].t;
        if (t == NULL)
            continue;
        spine_compact(t->data);
        for (uint32_t k = 0; k < t->nuniqs; k++)
            spine_compact(t->uniqs[k].data);
    }
    /* The views' operator state likewise: the circuit is between steps. */
    for (size_t i = 0; i < db->nrels; i++) {
        view *v = db->rels[i].v;
        if (v != NULL && v->seg != NULL && v->broken == IVM_OK)
            dbsp_seg_compact(v->seg);
    }
}

uint64_t ivm_memory_used(const ivm_db *db)
{
    IVM_UNUSED(db);
    return rt_mem_used();
}

uint64_t ivm_memory_limit(ivm_db *db, int64_t limit)
{
    uint64_t old = db->mem_limit;
    if (limit >= 0)
        db->mem_limit = (uint64_t)limit;
    return old;
}
