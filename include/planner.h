/*
 * planner.h: the statement tree and the planner that turns queries into
 * circuits.  The parser (sql/) builds trees of the types below; the planner
 * binds names and types against a catalog the caller provides, builds a
 * logical plan, rewrites it and lowers it to a dbsp plan.  The tree is
 * declared here, not in sql.h, so that dependencies point down (sql uses the
 * planner, never the reverse).  Design: planner/README.md.
 */
#ifndef IVM_PLANNER_H
#define IVM_PLANNER_H

#include "ivm_base.h"
#include "dbsp.h"
#include "runtime.h"

/* ---- Statement trees ------------------------------------------------------ */

/* A 1-based position in the SQL text. */
typedef struct plan_pos {
    uint32_t line, col;
} plan_pos;

/* Declared column types as written; their storage class follows SQLite's
 * affinity rules on the type name (see plan_type_class). */
typedef enum plan_type {
    PLAN_TY_NONE = 0,   /* not declared */
    PLAN_TY_INTEGER, PLAN_TY_BIGINT, PLAN_TY_BOOLEAN,
    PLAN_TY_REAL, PLAN_TY_DOUBLE, PLAN_TY_FLOAT,
    PLAN_TY_TEXT, PLAN_TY_VARCHAR,
    PLAN_TY_DECIMAL, PLAN_TY_DATE, PLAN_TY_TIMESTAMP,
    PLAN_TY_INT,        /* INT: INTEGER's class, but not SQLite's rowid alias */
    PLAN_TY_SMALLINT,   /* SMALLINT, TINYINT */
    PLAN_TY_COUNT_
} plan_type;

ivm_type plan_type_class(plan_type t);
const char *plan_type_name(plan_type t);

typedef enum plan_ekind {
    PLAN_E_INT,        /* ival */
    PLAN_E_REAL,       /* rval */
    PLAN_E_STR,        /* str, slen (quotes removed, '' unescaped) */
    PLAN_E_NULL,
    PLAN_E_BOOL,       /* TRUE / FALSE: ival 1 / 0 */
    PLAN_E_COLUMN,     /* [table.]name */
    PLAN_E_STAR,       /* * or table.* in a result list */
    PLAN_E_UNARY,      /* op a: PLAN_OP_NEG, PLAN_OP_PLUS, PLAN_OP_NOT, PLAN_OP_BITNOT */
    PLAN_E_BINARY,     /* a op b */
    PLAN_E_ISNULL,     /* a IS NULL (not_: IS NOT NULL / NOTNULL) */
    PLAN_E_BETWEEN,    /* a [NOT] BETWEEN b AND c */
    PLAN_E_IN_LIST,    /* a [NOT] IN (list) */
    PLAN_E_IN_SELECT,  /* a [NOT] IN (sub) */
    PLAN_E_EXISTS,     /* [NOT] EXISTS (sub) */
    PLAN_E_SUBQUERY,   /* (sub) as a scalar */
    PLAN_E_CASE,       /* CASE [a] WHEN list[0] THEN list[1] ... [ELSE b] END */
    PLAN_E_CAST,       /* CAST(a AS cast_type) */
    PLAN_E_FUNC,       /* name(list) / name(*) / name(DISTINCT list) [FILTER (WHERE filter)] */
    PLAN_E_LIKE,       /* a [NOT] LIKE|GLOB b [ESCAPE c]; op PLAN_OP_LIKE / PLAN_OP_GLOB */
    PLAN_E_COLLATE,    /* a COLLATE name */
    PLAN_E_PARAM,      /* ? parameter: ival = index */
    PLAN_E_WINDOW,     /* name() OVER (window): ROW_NUMBER only (the parser
                          refuses other window functions) */
    PLAN_E_KIND_COUNT_
} plan_ekind;

