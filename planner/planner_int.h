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
    LP_JOIN,       /* in x right where lkeys = rkeys and pred (residual), of kind
                      jtype (outer joins pad, semi/anti joins keep in's columns) */
    LP_MAP,        /* exprs over in */
    LP_AGGREGATE,  /* GROUP BY exprs (the first ngroup output columns), then aggs */
    LP_DISTINCT,   /* set of in's rows */
    LP_UNION_ALL,  /* in + right (same columns): Z-set sum */
    LP_SETOP,      /* setop(in, right) row by row (UNION, INTERSECT, EXCEPT) */
    LP_TOPK        /* ROW_NUMBER() OVER (PARTITION BY exprs[0..npart) ORDER BY
                      ...) <= limit: per partition, in's rows numbered 1 ..
                      limit in the order of exprs[npart] (a DBSP_FN_SORTKEY;
                      absent when nexprs == npart), ties by the whole row;
                      output: in's columns, then the number (INT) */
} lp_kind;

/* Kinds of LP_JOIN.  Keys and pred read in's columns then right's, for
 * every kind.  LEFT keeps every row of in (padded with NULLs when nothing
 * in right matches), RIGHT every row of right, FULL both.  SEMI outputs
 * the rows of in that have a match (each with its own multiplicity), ANTI
 * those that have none; both output only in's columns. */
typedef enum lp_jtype {
    LP_J_INNER, LP_J_LEFT, LP_J_RIGHT, LP_J_FULL, LP_J_SEMI, LP_J_ANTI
} lp_jtype;

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
    lp_jtype jtype;          /* LP_JOIN */
    uint32_t nkeys;          /* LP_JOIN */
    dbsp_expr **lkeys;       /* over in's columns */
    dbsp_expr **rkeys;       /* over right's columns */
    uint32_t nexprs;         /* LP_MAP outputs; LP_AGGREGATE group exprs */
    dbsp_expr **exprs;
    uint32_t naggs;          /* LP_AGGREGATE */
    lp_agg *aggs;
    dbsp_setop_kind setop;   /* LP_SETOP */
    uint32_t npart;          /* LP_TOPK: partition terms among exprs */
    int64_t limit;           /* LP_TOPK: rows kept per partition */
    const plan_cte *cte;     /* the root of a WITH table's body: every
                                reference lowers to the same nodes */
};

/* A WITH table's body lowered once (lower.c): its node and layout. */
typedef struct lp_lowered_cte {
    const plan_cte *cte;
    dbsp_node node;
    uint32_t nphys;
    const uint32_t *map;
} lp_lowered_cte;

/* The WITH tables in scope, innermost first.  A WITH table's body sees
 * every table of its own WITH clause (SQLite allows references to later
 * ones) and those of the enclosing queries: defscope.  cte_active lists the
 * bodies being bound, innermost first, so that a reference back to one of
 * them is refused as a recursive query. */
typedef struct cte_scope cte_scope;
struct cte_scope {
    const plan_cte *cte;
    const cte_scope *next;
    const cte_scope *defscope;
};
typedef struct cte_active cte_active;
struct cte_active {
    const plan_cte *cte;
    const cte_active *up;
};

/* A bound on a ROW_NUMBER column found in an enclosing query's WHERE
 * (`rn <= K` ...), passed to the binding of the FROM subquery whose result
 * column it is (bind.c): that subquery then keeps only the first limit
 * rows of each partition (LP_TOPK), which is all the WHERE lets through. */
typedef struct win_bound {
    const plan_select *sel;  /* the subquery (a core) */
    const plan_expr *win;    /* its ROW_NUMBER result expression */
    int64_t limit;
    uint32_t nrefs;          /* the WHERE's references to the column */
    const plan_expr **refs;
    bool used;               /* out: the subquery made its LP_TOPK */
    uint32_t col;            /* out: the subquery's result column of it */
} win_bound;

/* Planning context: the arena owns every lp_node and array; expressions are
 * heap objects owned by their node until lp_free_exprs. */
typedef struct pctx {
    const plan_catalog *cat;
    ivm_err *err;
    rt_arena arena;
    bool for_view;
    const plan_select *view_sel; /* a view's own SELECT: the one whose LIMIT
                                    becomes a top-k (topk.c) */
    const cte_scope *ctes;   /* WITH tables visible where binding stands */
    const cte_active *active; /* WITH bodies being bound */
    uint32_t nsubqueries;    /* subqueries in FROM named so far */
    lp_lowered_cte *lowered; /* WITH bodies lowered so far (in the arena) */
    uint32_t nlowered;
    /* While a subquery is bound as a relation of its own (bind.c): the
     * enclosing query's scope, so that a reference to its columns is
     * refused as a correlation the planner cannot decorrelate there. */
    const void *outer;
    /* The bound for the FROM subquery about to be bound, or NULL; the
     * subquery's bind_core takes it (win->sel is that subquery). */
    win_bound *win;
} pctx;

lp_node *lp_new(pctx *c, lp_kind kind, uint32_t ncols);
void lp_free_exprs(lp_node *n);
/* Builds the logical plan of a SELECT: its WITH tables, a compound chain
 * of cores, ORDER BY and LIMIT (compound.c).  q receives the result
 * columns, and ORDER BY / LIMIT for ad-hoc reads. */
ivm_rc bind_select(pctx *c, const plan_select *sel, lp_node **out, plan_query *q);
/* One SELECT core with its own ORDER BY and LIMIT; its WITH and compound
 * fields are not looked at (bind.c). */
ivm_rc bind_core(pctx *c, const plan_select *sel, lp_node **out, plan_query *q);
/* Frees what binding put in a plan_query besides the plan and inputs: its
 * columns' names, classes and affinities, and its sort keys (compound.c). */
void query_meta_free(plan_query *q);
/* A constant integer expression's value (LIMIT, OFFSET): IVM_SCHEMA when
 * it reads a column or is not an integer (bind.c). */
ivm_rc bind_const_int(pctx *c, const plan_expr *e, const char *what, int64_t *out);
/* The WITH table called name in c's scope, or NULL (compound.c). */
const cte_scope *cte_find(const pctx *c, const char *name);
/* Binds a query used as a FROM item, a subquery or a WITH table, in scope
 * `scope`: *out is its plan and *rel_out its columns as a relation (in the
 * arena) named name (a made-up name when NULL), with the column names
 * colnames[0..ncolnames) when given.  ORDER BY in it is ignored and LIMIT
 * refused, as in a view (compound.c). */
ivm_rc bind_from_query(pctx *c, const plan_select *sub, const cte_scope *scope, const char *name,
                       uint32_t ncolnames, const char *const *colnames, plan_pos pos,
                       lp_node **out, const plan_relation **rel_out);
/* A reference to a WITH table at pos: its body bound again (compound.c). */
ivm_rc bind_cte_ref(pctx *c, const cte_scope *cte, plan_pos pos, lp_node **out,
                    const plan_relation **rel_out);
/* Orders chains of inner joins under a filter so that each join has a key
 * where the filter's equalities give one (reorder.c). */
ivm_rc reorder_joins(pctx *c, lp_node **root);
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
/* An exchange on in's key, or in itself when its rows already sit on the
 * workers that own their keys (dbsp_plan_sharded: keeps P5 without moving
 * a row). */
ivm_rc lower_exchange(dbsp_plan *p, dbsp_node in, dbsp_node *out);
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
