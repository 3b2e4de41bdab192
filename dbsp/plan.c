/*
 * plan.c: the immutable operator graph a host instantiates: node storage,
 * accessors and the EXPLAIN listing.  Each operator's constructor
 * (dbsp_plan_filter, ...) lives in its own op_<name>.c, next to the code that
 * runs it, and checks the shapes it needs; this file only stores what they
 * built.  Node ids are indexes, inputs always precede their readers, so the
 * id order is the evaluation order (D3).  Design: dbsp/README.md.
 */
#include "dbsp_int.h"

#include <stdio.h>

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

/* ---- EXPLAIN ----------------------------------------------------------------- */

typedef struct obuf {
    char *buf;
    size_t cap, len;
} obuf;

static void out_raw(obuf *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len - 1;
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->buf[o->len + k] = '\0';
    }
    o->len += n;
}

static void out_fmt(obuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(obuf *o, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_raw(o, tmp, IVM_MIN((size_t)n, sizeof tmp - 1));
}

/* An expression through dbsp_expr_describe, which may need any length. */
static void out_expr(obuf *o, const dbsp_expr *e)
{
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    size_t n = dbsp_expr_describe(e, room ? o->buf + o->len : NULL, room);
    o->len += n;
    if (o->cap > 0 && o->len >= o->cap)
        o->buf[o->cap - 1] = '\0';
}

static const char *agg_name(uint8_t kind)
{
    static const char *const names[DBSP_AGG_KIND_COUNT_] = {
        [DBSP_AGG_COUNT_STAR] = "count", [DBSP_AGG_COUNT] = "count",
        [DBSP_AGG_SUM] = "sum",          [DBSP_AGG_AVG] = "avg",
        [DBSP_AGG_MIN] = "min",          [DBSP_AGG_MAX] = "max",
        [DBSP_AGG_TOTAL] = "total",      [DBSP_AGG_GROUP_CONCAT] = "group_concat",
    };
    return kind < DBSP_AGG_KIND_COUNT_ ? names[kind] : "?";
}

size_t dbsp_plan_describe(const dbsp_plan *p, char *buf, size_t cap)
{
    obuf o = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    for (uint32_t i = 0; i < p->n; i++) {
        const dbsp_pnode *nd = &p->nodes[i];
        out_fmt(&o, "%u %s", (unsigned)i, nd->vt->name);
        if (nd->nin == 1)
            out_fmt(&o, "(%u)", (unsigned)nd->in[0]);
        else if (nd->nin == 2)
            out_fmt(&o, "(%u, %u)", (unsigned)nd->in[0], (unsigned)nd->in[1]);
        out_fmt(&o, " cols=%u key=%u", (unsigned)nd->ncols, (unsigned)nd->nkey);
        if (nd->kind == DBSP_FILTER) {
            out_raw(&o, " where ", 7);
            out_expr(&o, nd->exprs[0]);
        } else if (nd->kind == DBSP_MAP) {
            out_raw(&o, " [", 2);
            for (uint32_t k = 0; k < nd->nexprs; k++) {
                if (k > 0)
                    out_raw(&o, ", ", 2);
                out_expr(&o, nd->exprs[k]);
            }
            out_raw(&o, "]", 1);
        } else if (nd->kind == DBSP_AGGREGATE) {
            out_raw(&o, " [", 2);
            for (uint32_t k = 0; k < nd->naggs; k++) {
                const dbsp_agg *a = &nd->aggs[k];
                if (k > 0)
                    out_raw(&o, ", ", 2);
                if (a->kind == DBSP_AGG_COUNT_STAR)
                    out_fmt(&o, "count(*)");
                else
                    out_fmt(&o, "%s(%s#%u", agg_name(a->kind),
                            (a->flags & DBSP_AGG_F_DISTINCT) ? "DISTINCT " : "",
                            (unsigned)a->col);
                if (a->kind != DBSP_AGG_COUNT_STAR && (a->flags & DBSP_AGG_F_SEP))
                    out_fmt(&o, ", #%u", (unsigned)a->sep_col);
                if (a->kind != DBSP_AGG_COUNT_STAR)
                    out_raw(&o, ")", 1);
                if (a->flags & DBSP_AGG_F_FILTER)
                    out_fmt(&o, " FILTER #%u", (unsigned)a->filter_col);
            }
            out_raw(&o, "]", 1);
        } else if (nd->kind == DBSP_TOPK) {
            out_fmt(&o, " offset=%lld limit=%lld", (long long)nd->offset, (long long)nd->limit);
        }
        if (nd->partitioned)
            out_raw(&o, " sharded", 8);
        if (nd->vt->state_desc != NULL)
            out_fmt(&o, " state: %s", nd->vt->state_desc);
        out_raw(&o, "\n", 1);
    }
    return o.len;
}
