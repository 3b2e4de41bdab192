/*
 * explain.c: a plan for people.  dbsp_plan_describe writes one line per node
 * (EXPLAIN); dbsp_plan_dot writes the same facts as a Graphviz digraph.
 * Both say, for every node: its id and operator, its inputs, its width and
 * key, what it computes (predicate, expressions, aggregates, bounds), whether
 * its stream is sharded, which integrals it reads, where an exchange sends
 * rows, and what state it keeps between steps (a spine of what, keyed by
 * what).  Nothing here runs a plan.  The format is described in
 * dbsp/README.md, "EXPLAIN".
 */
#include "dbsp_int.h"

#include <stdio.h>

/* Output like snprintf: len counts every byte, buf gets what fits.  In DOT
 * mode text is escaped for a double-quoted DOT string. */
typedef struct obuf {
    char *buf;
    size_t cap, len;
    bool dot;
} obuf;

static void put_raw(obuf *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len - 1;
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->buf[o->len + k] = '\0';
    }
    o->len += n;
}

/* Text that may hold any byte: escaped in DOT mode. */
static void put_text(obuf *o, const char *s, size_t n)
{
    if (!o->dot) {
        put_raw(o, s, n);
        return;
    }
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = s[i] == '"' ? "\\\"" : s[i] == '\\' ? "\\\\"
                          : s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" : NULL;
        if (esc == NULL)
            continue;
        put_raw(o, s + from, i - from);
        put_raw(o, esc, 2);
        from = i + 1;
    }
    put_raw(o, s + from, n - from);
}

/* A literal: escaped (put_str) or as it is (put_lit, DOT syntax). */
static void put_str(obuf *o, const char *s)
{
    put_text(o, s, strlen(s));
}

static void put_lit(obuf *o, const char *s)
{
    put_raw(o, s, strlen(s));
}

