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
    dbsp_expr_free(nd->where);
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
    nd.where = NULL; /* only dbsp_plan_fuse makes one */
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

uint32_t dbsp_plan_join_nkey(const dbsp_plan *p, dbsp_node n)
{
    if (n >= p->n || p->nodes[n].kind != DBSP_JOIN)
        return 0;
    return p->nodes[p->nodes[n].in[0]].nkey;
}

bool dbsp_plan_sharded(const dbsp_plan *p, dbsp_node n)
{
    return n < p->n && p->nodes[n].partitioned;
}

/* ---- Fusing stateless chains -------------------------------------------- */

/* e with every column j replaced by a copy of with[j] (NULL: out of
 * memory). */
static dbsp_expr *subst(const dbsp_expr *e, dbsp_expr *const *with)
{
    if (e->op == DBSP_X_COL)
        return dbsp_expr_dup(with[e->col]);
    dbsp_expr *d = dbsp_expr_dup(e);
    if (d == NULL)
        return NULL;
    for (uint32_t i = 0; i < d->nargs; i++) {
        dbsp_expr *a = subst(e->args[i], with);
        if (a == NULL) {
            dbsp_expr_free(d);
            return NULL;
        }
        dbsp_expr_free(d->args[i]);
        d->args[i] = a;
    }
    return d;
}

/* A node as "the rows of in for which pred holds, as exprs": a filter has
 * no exprs (its rows as they are), a map may have no pred. */
typedef struct stage {
    bool map;
    dbsp_expr *pred;
    dbsp_expr **exprs;
} stage;

static stage stage_of(const dbsp_pnode *nd)
{
    if (nd->kind == DBSP_FILTER)
        return (stage){false, nd->exprs[0], NULL};
    return (stage){true, nd->where, nd->exprs};
}

/* Makes outer (reading inner, which nothing else reads or which only moves
 * columns, and one of them a map) one map over inner's input that computes both: where = inner's
 * predicate, or CASE WHEN inner's THEN outer's over inner's row ELSE 0 END
 * (outer's predicate still meets only the rows inner passes, so it raises
 * no error the chain would not have), exprs = outer's over inner's.
 * Inner is left for dbsp_plan_fuse to drop.  False when it cannot (out of
 * memory, or the map would lose the sharding outer had): nothing changes
 * then. */
static bool fuse_pair(dbsp_plan *p, dbsp_node outer, dbsp_node inner)
{
    dbsp_pnode *o = &p->nodes[outer];
    const dbsp_pnode *i = &p->nodes[inner];
    const dbsp_pnode *src = &p->nodes[i->in[0]];
    stage so = stage_of(o), si = stage_of(i);
    uint32_t ne = so.map ? o->nexprs : i->nexprs;
    dbsp_expr *pred = NULL;
    /* One more slot: where joins exprs while shared parts are numbered. */
    dbsp_expr **exprs = ivm_calloc(ne + 1, sizeof *exprs);
    bool ok = exprs != NULL;
    for (uint32_t k = 0; k < ne && ok; k++) {
        exprs[k] = !so.map   ? dbsp_expr_dup(si.exprs[k])
                   : !si.map ? dbsp_expr_dup(so.exprs[k])
                             : subst(so.exprs[k], si.exprs);
        ok = exprs[k] != NULL;
    }
    if (ok && so.pred != NULL) {
        pred = !si.map ? dbsp_expr_dup(so.pred) : subst(so.pred, si.exprs);
        if (pred != NULL && si.pred != NULL) {
            ivm_value zero = ivm_value_int(0);
            dbsp_expr *c[3] = {dbsp_expr_dup(si.pred), pred, dbsp_expr_const(&zero)};
            pred = dbsp_expr_op(DBSP_X_CASE, IVM_TINT, 3, c);
        }
        ok = pred != NULL;
    } else if (ok && si.pred != NULL) {
        pred = dbsp_expr_dup(si.pred);
        ok = pred != NULL;
    }
    bool sharded = ok && dbsp_map_keeps_key(src, exprs, o->nkey);
    if (!ok || (o->partitioned && !sharded)) {
        dbsp_expr_free(pred);
        if (exprs != NULL)
            dbsp_exprs_free(exprs, ne);
        ivm_free(exprs);
        return false;
    }
    dbsp_expr_free(o->where);
    dbsp_exprs_free(o->exprs, o->nexprs);
    ivm_free(o->exprs);
    o->kind = DBSP_MAP;
    o->vt = &dbsp_op_map_vt;
    o->in[0] = i->in[0];
    o->partitioned = sharded;
    o->exprs = exprs;
    o->nexprs = ne;
    o->where = pred;
    exprs[ne] = pred;
    o->nmemo = dbsp_exprs_share(exprs, pred != NULL ? ne + 1 : ne);
    exprs[ne] = NULL;
    return true;
}

