/*
 * planner_int.h: the planner's private layouts: the logical plan and the
 * binder's scope, shared by bind.c (names and types -> logical plan),
 * rewrite.c (filter pushdown, join key extraction) and lower.c (logical plan
 * -> dbsp plan).  See planner/README.md.
 */
#ifndef IVM_PLANNER_INT_H
#define IVM_PLANNER_INT_H

#include "planner.h"

/* Logical operators.  Every node has ncols output columns with static
 * classes types[]; expressions read the input's columns by index (for a
 * JOIN: the left input's columns, then the right input's). */
typedef enum lp_kind {
    LP_SCAN,       /* a catalog relation, or PLAN_REL_DUAL */
    LP_FILTER,     /* rows of in where pred is true */
    LP_JOIN,       /* in x right where lkeys = rkeys and pred (residual) */
    LP_MAP,        /* exprs over in */
    LP_AGGREGATE,  /* GROUP BY exprs (the first ngroup output columns), then aggs */
    LP_DISTINCT    /* set of in's rows */
} lp_kind;

typedef struct lp_agg {
    dbsp_agg_kind kind;
    ivm_type type;
    bool distinct;       /* over distinct values (not for MIN/MAX: no difference) */
    dbsp_expr *arg;      /* over in's columns; NULL for COUNT(*) */
    dbsp_expr *sep;      /* GROUP_CONCAT's separator, or NULL for "," */
    dbsp_expr *filter;   /* FILTER (WHERE ...), or NULL */
} lp_agg;

/* Frees an aggregate's expressions. */
void lp_agg_fini(lp_agg *g);

typedef struct lp_node lp_node;
struct lp_node {
    lp_kind kind;
    uint32_t ncols;
    ivm_type *types;
    lp_node *in, *right;
    uint32_t rel_id;         /* LP_SCAN */
    dbsp_expr *pred;         /* LP_FILTER; LP_JOIN residual (may be NULL) */
    uint32_t nkeys;          /* LP_JOIN */
    dbsp_expr **lkeys;       /* over in's columns */
    dbsp_expr **rkeys;       /* over right's columns */
    uint32_t nexprs;         /* LP_MAP outputs; LP_AGGREGATE group exprs */
    dbsp_expr **exprs;
    uint32_t naggs;          /* LP_AGGREGATE */
    lp_agg *aggs;
};

/* Planning context: the arena owns every lp_node and array; expressions are
 * heap objects owned by their node until lp_free_exprs. */
typedef struct pctx {
    const plan_catalog *cat;
    ivm_err *err;
    rt_arena arena;
    bool for_view;
} pctx;

lp_node *lp_new(pctx *c, lp_kind kind, uint32_t ncols);
void lp_free_exprs(lp_node *n);
/* Builds the logical plan of a SELECT.  *sort_out etc. describe ORDER BY /
 * LIMIT for ad-hoc reads. */
ivm_rc bind_select(pctx *c, const plan_select *sel, lp_node **out, plan_query *q);
/* Pushes filters into joins and extracts equi-join keys (keeps P3, P4). */
ivm_rc rewrite_plan(pctx *c, lp_node **root);
/* LP_SCAN of a relation that is always empty (a filter that is never
 * true, prune.c): lowered as an input node that nothing feeds. */
#define PLAN_REL_EMPTY (UINT32_MAX - 1)
/* Folds constant subexpressions (dropping filters that are always true,
 * emptying what a never-true filter reads) and prunes columns no operator
 * above needs, so that joins arrange only what they use (prune.c). */
ivm_rc fold_prune_plan(pctx *c, lp_node **root);
/* A view's LIMIT and OFFSET (already in q) must be non-negative (topk.c). */
ivm_rc topk_check_bounds(pctx *c, const plan_select *sel, const plan_query *q);
/* Ends a view's circuit at node in (width columns: the result columns, then
 * hidden ORDER BY columns) with its top-k by q's sort keys, LIMIT and
 * OFFSET; *out has the q->ncols result columns.  Clears q's sort keys and
 * bounds, which readers of a view must not apply again (topk.c). */
ivm_rc lower_topk(pctx *c, plan_query *q, dbsp_node in, uint32_t width, dbsp_node *out);
/* Lowers a logical plan into q->plan and q->inputs, ending in an output node. */
ivm_rc lower_plan(pctx *c, lp_node *root, plan_query *q);

/* Expression helpers. */
bool xequal(const dbsp_expr *a, const dbsp_expr *b);
/* Bitmask-free column range test: true if every column e reads is in [lo, hi). */
bool xcols_within(const dbsp_expr *e, uint32_t lo, uint32_t hi);
bool xhas_cols(const dbsp_expr *e);
/* A copy of e with every column c replaced by map[c] (or c + shift when map
 * is NULL).  NULL on allocation failure. */
dbsp_expr *xremap(const dbsp_expr *e, const uint32_t *map, int64_t shift);

#endif /* IVM_PLANNER_INT_H */
