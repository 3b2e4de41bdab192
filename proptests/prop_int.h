/*
 * prop_int.h: what the files of the view property tester share.  The tester
 * generates a random case (a schema, views and a change stream) as a tree
 * model (model.c, gen.c), renders it to SQL statements, runs them through ivm
 * and SQLite and compares every view after every statement (run.c), and on a
 * failure shrinks the model while the failure persists (shrink.c).  The
 * driver is prop_views.c; proptests/README.md explains the whole.
 *
 * The tester uses only include/ivm.h and libsqlite3.  Nothing here is thread
 * safe: one case runs at a time, each in a child process of its own.
 */
#ifndef PROP_INT_H
#define PROP_INT_H

#include "ivm.h"

#include <stdio.h>

/* ---- Limits --------------------------------------------------------------- */

#define PT_MAX_TABLES 4
#define PT_MAX_COLS 6
#define PT_MAX_SRC 4       /* FROM items of one query */
#define PT_MAX_GROUP 3
#define PT_MAX_ITEMS 8     /* result columns of one query */
#define PT_MAX_VIEWS 12
#define PT_MAX_SET 3       /* SET items of one UPDATE */
#define PT_MAX_WORKERS 4   /* worker counts run side by side */

/* ---- Growing text ---------------------------------------------------------- */

typedef struct ptext {
    char *p;
    size_t n, cap;
} ptext;