static bool stateless(const dbsp_pnode *nd)
{
    return nd->kind == DBSP_MAP || nd->kind == DBSP_FILTER;
}

/* A map that only moves columns (or writes constants): fusing it into each
 * of several readers repeats no work. */
static bool moves_only(const dbsp_pnode *nd)
{
    if (nd->kind != DBSP_MAP || nd->where != NULL)
        return false;
    for (uint32_t k = 0; k < nd->nexprs; k++)
        if (nd->exprs[k]->op != DBSP_X_COL && nd->exprs[k]->op != DBSP_X_CONST)
            return false;
    return true;
}

ivm_rc dbsp_plan_fuse(dbsp_plan *p, dbsp_node *remap_out)
{
    uint32_t n = p->n;
    uint32_t *readers = ivm_calloc((size_t)n + 1, sizeof *readers);
    if (readers == NULL)
        return IVM_NOMEM;
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t j = 0; j < p->nodes[k].nin; j++)
            readers[p->nodes[k].in[j]]++;
    /* In id order, so that a chain has collapsed into its reader's input
     * before the reader looks at it (D3: inputs come first). */
    for (uint32_t k = 0; k < n; k++) {
        const dbsp_pnode *o = &p->nodes[k];
        if (!stateless(o))
            continue;
        dbsp_node in = o->in[0];
        const dbsp_pnode *i = &p->nodes[in];
        if (stateless(i) && (readers[in] == 1 || moves_only(i)) &&
            (o->kind == DBSP_MAP || i->kind == DBSP_MAP) && fuse_pair(p, k, in)) {
            readers[in]--;
            readers[p->nodes[k].in[0]]++; /* inner's own count goes if it is dropped */
        }
    }
    /* Drop what nothing reads any more (last first, so that a dropped
     * node's own input is seen after it); inputs and outputs stay. */
    bool *gone = ivm_calloc((size_t)n + 1, sizeof *gone);
    if (gone == NULL) {
        ivm_free(readers);
        return IVM_NOMEM;
    }
    for (uint32_t k = n; k-- > 0;) {
        const dbsp_pnode *nd = &p->nodes[k];
        if (readers[k] > 0 || nd->kind == DBSP_INPUT || nd->kind == DBSP_OUTPUT)
            continue;
        gone[k] = true;
        for (uint32_t j = 0; j < nd->nin; j++)
            readers[nd->in[j]]--;
    }
    /* Then a map that is a join's only reader becomes the join, emitting
     * the map's rows of each pair (op_join.c): the join's own rows are
     * never built.  After the chains have collapsed (and their inner
     * nodes stopped counting as readers), so that a chain over a join is
     * one map first.  The map's sharding was judged against the join's
     * rows, keyed as the inputs are (D4): the fused join keeps it. */
    for (uint32_t k = 0; k < n; k++) {
        dbsp_pnode *o = &p->nodes[k];
        dbsp_node in = o->in[0];
        /* A join's nexprs tells whether it has a map: one of no columns
         * (COUNT(*) over a join) is not fused. */
        if (gone[k] || o->kind != DBSP_MAP || o->nexprs == 0 || p->nodes[in].kind != DBSP_JOIN ||
            p->nodes[in].nexprs != 0 || readers[in] != 1)
            continue;
        o->kind = DBSP_JOIN;
        o->vt = p->nodes[in].vt;
        o->nin = 2;
        o->in[0] = p->nodes[in].in[0];
        o->in[1] = p->nodes[in].in[1];
        /* The join's reads of its inputs are now the map's. */
        readers[in] = 0;
        gone[in] = true;
    }
    uint32_t m = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (gone[k]) {
            pnode_fini(&p->nodes[k]);
            remap_out[k] = UINT32_MAX;
            continue;
        }
        dbsp_pnode nd = p->nodes[k];
        for (uint32_t j = 0; j < nd.nin; j++)
            nd.in[j] = remap_out[nd.in[j]];
        p->nodes[m] = nd;
        remap_out[k] = m++;
    }
    p->n = m;
    ivm_free(readers);
    ivm_free(gone);
    return IVM_OK;
}