typedef enum plan_op {
    PLAN_OP_NONE = 0,
    PLAN_OP_NEG, PLAN_OP_PLUS, PLAN_OP_NOT, PLAN_OP_BITNOT,
    PLAN_OP_ADD, PLAN_OP_SUB, PLAN_OP_MUL, PLAN_OP_DIV, PLAN_OP_MOD,
    PLAN_OP_CONCAT,
    PLAN_OP_EQ, PLAN_OP_NE, PLAN_OP_LT, PLAN_OP_LE, PLAN_OP_GT, PLAN_OP_GE,
    PLAN_OP_IS, PLAN_OP_ISNOT,           /* IS, IS NOT, IS [NOT] DISTINCT FROM mapped */
    PLAN_OP_AND, PLAN_OP_OR,
    PLAN_OP_BITAND, PLAN_OP_BITOR, PLAN_OP_LSHIFT, PLAN_OP_RSHIFT,
    PLAN_OP_LIKE, PLAN_OP_GLOB,
    PLAN_OP_COUNT_
} plan_op;

typedef struct plan_expr plan_expr;
typedef struct plan_select plan_select;
typedef struct plan_window plan_window;

typedef struct plan_expr_list {
    uint32_t n;
    plan_expr **items;
} plan_expr_list;

struct plan_expr {
    plan_ekind kind;
    plan_op op;
    plan_pos pos;
    bool not_;              /* NOT BETWEEN / NOT IN / NOT EXISTS / NOT LIKE / IS NOT NULL */
    bool distinct;          /* func(DISTINCT ...) */
    bool star;              /* func(*) */
    plan_expr *a, *b, *c;   /* operands (see kinds) */
    plan_expr_list list;    /* func args, IN list, CASE when/then pairs */
    plan_select *sub;       /* subquery */
    const char *table;      /* qualifier of a column or of table.* (NULL if none) */
    const char *name;       /* column, function or collation name */
    const char *str;        /* PLAN_E_STR */
    uint32_t slen;
    int64_t ival;
    double rval;
    plan_type cast_type;
    plan_expr *filter;      /* FILTER (WHERE ...) of an aggregate */
    plan_window *window;    /* PLAN_E_WINDOW: its OVER (...) */
};

typedef struct plan_result_col {
    plan_expr *expr;        /* PLAN_E_STAR for * and t.* */
    const char *alias;      /* AS name, or NULL */
    plan_pos pos;
    const char *text;       /* source text of the expression (names result columns) */
    uint32_t text_len;
} plan_result_col;

typedef enum plan_jkind {
    PLAN_J_INNER, PLAN_J_LEFT, PLAN_J_RIGHT, PLAN_J_FULL, PLAN_J_CROSS
} plan_jkind;

/* A FROM tree: a table or view by name, a subquery with alias, or a join of
 * two FROM trees.  Comma joins are CROSS joins with comma = true. */
typedef enum plan_fkind { PLAN_F_TABLE, PLAN_F_SUBQUERY, PLAN_F_JOIN } plan_fkind;

typedef struct plan_from plan_from;
struct plan_from {
    plan_fkind kind;
    plan_pos pos;
    const char *name;       /* PLAN_F_TABLE */
    const char *alias;      /* AS alias, or NULL */
    plan_select *sub;       /* PLAN_F_SUBQUERY */
    plan_jkind jkind;       /* PLAN_F_JOIN */
    bool natural, comma;
    plan_from *left, *right;
    plan_expr *on;          /* ON condition, or NULL */
    uint32_t nusing;        /* USING (names) */
    const char **using_;
};

typedef struct plan_order {
    plan_expr *expr;
    bool desc;
    int8_t nulls;           /* 0 default, -1 NULLS FIRST, 1 NULLS LAST */
} plan_order;

/* OVER ([PARTITION BY partition] [ORDER BY order_by]) of a window function;
 * frames and named windows are refused by the parser. */
struct plan_window {
    plan_pos pos;           /* the OVER keyword */
    plan_expr_list partition;
    uint32_t norder;
    plan_order *order_by;
};

typedef enum plan_compound {
    PLAN_C_NONE, PLAN_C_UNION, PLAN_C_UNION_ALL, PLAN_C_INTERSECT, PLAN_C_EXCEPT
} plan_compound;