static void put_fmt(obuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(obuf *o, const char *fmt, ...)
{
    char tmp[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put_text(o, tmp, IVM_MIN((size_t)n, sizeof tmp - 1));
}

/* Between the parts of a node: "; " on an EXPLAIN line, a line break in a
 * DOT label. */
static void put_sep(obuf *o)
{
    put_lit(o, o->dot ? "\\n" : "; ");
}

/* An expression through dbsp_expr_describe, which may need any length. */
static void put_expr(obuf *o, const dbsp_expr *e)
{
    char small[256];
    size_t n = dbsp_expr_describe(e, small, sizeof small);
    if (n < sizeof small) {
        put_text(o, small, n);
        return;
    }
    char *big = ivm_malloc(n + 1);
    if (big == NULL) {
        put_str(o, "...");
        return;
    }
    dbsp_expr_describe(e, big, n + 1);
    put_text(o, big, n);
    ivm_free(big);
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

/* "(#0, #1)": the key columns of a node (always its first nkey). */
static void put_key(obuf *o, uint32_t nkey)
{
    put_lit(o, "(");
    for (uint32_t k = 0; k < nkey; k++)
        put_fmt(o, k ? ", #%u" : "#%u", (unsigned)k);
    put_lit(o, ")");
}

/* What the node computes: predicate, expressions, aggregates, bounds. */
static void put_what(obuf *o, const dbsp_plan *p, const dbsp_pnode *nd)
{
    switch (nd->kind) {
    case DBSP_FILTER:
        put_str(o, " where ");
        put_expr(o, nd->exprs[0]);
        break;
    case DBSP_JOIN:
        if (nd->nexprs == 0)
            break;
        /* A map fused into the join (dbsp_plan_fuse): its rows of each
         * pair. */
        /* fall through */
    case DBSP_MAP:
        put_lit(o, " [");
        for (uint32_t k = 0; k < nd->nexprs; k++) {
            if (k > 0)
                put_lit(o, ", ");
            put_expr(o, nd->exprs[k]);
        }
        put_lit(o, "]");
        if (nd->where != NULL) {
            put_str(o, " where ");
            put_expr(o, nd->where);
        }
        break;
    case DBSP_AGGREGATE:
        put_lit(o, " [");
        for (uint32_t k = 0; k < nd->naggs; k++) {
            const dbsp_agg *a = &nd->aggs[k];
            if (k > 0)
                put_lit(o, ", ");
            if (a->kind == DBSP_AGG_COUNT_STAR) {
                put_fmt(o, "count(*)");
            } else {
                put_fmt(o, "%s(%s#%u", agg_name(a->kind),
                        (a->flags & DBSP_AGG_F_DISTINCT) ? "DISTINCT " : "", (unsigned)a->col);
                if (a->flags & DBSP_AGG_F_SEP)
                    put_fmt(o, ", #%u", (unsigned)a->sep_col);
                put_lit(o, ")");
            }
            if (a->flags & DBSP_AGG_F_FILTER)
                put_fmt(o, " FILTER #%u", (unsigned)a->filter_col);
        }
        put_lit(o, "]");
        break;
    case DBSP_TOPK:
        put_fmt(o, " offset=%lld limit=%lld", (long long)nd->offset, (long long)nd->limit);
        /* One column wider than its input: the last is each row's number. */
        if (nd->ncols > p->nodes[nd->in[0]].ncols)
            put_fmt(o, " row_number=#%u", (unsigned)(nd->ncols - 1));
        break;
    default:
        break;
    }
}

/* Where rows go, which integrals are read, and the state kept. */
static void put_role(obuf *o, const dbsp_plan *p, const dbsp_pnode *nd)
{
    switch (nd->kind) {
    case DBSP_INPUT:
        put_sep(o);
        put_str(o, "state: batches fed since the last step (spread over workers)");
        return;
    case DBSP_EXCHANGE:
        put_sep(o);
        if (nd->nkey == 0) {
            put_str(o, "route: every row to one worker (no key)");
        } else {
            put_str(o, "route: each row to the worker owning hash");
            put_key(o, nd->nkey);
        }
        put_sep(o);
        put_str(o, "state: rows in flight during a step");
        return;
    case DBSP_INTEGRATE:
        put_sep(o);
        put_fmt(o, "state: spine I(%u) of %u-column rows keyed by ", (unsigned)nd->in[0],
                (unsigned)nd->ncols);
        put_key(o, nd->nkey);
        return;
    case DBSP_Z1:
        put_sep(o);
        put_str(o, "state: the previous step's input");
        return;
    case DBSP_DISTINCT:
    case DBSP_AGGREGATE:
    case DBSP_TOPK:
        /* dbsp_plan_count reads no integral. */
        if (p->nodes[nd->in[0]].kind == DBSP_INTEGRATE) {
            put_sep(o);
            put_fmt(o, "reads: I(%u)", (unsigned)nd->in[0]);
        }
        break;
    case DBSP_SETOP:
        put_sep(o);
        put_fmt(o, "reads: I(%u), I(%u)", (unsigned)nd->in[0], (unsigned)nd->in[1]);
        return;
    case DBSP_JOIN:
        put_sep(o);
        put_fmt(o, "reads: I(%u), I(%u) on key ", (unsigned)nd->in[0], (unsigned)nd->in[1]);
        put_key(o, p->nodes[nd->in[0]].nkey);
        return;
    case DBSP_OUTPUT:
        put_sep(o);
        put_fmt(o, "state: spine of the contents (%u-column rows), and the last change",
                (unsigned)nd->ncols);
        return;
    default:
        return;
    }
    if (nd->kind == DBSP_AGGREGATE) {
        /* D8: a GROUP_CONCAT makes the node recompute touched groups. */
        bool concat = false, distinct = false;
        for (uint32_t k = 0; k < nd->naggs; k++) {
            const dbsp_agg *g = &nd->aggs[k];
            concat |= g->kind == DBSP_AGG_GROUP_CONCAT;
            distinct |= (g->flags & DBSP_AGG_F_DISTINCT) && g->kind != DBSP_AGG_MIN &&
                        g->kind != DBSP_AGG_MAX;
        }
        put_sep(o);
        if (concat) {
            put_str(o, "state: none (GROUP_CONCAT: touched groups are recomputed from the integral)");
        } else {
            put_str(o, "state: spine of each group's accumulators keyed by ");
            put_key(o, nd->nkey);
            if (distinct)
                put_str(o, ", spine of DISTINCT values' multiplicities keyed by (group, aggregate, value)");
            /* dbsp_plan_count with a sum keeps the rows it cannot take
             * back by a fold (D8). */
            bool sums = false;
            for (uint32_t k = 0; k < nd->naggs; k++)
                sums |= nd->aggs[k].kind == DBSP_AGG_SUM || nd->aggs[k].kind == DBSP_AGG_AVG ||
                        nd->aggs[k].kind == DBSP_AGG_TOTAL;
            if (sums && p->nodes[nd->in[0]].kind != DBSP_INTEGRATE) {
                put_str(o, ", spine of the rows whose summand is not an INT keyed by ");
                put_key(o, nd->nkey);
            }
        }
    } else if (nd->kind == DBSP_TOPK) {
        put_sep(o);
        put_str(o, "state: spine of its output, each partition's top rows, keyed by ");
        put_key(o, nd->nkey);
    }
    (void)p;
}

/* One node: head, shape, what it computes, sharding, role and state. */
static void put_node(obuf *o, const dbsp_plan *p, uint32_t i)
{
    const dbsp_pnode *nd = &p->nodes[i];
    put_fmt(o, "%u %s", (unsigned)i, nd->vt->name);
    if (nd->nin == 1)
        put_fmt(o, "(%u)", (unsigned)nd->in[0]);
    else if (nd->nin == 2)
        put_fmt(o, "(%u, %u)", (unsigned)nd->in[0], (unsigned)nd->in[1]);
    if (o->dot)
        put_sep(o);
    else
        put_lit(o, " ");
    put_fmt(o, "cols=%u key=%u", (unsigned)nd->ncols, (unsigned)nd->nkey);
    put_what(o, p, nd);
    if (nd->partitioned)
        put_lit(o, " sharded");
    put_role(o, p, nd);
}

size_t dbsp_plan_describe(const dbsp_plan *p, char *buf, size_t cap)
{
    obuf o = {buf, cap, 0, false};
    if (cap > 0)
        buf[0] = '\0';
    for (uint32_t i = 0; i < p->n; i++) {
        put_node(&o, p, i);
        put_lit(&o, "\n");
    }
    return o.len;
}

/* DOT syntax around a node id: before, the id, after (never escaped). */
static void put_id(obuf *o, const char *before, uint32_t id, const char *after)
{
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%u", (unsigned)id);
    put_lit(o, before);
    put_lit(o, tmp);
    put_lit(o, after);
}

static bool keeps_spine(dbsp_kind k)
{
    return k == DBSP_INTEGRATE || k == DBSP_AGGREGATE || k == DBSP_TOPK || k == DBSP_OUTPUT;
}

size_t dbsp_plan_dot(const dbsp_plan *p, const char *name, char *buf, size_t cap)
{
    obuf o = {buf, cap, 0, true};
    if (cap > 0)
        buf[0] = '\0';
    put_lit(&o, "digraph \"");
    put_str(&o, name ? name : "circuit");
    put_lit(&o, "\" {\n");
    put_lit(&o, "  rankdir=TB;\n");
    put_lit(&o, "  node [shape=box, fontname=\"monospace\", fontsize=10];\n");
    for (uint32_t i = 0; i < p->n; i++) {
        const dbsp_pnode *nd = &p->nodes[i];
        put_id(&o, "  n", i, " [label=\"");
        put_node(&o, p, i);
        put_lit(&o, "\"");
        if (nd->kind == DBSP_INPUT)
            put_lit(&o, ", shape=invhouse");
        else if (nd->kind == DBSP_OUTPUT)
            put_lit(&o, ", shape=house");
        else if (nd->kind == DBSP_EXCHANGE)
            put_lit(&o, ", shape=hexagon, style=dashed");
        if (keeps_spine(nd->kind))
            put_lit(&o, ", style=filled, fillcolor=\"#fff2cc\"");
        put_lit(&o, "];\n");
    }
    for (uint32_t i = 0; i < p->n; i++) {
        const dbsp_pnode *nd = &p->nodes[i];
        for (uint32_t k = 0; k < nd->nin; k++) {
            put_id(&o, "  n", nd->in[k], " -> ");
            put_id(&o, "n", i, "");
            if (nd->nin == 2)
                put_lit(&o, k == 0 ? " [label=\"left\"]" : " [label=\"right\"]");
            put_lit(&o, ";\n");
        }
    }
    put_lit(&o, "}\n");
    return o.len;
}