void pt_put(ptext *t, const char *s, size_t n);
void pt_puts(ptext *t, const char *s);
void pt_printf(ptext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pt_text_free(ptext *t);
/* Exits with status 2 and a message: the tester itself ran out of memory. */
void pt_oom(void) __attribute__((noreturn));
void *pt_xmalloc(size_t n);
char *pt_xstrdup(const char *s);

/* ---- Random numbers (splitmix64: a case is reproducible from its seed) ----- */

typedef struct prng {
    uint64_t s;
} prng;

uint64_t pt_rnd(prng *r);
/* Uniform in [0, n); n > 0. */
int pt_rn(prng *r, int n);
/* True with probability pct / 100. */
bool pt_pct(prng *r, int pct);

/* ---- Constructs ------------------------------------------------------------ */

/* What a generated view uses.  Each CREATE VIEW carries the set of its
 * constructs so that refusals can be counted per construct. */
typedef enum pcons {
    PC_WHERE, PC_JOIN_ON, PC_JOIN_COMMA, PC_JOIN_3, PC_SELF_JOIN, PC_CROSS,
    PC_GROUP_BY, PC_AGG_GLOBAL, PC_HAVING, PC_DISTINCT, PC_VIEW_ON_VIEW,
    PC_CASE, PC_CAST, PC_COALESCE, PC_CONCAT, PC_BETWEEN_IN, PC_MIXED_TYPES,
    PC_LIKE, PC_OUTER_JOIN, PC_IN_SUBQUERY, PC_EXISTS, PC_SCALAR_SUBQUERY,
    PC_UNION, PC_INTERSECT, PC_EXCEPT, PC_ORDER_LIMIT, PC_AGG_DISTINCT,
    PC_AGG_FILTER, PC_FROM_SUBQUERY, PC_WITH, PC_OTHER_FUNC, PC_NUM_KEY,
    PC_NUM_MIX, PC_STAR, PC_COLLIST, PC_ORDER, PC_PADDED,
    PC_COUNT
} pcons;

extern const char *const pt_cons_names[PC_COUNT];

/* ---- The model of a case ------------------------------------------------------ */

/* Static classes of generated expressions; PT_BOOL is an INTEGER 0/1/NULL. */
enum { PT_INT, PT_REAL, PT_TEXT, PT_BOOL };

typedef struct pcol {
    char name[8];
    uint8_t type;            /* PT_INT, PT_REAL or PT_TEXT */
    const char *decl;        /* the declared type as written */
    bool not_null;
    bool dead;               /* removed by shrinking */
    const char *dflt;        /* DEFAULT literal, or NULL */
} pcol;

typedef struct ptable {
    char name[12];
    int ncols;
    pcol cols[PT_MAX_COLS];
    int npk;                 /* PRIMARY KEY columns (0: none) */
    int pk[PT_MAX_COLS];
    bool pk_inline;          /* written `col ... PRIMARY KEY` (npk == 1) */
    bool dead;
} ptable;

typedef struct pexpr pexpr;
typedef struct pquery pquery;

enum {                       /* join kinds of FROM items after the first */
    J_FIRST, J_COMMA, J_INNER, J_CROSS, J_LEFT, J_RIGHT, J_FULL
};

/* One FROM item: a table, an earlier view or a subquery, under an alias. */
typedef struct psrc {
    char alias[12];
    int kind;                /* SRC_TABLE, SRC_VIEW, SRC_SUB */
    int rel;                 /* table or view index */
    pquery *sub;             /* SRC_SUB */
    int join;                /* J_* */
    pexpr *on;
    bool dead;
} psrc;

enum { SRC_TABLE, SRC_VIEW, SRC_SUB };

typedef struct pitem {
    pexpr *e;
    uint8_t type;
    char name[12];           /* rendered `AS name` */
    bool dead;
} pitem;

enum { SET_NONE, SET_UNION, SET_UNION_ALL, SET_INTERSECT, SET_EXCEPT };

struct pquery {
    bool distinct;
    bool agg;                /* an aggregate query (GROUP BY or aggregates) */
    int nsrc;
    psrc src[PT_MAX_SRC];
    pexpr *where;
    int ngroup;
    pexpr *group[PT_MAX_GROUP];
    pexpr *having;
    int nitems;
    pitem items[PT_MAX_ITEMS];
    int setop;               /* SET_*: this query, then setop, then next */
    pquery *next;
    int limit;               /* >= 0: ORDER BY every column LIMIT limit */
    bool with;               /* rendered as WITH w AS (query) SELECT * FROM w */
    int with_twice;          /* with: SET_UNION_ALL or SET_INTERSECT reads w
                                a second time (SET_NONE: once) */
    bool order;              /* ORDER BY every column, no LIMIT (ignored in a view) */
    bool star;               /* SELECT *: item i is column i of the only FROM item */
};

typedef struct pview {
    char name[12];
    pquery *q;
    uint64_t cons;           /* bit set of pcons */
    bool collist;            /* CREATE VIEW v(names) AS ... */
    bool dead;
} pview;

enum {                       /* expression kinds */
    X_LIT,                   /* lit */
    X_COL,                   /* src (NULL in DML: tab) and col */
    X_BIN,                   /* (args[0] op args[1]) */
    X_PRE,                   /* (op args[0]) */
    X_POST,                  /* (args[0] op) */
    X_FUNC,                  /* op(args...) */
    X_AGG,                   /* op([DISTINCT] args[0] | *) [FILTER (WHERE args[1])] */
    X_CASE,                  /* CASE [args[0]] WHEN .. THEN .. [ELSE ..] END */
    X_CAST,                  /* CAST(args[0] AS op) */
    X_BETWEEN,               /* (args[0] [NOT] BETWEEN args[1] AND args[2]) */
    X_INLIST,                /* (args[0] [NOT] IN (args[1..])) */
    X_SUBQ,                  /* sub as IN, EXISTS or scalar (flags) */
    X_GROUP                  /* owner->group[col]: a GROUP BY term again */
};

enum {                       /* flags */
    XF_NOT = 1,              /* NOT BETWEEN, NOT IN, NOT EXISTS */
    XF_DISTINCT = 2,         /* aggregate DISTINCT */
    XF_BASE = 4,             /* CASE with a base expression */
    XF_EXISTS = 8,           /* X_SUBQ: EXISTS (sub) */
    XF_IN = 16,              /* X_SUBQ: args[0] IN (sub) */
    XF_STAR = 32             /* X_AGG: COUNT(*) */
};

struct pexpr {
    uint8_t kind, type, flags;
    const char *op;
    int nargs;
    pexpr **args;
    const char *lit;
    const psrc *src;         /* X_COL in a query */
    const ptable *tab;       /* X_COL in a DML statement */
    int col;                 /* X_COL column, X_GROUP term */
    pquery *sub;             /* X_SUBQ */
    const pquery *owner;     /* X_GROUP */
};

typedef struct prow {
    pexpr **vals;            /* one per table column */
    bool dead;
} prow;

enum {                       /* statement kinds */
    S_TABLE, S_VIEW, S_INSERT, S_DELETE, S_UPDATE, S_BEGIN, S_COMMIT, S_ROLLBACK
};

typedef struct pstep {
    int kind;
    int rel;                 /* table (S_TABLE, DML) or view (S_VIEW) */
    bool dead;
    int nrows;               /* S_INSERT */
    prow *rows;
    bool *named;             /* S_INSERT with a column list: the named columns */
    pquery *sel;             /* S_INSERT ... SELECT: item i fills column i */
    int nset;                /* S_UPDATE */
    int setcol[PT_MAX_SET];
    pexpr *setval[PT_MAX_SET];
    bool setdead[PT_MAX_SET];
    pexpr *where;            /* S_DELETE, S_UPDATE */
} pstep;

/* Every node of a case lives in its arena and dies with the case. */
typedef struct parena_blk parena_blk;
typedef struct pcase {
    parena_blk *arena;
    int ntables;
    ptable tables[PT_MAX_TABLES];
    int nviews;
    pview views[PT_MAX_VIEWS];
    int nsteps, stepcap;
    pstep *steps;
} pcase;

void *pt_alloc(pcase *c, size_t n);          /* zeroed, never fails */
const char *pt_strdup(pcase *c, const char *s);
void pt_case_free(pcase *c);
pexpr *pt_expr_new(pcase *c, int kind, int type, int nargs);
pexpr *pt_lit(pcase *c, int type, const char *text);
pstep *pt_step_add(pcase *c, int kind, int rel);

/* The name and class of column col of a FROM item, and whether it is gone. */
const char *pt_src_col(const pcase *c, const psrc *s, int col, int *type_out, bool *dead_out);
int pt_src_ncols(const pcase *c, const psrc *s);
int pt_live_cols(const pcase *c, const pquery *q);

/* ---- Scripts: rendered cases ------------------------------------------------------ */

/* A script is a list of SQL statements, from a rendered case or a file. */
typedef struct pstmt {
    char *sql;               /* without the final ';' */
    uint64_t cons;           /* CREATE VIEW: constructs (0 when unknown) */
    int step;                /* index of the model step, -1 for files */
    uint32_t line;           /* first line in its file (files only) */
} pstmt;

typedef struct pscript {
    int n, cap;
    pstmt *s;
} pscript;

void pt_script_add(pscript *sc, const char *sql, uint64_t cons, int step, uint32_t line);
void pt_script_free(pscript *sc);
/* Renders every live step of c; pt_render_query renders one query. */
void pt_render(const pcase *c, pscript *out);
void pt_render_query(const pcase *c, const pquery *q, ptext *t);
/* Splits a file's text into statements (comment lines kept out). */
void pt_script_parse(const char *text, pscript *out);

/* ---- Generation -------------------------------------------------------------------- */

typedef struct pgen_opts {
    int steps;               /* DML statements per case, about */
    int max_views;
    int unsupported_pct;     /* chance that a view uses a construct ivm refuses today */
    uint64_t avoid;          /* bit set of pcons never to generate on purpose */
    int edge_pct;            /* share of integers near 2^53 and other edge values */
} pgen_opts;

void pt_generate(pcase *c, uint64_t seed, const pgen_opts *o);

/* ---- Running ------------------------------------------------------------------------- */

enum {                       /* failure kinds */
    F_NONE,
    F_VIEW_DIFF,             /* a view differs from SQLite or from its recomputation */
    F_STMT,                  /* a statement succeeded in one engine and failed in the other */
    F_VIEW_REJECTED,         /* ivm rejects, other than as unsupported, a view SQLite accepts */
    F_READ,                  /* reading a view or running its SELECT failed in ivm */
    F_INVALID,               /* SQLite rejects a generated view: a bug in the generator */
    F_WORKERS,               /* worker counts disagree on a statement's outcome */
    F_TABLE_DIFF,            /* a table's rows differ from SQLite's */
    F_CRASH,                 /* the run died on a signal */
    F_TIMEOUT,               /* the run took longer than the time limit */
    F_KINDS
};

extern const char *const pt_fail_names[F_KINDS];

#define PT_MAX_REASONS 40

typedef struct pstats {
    uint64_t cases, statements, stmt_failed, commits, rollbacks;
    uint64_t views, refused, skipped, checks, table_checks, rows_compared, oracle_errors;
    uint64_t unflattened;    /* statements SQLite prepared again without flattening */
    uint64_t known_diffs;    /* writes of values a typed column refuses (run.c) */
    uint64_t count_checks;   /* view checks by row count only (too many rows) */
    uint64_t given_up;       /* cases stopped: SQLite took too long (run.c) */
    uint64_t cons_seen[PC_COUNT], cons_refused[PC_COUNT];
    int nreasons;
    struct {
        char text[96];
        uint64_t n;
    } reasons[PT_MAX_REASONS];
} pstats;

void pt_stats_add(pstats *to, const pstats *from);

typedef struct poutcome {
    int kind;                /* F_* */
    int stmt;                /* index of the statement after which it failed */
    uint32_t workers;        /* worker count of the ivm instance that failed */
    char view[32];           /* F_VIEW_DIFF, F_READ: the view; F_TABLE_DIFF: the table */
    int view_stmt;           /* statement that created that view, or -1 */
    int view_ncols;          /* its column count */
    int progress;            /* statements started (for crashes) */
    char sig[48];            /* the failure's finer kind: shrinking keeps it */
    char msg[6144];
} poutcome;

typedef struct prun_opts {
    uint32_t workers[PT_MAX_WORKERS];
    int nworkers;
    bool fork;               /* run in a child process (survives crashes) */
    bool quiet;              /* child's standard error to /dev/null */
    int timeout;             /* seconds per run (fork only) */
    int stop_after;          /* run statements [0, stop_after]; -1: all */
    bool no_table_check;     /* compare views only, not tables (self-test) */
    int fault_step;          /* self-test: the statement of this model step is not
                              * run in SQLite; -1: none */
} prun_opts;

/* Runs a script through ivm (once per worker count) and SQLite, comparing
 * every view after every statement.  Fills *out (kind F_NONE when all
 * agreed) and adds to *stats. */
void pt_run(const pscript *sc, const prun_opts *o, poutcome *out, pstats *stats);

/* ---- Shrinking ------------------------------------------------------------------------- */

typedef struct pshrink_opts {
    prun_opts run;
    double seconds;          /* budget */
    bool verbose;
} pshrink_opts;

/* Shrinks c in place while a run keeps failing with first->kind; updates
 * *first to the last failure seen.  Returns the number of runs tried. */
int pt_shrink(pcase *c, const pshrink_opts *o, poutcome *first);

/* Prints a script that reproduces a failure: statements, then the failing
 * view read and its SELECT, both ordered. */
void pt_print_repro(FILE *f, const pscript *sc, const poutcome *o, const char *header);

#endif /* PROP_INT_H */