typedef struct plan_cte {
    const char *name;
    uint32_t ncols;
    const char **cols;      /* optional column names */
    plan_select *sub;
    plan_pos pos;
} plan_cte;

/* One SELECT core, possibly the right end of a compound chain: a compound
 * `A UNION B EXCEPT C` is C with prior = (B with prior = A), op on each
 * right-hand member.  ORDER BY, LIMIT and WITH belong to the last member. */
struct plan_select {
    plan_pos pos;
    bool distinct;
    uint32_t ncols;
    plan_result_col *cols;
    plan_from *from;        /* NULL for SELECT without FROM */
    plan_expr *where;
    plan_expr_list group_by;
    plan_expr *having;
    plan_compound op;       /* how this member combines with prior */
    plan_select *prior;
    uint32_t norder;
    plan_order *order_by;
    plan_expr *limit, *offset;
    uint32_t ncte;
    plan_cte *ctes;
};

typedef enum plan_skind {
    PLAN_S_CREATE_TABLE, PLAN_S_CREATE_VIEW, PLAN_S_CREATE_INDEX,
    PLAN_S_DROP_TABLE, PLAN_S_DROP_VIEW, PLAN_S_DROP_INDEX,
    PLAN_S_INSERT, PLAN_S_DELETE, PLAN_S_UPDATE, PLAN_S_SELECT,
    PLAN_S_BEGIN, PLAN_S_COMMIT, PLAN_S_ROLLBACK,
    PLAN_S_EXPLAIN,
    PLAN_S_KIND_COUNT_
} plan_skind;

typedef struct plan_column_def {
    const char *name;
    plan_pos pos;
    plan_type type;
    bool not_null, primary_key, unique;
    plan_expr *default_;    /* DEFAULT expr, or NULL */
} plan_column_def;

/* A table-level UNIQUE (a, b) constraint. */
typedef struct plan_unique {
    uint32_t ncols;
    const char **cols;
    plan_pos pos;
} plan_unique;

/* How INSERT resolves a constraint conflict: INSERT OR ABORT (the default),
 * FAIL, IGNORE, REPLACE (also REPLACE INTO), ROLLBACK. */
typedef enum plan_conflict {
    PLAN_OR_ABORT = 0, PLAN_OR_FAIL, PLAN_OR_IGNORE, PLAN_OR_REPLACE, PLAN_OR_ROLLBACK
} plan_conflict;

typedef struct plan_stmt plan_stmt;
struct plan_stmt {
    plan_skind kind;
    plan_pos pos;
    const char *text;       /* the statement's source text (without ';') */
    uint32_t text_len;
    bool if_not_exists, if_exists;
    const char *name;       /* table, view or index */
    plan_pos name_pos;      /* where name is written */
    /* CREATE TABLE */
    uint32_t ncoldefs;
    plan_column_def *coldefs;
    uint32_t npk;           /* table-level PRIMARY KEY (a, b) */
    const char **pk;
    plan_pos pk_pos;
    uint32_t nuniques;      /* table-level UNIQUE (a, b) constraints */
    plan_unique *uniques;
    /* CREATE VIEW v (cols) AS select; CREATE INDEX i ON table (cols) */
    uint32_t ncols;
    const char **cols;
    plan_pos *col_pos;      /* where each of cols is written */
    const char *on_table;   /* CREATE INDEX */
    bool unique;            /* CREATE UNIQUE INDEX */
    plan_select *select;    /* CREATE VIEW, SELECT, INSERT ... SELECT */
    /* INSERT [OR on_conflict] INTO name (cols) VALUES rows... | select */
    plan_conflict on_conflict;
    uint32_t nrows;
    plan_expr_list *rows;
    /* UPDATE name SET cols[i] = set[i] WHERE where; DELETE FROM name WHERE where */
    plan_expr_list set;
    plan_expr *where;
    /* EXPLAIN stmt / EXPLAIN VIEW name */
    plan_stmt *explained;
    bool explain_dot;       /* EXPLAIN DOT ...: as a Graphviz digraph */
};

