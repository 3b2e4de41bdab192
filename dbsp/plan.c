/*
 * plan.c: the immutable operator graph a host instantiates: node storage
 * and accessors (EXPLAIN and DOT output are in explain.c).  Each operator's
 * constructor (dbsp_plan_filter, ...) lives in its own op_<name>.c, next to
 * the code that runs it, and checks the shapes it needs; this file only
 * stores what they built.  Node ids are indexes, inputs always precede their readers, so the
 * id order is the evaluation order (D3).  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

dbsp_plan *dbsp_plan_new(void)
{
    return ivm_calloc(1, sizeof(dbsp_plan));
}

static void pnode_fini(dbsp_pnode *nd)
{
    dbsp_exprs_free(nd->exprs, nd->nexprs);
    ivm_free(nd->exprs);
    ivm_free(nd->aggs);
}

void dbsp_plan_free(dbsp_plan *p)
{
    if (p == NULL)
        return;
    for (uint32_t i = 0; i < p->n; i++)
        pnode_fini(&p->nodes[i]);
    ivm_free(p->nodes);
    ivm_free(p);
}

const dbsp_pnode *dbsp_plan_node(const dbsp_plan *p, dbsp_node n)
{
    return n < p->n ? &p->nodes[n] : NULL;
}

ivm_rc dbsp_plan_add(dbsp_plan *p, const dbsp_pnode *proto, dbsp_node *out)
{
    dbsp_pnode nd = *proto;
    nd.exprs = NULL;
    nd.aggs = NULL;
    if (p->n == UINT32_MAX)
        goto fail;
    if (ivm_grow((void **)&p->nodes, &p->cap, (size_t)p->n + 1, sizeof *p->nodes) != IVM_OK)
        goto fail;
    if (proto->nexprs > 0) {
        nd.exprs = ivm_malloc(sizeof *nd.exprs * proto->nexprs);
        if (nd.exprs == NULL)
            goto fail;
        memcpy(nd.exprs, proto->exprs, sizeof *nd.exprs * proto->nexprs);
        nd.nmemo = dbsp_exprs_share(nd.exprs, nd.nexprs);
    }
    if (proto->naggs > 0) {
        nd.aggs = ivm_malloc(sizeof *nd.aggs * proto->naggs);
        if (nd.aggs == NULL) {
            ivm_free(nd.exprs);
            goto fail;
        }
        memcpy(nd.aggs, proto->aggs, sizeof *nd.aggs * proto->naggs);
    }
    p->nodes[p->n] = nd;
    *out = p->n++;
    return IVM_OK;
fail:
    dbsp_exprs_free(proto->exprs, proto->nexprs);
    return IVM_NOMEM;
}

uint32_t dbsp_plan_nodes(const dbsp_plan *p)
{
    return p->n;
}

dbsp_kind dbsp_plan_kind(const dbsp_plan *p, dbsp_node n)
{
    return n < p->n ? p->nodes[n].kind : DBSP_KIND_COUNT_;
}

uint32_t dbsp_plan_ncols(const dbsp_plan *p, dbsp_node n)
{
    return n < p->n ? p->nodes[n].ncols : 0;
}

uint32_t dbsp_plan_nkey(const dbsp_plan *p, dbsp_node n)
{
    return n < p->n ? p->nodes[n].nkey : 0;
}