/* ---- Catalog seen by the planner ------------------------------------------ */

typedef enum plan_rel_kind { PLAN_REL_TABLE, PLAN_REL_VIEW } plan_rel_kind;

/* A relation as the planner sees it.  Owned by the catalog; valid while the
 * plan is built. */
/* SQLite's column affinity, which decides how a comparison converts its
 * operands: a table column has its declared type's; a view's or subquery's
 * column has that of the expression it is (a column's, a CAST's), and a
 * computed one (COUNT(*), a + 0, +a) has none. */
typedef enum plan_aff {
    PLAN_AFF_NONE,
    PLAN_AFF_NUMERIC,   /* INTEGER, NUMERIC */
    PLAN_AFF_TEXT,
    PLAN_AFF_REAL       /* numeric in comparisons; a compound's column of this
                           affinity, read as a relation, makes INTs REAL */
} plan_aff;

typedef struct plan_relation {
    plan_rel_kind kind;
    const char *name;
    uint32_t ncols;
    const char *const *col_names;
    const ivm_type *col_types;   /* storage class of each column */
    uint32_t id;                 /* the catalog's identifier, echoed in plan_input */
    const plan_aff *col_affs;    /* affinity of each column; NULL: its class's
                                    (INT, REAL: numeric; TEXT: text) */
} plan_relation;

/* Finds a relation by name (case-insensitive); NULL if none. */
typedef struct plan_catalog {
    void *ctx;
    const plan_relation *(*lookup)(void *ctx, const char *name);
} plan_catalog;

/* ---- Planning ------------------------------------------------------------- */

/* An input of a planned query: relation `rel_id` feeds dbsp node `node`
 * (nkey 0, the relation's columns in order).  rel_id PLAN_REL_DUAL stands
 * for the one-row, zero-column relation of a SELECT without FROM: feed it
 * one empty row, once. */
#define PLAN_REL_DUAL UINT32_MAX
typedef struct plan_input {
    uint32_t rel_id;
    dbsp_node node;
} plan_input;

/* ORDER BY term applied when the result is read (ad-hoc queries). */
typedef struct plan_sort_key {
    uint32_t col;            /* output column */
    bool desc;
    int8_t nulls;            /* -1 first, 1 last */
} plan_sort_key;

/* A query lowered to a circuit. */
typedef struct plan_query {
    dbsp_plan *plan;         /* owned */
    dbsp_node output;        /* the output node */
    uint32_t ninputs;
    plan_input *inputs;
    uint32_t ncols;          /* visible result columns */
    char **col_names;
    ivm_type *col_types;
    plan_aff *col_affs;      /* each result column's affinity (a view's
                                columns have these) */
    uint32_t nhidden;        /* extra trailing columns kept only to sort by */
    uint32_t nsort;
    plan_sort_key *sort;     /* ORDER BY, for ad-hoc reads */
    int64_t limit, offset;   /* -1 = none */
} plan_query;

/* Plans a SELECT.  for_view: the result must be maintained incrementally
 * (ORDER BY / LIMIT are then refused until top-k lands); otherwise ORDER BY
 * and LIMIT are returned in sort/limit for the reader to apply.  Errors name
 * the construct and its position in err: IVM_SCHEMA (unknown or ambiguous
 * names), IVM_UNSUPPORTED, IVM_NOMEM. */
ivm_rc plan_select_query(const plan_select *sel, const plan_catalog *cat, bool for_view,
                         plan_query **out, ivm_err *err);
void plan_query_free(plan_query *q);

/* Binds and evaluates an expression that may refer only to the columns of one
 * relation (rel may be NULL for constant expressions): DELETE/UPDATE WHERE,
 * SET values, INSERT VALUES.  Compiled expressions read columns in relation
 * order; the result's static class is (*out)->type. */
ivm_rc plan_scalar(const plan_expr *e, const plan_relation *rel, dbsp_expr **out,
                   ivm_err *err);

#endif /* IVM_PLANNER_H */
