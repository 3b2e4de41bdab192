/*
 * dbsp.h: circuits of incremental operators over Z-sets (DBSP).  A plan is
 * an immutable graph of operator nodes built by the planner; a host
 * instantiates it once per worker, moves rows between workers at exchange
 * nodes, and runs one step per commit: deltas in at input nodes, deltas out
 * at output nodes, whose integrals are the views' contents.  Knows nothing
 * of SQL text; expressions arrive compiled.  Design: dbsp/README.md.
 *
 * Rows.  Every node outputs a stream of batches (spine.h) whose rows have the
 * node's ncols columns; the first nkey columns are the key (an entry's klen
 * covers exactly their bytes).  An entry's bytes are the whole row, so
 * decoding an entry yields columns 0..ncols-1, key columns first.
 */
#ifndef IVM_DBSP_H
#define IVM_DBSP_H

#include "ivm_base.h"
#include "runtime.h"
#include "spine.h"

/* ---- Expressions ---------------------------------------------------------- */

/* Operators of compiled scalar expressions.  Semantics follow SQLite on
 * typed values: NULL propagates (three-valued logic for AND/OR/NOT and
 * comparisons), integer arithmetic in 64 bits (overflow gives REAL, as in
 * SQLite), integer division truncates, x/0 and x%0 give NULL, INT and REAL
 * compare numerically, TEXT compares by bytes, a number is less than text. */
typedef enum dbsp_xop {
    DBSP_X_COL,      /* column `col` of the input row */
    DBSP_X_CONST,    /* the constant `k` */
    DBSP_X_NEG,      /* -a */
    DBSP_X_ADD, DBSP_X_SUB, DBSP_X_MUL, DBSP_X_DIV, DBSP_X_MOD,
    DBSP_X_CONCAT,   /* a || b: both as text (numbers as SQLite prints them) */
    DBSP_X_EQ, DBSP_X_NE, DBSP_X_LT, DBSP_X_LE, DBSP_X_GT, DBSP_X_GE,
    DBSP_X_IS,       /* a IS b: like = but NULL IS NULL is 1, never NULL */
    DBSP_X_ISNOT,    /* a IS NOT b */
    DBSP_X_AND, DBSP_X_OR, DBSP_X_NOT,
    DBSP_X_ISNULL, DBSP_X_NOTNULL,
    DBSP_X_CAST,     /* CAST(a AS type) with SQLite's conversions */
    DBSP_X_CASE,     /* args: when1, then1, ..., [else]; nargs odd = has else */
    DBSP_X_FUNC,     /* scalar function `fn` over args */
    DBSP_X_BITNOT,   /* ~a, on the 64-bit integer value of a */
    DBSP_X_BITAND, DBSP_X_BITOR,
    DBSP_X_LSHIFT,   /* a << b (a negative b shifts right; 64 or more gives 0 or -1) */
    DBSP_X_RSHIFT,   /* a >> b, arithmetic */
    DBSP_X_COUNT_
} dbsp_xop;

/* Scalar functions (DBSP_X_FUNC), SQLite's built-ins on typed values.
 * Arguments that want text take a number's text form; arguments that want
 * an integer read text through its numeric prefix.  Any NULL argument gives
 * NULL unless the comment says otherwise. */
typedef enum dbsp_fn {
    DBSP_FN_ABS,
    DBSP_FN_COALESCE,  /* first non-NULL argument (lazy) */
    DBSP_FN_LENGTH,    /* characters of text (UTF-8), digits of numbers */
    DBSP_FN_LOWER,     /* ASCII only, as SQLite without ICU */
    DBSP_FN_UPPER,
    DBSP_FN_ROUND,     /* round(x [, digits]): REAL */
    DBSP_FN_SUBSTR,    /* substr(s, start [, count]) in characters */
    DBSP_FN_TRIM,      /* trim(s [, chars]): chars default to ' ' */
    DBSP_FN_LTRIM,
    DBSP_FN_RTRIM,
    DBSP_FN_REPLACE,   /* replace(s, from, to) */
    DBSP_FN_INSTR,     /* instr(s, sub): 1-based character position, 0 if absent */
    DBSP_FN_NULLIF,    /* nullif(a, b): NULL if a = b, else a */
    DBSP_FN_MIN,       /* scalar min(a, b, ...): NULL if any argument is NULL */
    DBSP_FN_MAX,
    DBSP_FN_TYPEOF,    /* 'null', 'integer', 'real' or 'text'; never NULL */
    DBSP_FN_PRINTF,    /* printf(format, args...): NULL format gives NULL */
    DBSP_FN_HEX,       /* hex of the text form's bytes, upper case */
    DBSP_FN_QUOTE,     /* an SQL literal of the value; NULL gives 'NULL' */
    DBSP_FN_UNICODE,   /* code point of the first character */
    DBSP_FN_LIKE,      /* like(x, pattern [, escape]): x first, unlike SQL's
                          like(pattern, x) */
    DBSP_FN_GLOB,      /* glob(x, pattern): x first */
    DBSP_FN_NUMERIC,   /* numeric affinity: text that is wholly a number becomes
                          that number, anything else is unchanged (comparisons) */
    DBSP_FN_CAST_NUMERIC, /* CAST(a AS NUMERIC): INT when the value is integral
                             and fits, else REAL; text by its numeric prefix */
    DBSP_FN_SIGN,      /* -1, 0 or 1 (INT); NULL for text that is not a number */
    DBSP_FN_NUMKEY,    /* a numeric key's one encoding: a REAL that holds an
                          integer in range becomes that INT, everything else
                          is unchanged; so 2 and 2.0 (equal in SQL) become one
                          key and 2^53 + 1 stays apart from 2^53 (planner) */
    DBSP_FN_REAL_AFF,  /* an INT becomes that REAL, anything else is unchanged:
                          how SQLite reads a view's or subquery's column of
                          REAL affinity that a compound filled (planner) */
    DBSP_FN_SORTKEY,   /* sortkey(flags1, v1, flags2, v2, ...): a TEXT whose
                          bytes order rows as ORDER BY v1, v2, ... would, each
                          term ASC/DESC and NULLS FIRST/LAST by its constant
                          DBSP_ORDER_* flags; values equal in SQL (2, 2.0)
                          give equal keys.  Never NULL (dbsp/sortkey.c) */
    DBSP_FN_COUNT_
} dbsp_fn;

/* Longest text an expression may produce, as SQLite's SQLITE_MAX_LENGTH:
 * longer results are the error "string or blob too big".  The fuzzing build
 * lowers it (-DDBSP_TEXT_MAX=...) so that inputs stay fast. */
/* Flags of a DBSP_FN_SORTKEY term (0: ASC NULLS FIRST, SQLite's default for
 * ASC; SQLite's DESC is DBSP_ORDER_DESC | DBSP_ORDER_NULLS_LAST). */
enum {
    DBSP_ORDER_DESC = 1,
    DBSP_ORDER_NULLS_LAST = 2
};

#ifndef DBSP_TEXT_MAX
#define DBSP_TEXT_MAX 1000000000u
#endif

typedef struct dbsp_expr dbsp_expr;
struct dbsp_expr {
    uint16_t op;         /* dbsp_xop */
    uint8_t type;        /* static result class (ivm_type); TNULL = unknown */
    uint8_t fn;          /* dbsp_fn, for DBSP_X_FUNC; target class for CAST */
    uint32_t col;        /* DBSP_X_COL */
    uint32_t nargs;
    uint8_t intw;        /* the tree may have an INT value by INT steps alone (a
                            hint kept by the constructors, dbsp_expr_dup and
                            dbsp_exprs_share; any value gives right results) */
    dbsp_expr **args;    /* owned */
    ivm_value k;         /* DBSP_X_CONST; text bytes owned by the node */
    uint32_t memo;       /* 1 + the slot of a subexpression that occurs more than
                            once in its plan node's expressions (set by the node's
                            constructor; an operator evaluates it once per row);
                            0 for none.  Constructors and dbsp_expr_dup leave 0 */
};

/* Constructors return NULL on allocation failure (and on a wrong argument
 * count or a NULL argument, so that nested calls need one check).  *_owned
 * arguments are consumed even on failure.  For DBSP_X_CAST, `type` is the
 * target class (INT, REAL or TEXT) and is also stored in `fn`. */
dbsp_expr *dbsp_expr_col(uint32_t col, ivm_type type);
dbsp_expr *dbsp_expr_const(const ivm_value *v);            /* copies text */
dbsp_expr *dbsp_expr_op(dbsp_xop op, ivm_type type, uint32_t nargs,
                        dbsp_expr **args_owned);          /* takes the array's elements */
dbsp_expr *dbsp_expr_func(dbsp_fn fn, ivm_type type, uint32_t nargs,
                          dbsp_expr **args_owned);
dbsp_expr *dbsp_expr_dup(const dbsp_expr *e);
void dbsp_expr_free(dbsp_expr *e);

/* Evaluates e over row (values of the input row's columns).  Text results
 * may point into row's text or into scratch; they live until scratch is
 * reset.  Returns IVM_OK, or IVM_NOMEM, or an evaluation error recorded in
 * err (for example integer overflow where SQLite raises one). */
ivm_rc dbsp_expr_eval(const dbsp_expr *e, const ivm_value *row, rt_arena *scratch,
                      ivm_value *out, ivm_err *err);

/* SQLite truth of a value: NULL -> -1 (unknown), zero -> 0, else 1; text is
 * converted to a number first, as SQLite does. */
int dbsp_value_truth(const ivm_value *v);

/* True when text p[0..n) is wholly one number, spaces around allowed (what
 * SQLite's numeric affinity converts); *out is then the number: INT when it
 * is an integer that fits 64 bits, else REAL. */
bool dbsp_text_to_number(const char *p, uint32_t n, ivm_value *out);

/* SQLite's comparison of two non-NULL values (INT/REAL numeric, number <
 * text, text by bytes): <0, 0, >0. */
int dbsp_value_cmp(const ivm_value *a, const ivm_value *b);

/* Writes a human-readable form of e at buf (for EXPLAIN; columns print as
 * #0, #1, ...); returns the length that would have been written, like
 * snprintf (NUL-terminated when cap > 0; buf may be NULL when cap is 0). */
size_t dbsp_expr_describe(const dbsp_expr *e, char *buf, size_t cap);

/* ---- Aggregates ----------------------------------------------------------- */

typedef enum dbsp_agg_kind {
    DBSP_AGG_COUNT_STAR,  /* rows in the group */
    DBSP_AGG_COUNT,       /* non-NULL values of col */
    DBSP_AGG_SUM,         /* NULL over no non-NULL values; INT for INT input */
    DBSP_AGG_AVG,         /* REAL */
    DBSP_AGG_MIN,
    DBSP_AGG_MAX,
    DBSP_AGG_TOTAL,       /* REAL sum; 0.0 over no non-NULL values */
    DBSP_AGG_GROUP_CONCAT,/* text forms of the non-NULL values in ivm's order
                             (by value, dbsp_value_cmp; equal values by their
                             separator), joined by each later value's
                             separator ("," without DBSP_AGG_F_SEP) */
    DBSP_AGG_KIND_COUNT_
} dbsp_agg_kind;

/* dbsp_agg.flags.  Zero means a plain aggregate over every row of the group. */
enum {
    DBSP_AGG_F_DISTINCT = 1, /* over the distinct non-NULL values of col (each once) */
    DBSP_AGG_F_FILTER = 2,   /* only rows where column filter_col is true
                                (FILTER (WHERE ...), computed by the planner) */
    DBSP_AGG_F_SEP = 4       /* GROUP_CONCAT: the separator is column sep_col
                                (NULL reads as empty text) */
};

typedef struct dbsp_agg {
    uint8_t kind;         /* dbsp_agg_kind */
    uint8_t type;         /* result class */
    uint32_t col;         /* argument column of the input row (unused for COUNT_STAR) */
    uint8_t flags;        /* DBSP_AGG_F_* */
    uint32_t filter_col;  /* with DBSP_AGG_F_FILTER */
    uint32_t sep_col;     /* with DBSP_AGG_F_SEP */
} dbsp_agg;

/* ---- Plans ---------------------------------------------------------------- */

typedef uint32_t dbsp_node;

typedef enum dbsp_kind {
    DBSP_INPUT, DBSP_FILTER, DBSP_MAP, DBSP_PLUS, DBSP_NEGATE, DBSP_EXCHANGE,
    DBSP_INTEGRATE, DBSP_Z1, DBSP_DISTINCT, DBSP_JOIN, DBSP_AGGREGATE,
    DBSP_OUTPUT, DBSP_SETOP,
    DBSP_TOPK,
    DBSP_KIND_COUNT_
} dbsp_kind;

/* Set operations (dbsp_plan_setop).  With a = max(I(A)[r], 0) and
 * b = max(I(B)[r], 0), row r's weight in the result is: */
typedef enum dbsp_setop_kind {
    DBSP_SETOP_UNION,          /* 1 if a > 0 or b > 0, else 0 */
    DBSP_SETOP_INTERSECT,      /* 1 if a > 0 and b > 0 */
    DBSP_SETOP_EXCEPT,         /* 1 if a > 0 and b == 0 */
    DBSP_SETOP_INTERSECT_ALL,  /* min(a, b) */
    DBSP_SETOP_EXCEPT_ALL,     /* max(a - b, 0) */
    DBSP_SETOP_KIND_COUNT_
} dbsp_setop_kind;

/* An immutable graph once built.  Nodes are numbered in the order they are
 * added; every node's inputs come before it, so that order is a topological
 * order.  Building is single-threaded; a built plan may be shared. */
typedef struct dbsp_plan dbsp_plan;

dbsp_plan *dbsp_plan_new(void);
void dbsp_plan_free(dbsp_plan *p);

/* Every constructor writes the new node's id to *out.  On failure the plan
 * is unchanged (and *_owned arguments are freed).  Errors: IVM_NOMEM,
 * IVM_INVALID (a node id out of range or shapes that do not fit). */

/* Rows fed from outside each step. */
ivm_rc dbsp_plan_input(dbsp_plan *p, uint32_t ncols, uint32_t nkey, dbsp_node *out);
/* Rows of in for which pred is true.  Linear: per step O(|delta|). */
ivm_rc dbsp_plan_filter(dbsp_plan *p, dbsp_node in, dbsp_expr *pred_owned, dbsp_node *out);
/* True if node n of p is an input of key width 0 that only maps read.  A
 * map reads each row's bytes whole (spine_batch_row) and builds its own
 * entries, so the length of its input's keys does not matter to it: such
 * an input may be fed rows keyed by themselves
 * (dbsp_seg_feed_take_row_keyed).  Any other reader would see or pass on
 * the keys (D1). */
bool dbsp_plan_input_rows_whole(const dbsp_plan *p, dbsp_node n);
/* Each row becomes (exprs[0], ..., exprs[n-1]); the first nkey are the key.
 * Takes the array's elements (the array itself stays the caller's), as
 * dbsp_expr_op.  Linear: per step O(|delta| log |delta|) (output re-sorted). */
ivm_rc dbsp_plan_map(dbsp_plan *p, dbsp_node in, uint32_t nexprs,
                     dbsp_expr **exprs_owned, uint32_t nkey, dbsp_node *out);
/* a + b (same ncols and same nkey).  Linear. */
ivm_rc dbsp_plan_plus(dbsp_plan *p, dbsp_node a, dbsp_node b, dbsp_node *out);
/* -a.  Linear. */
ivm_rc dbsp_plan_negate(dbsp_plan *p, dbsp_node in, dbsp_node *out);
/* shard_accumulate: each row moves to the worker that owns its key. */
ivm_rc dbsp_plan_exchange(dbsp_plan *p, dbsp_node in, dbsp_node *out);
/* Keeps I(in) as a spine for the operators that read it; its stream output
 * is the delta itself, so a reader sees both dx and I(x) (after this step). */
ivm_rc dbsp_plan_integrate(dbsp_plan *p, dbsp_node in, dbsp_node *out);
/* Delay: outputs the previous step's input. */
ivm_rc dbsp_plan_z1(dbsp_plan *p, dbsp_node in, dbsp_node *out);
/* Set semantics of an integrate node: d(distinct(I(x))).  Per step
 * O(|dx| log |I|). */
ivm_rc dbsp_plan_distinct(dbsp_plan *p, dbsp_node in_integrated, dbsp_node *out);
/* Equi-join of two integrate nodes on their keys (equal nkey):
 * d(A join B) = dA join I(B) + z^-1(I(A)) join dB.  Output columns: the key,
 * a's value columns, b's value columns; key = the join key.  Keys match when
 * their encodings are equal: NULL matches NULL and 1 differs from 1.0, so
 * for SQL's = the planner filters NULL keys and casts both sides to one
 * class.  Per step O((|dA| + |dB|) log |I| + output). */
ivm_rc dbsp_plan_join(dbsp_plan *p, dbsp_node a_integrated, dbsp_node b_integrated,
                      dbsp_node *out);
/* GROUP BY the key of an integrate node: output columns are the key columns
 * then one per aggregate; key = the group.  With nkey == 0 the one group
 * exists even when empty (COUNT 0, TOTAL 0.0, others NULL), as SQL wants.
 * Keeps each group's accumulators (and DISTINCT values' multiplicities) in
 * spines: per step O(|d in|) folds plus a seek per touched group (and per
 * distinct value of a DISTINCT), except for the groups a fold cannot keep
 * exactly (REAL sums, a MIN/MAX losing its best, any GROUP_CONCAT), which
 * are recomputed from the integral at O(size of the group), times its log
 * for DISTINCT and GROUP_CONCAT (dbsp/README.md, D8).  IVM_INVALID for
 * an unknown kind or flag, or a column (argument, filter, separator) beyond
 * the input's. */
ivm_rc dbsp_plan_aggregate(dbsp_plan *p, dbsp_node in_integrated, uint32_t naggs,
                           const dbsp_agg *aggs, dbsp_node *out);
/* Whether dbsp_plan_count takes aggregate g.  Thread-safe (pure). */
bool dbsp_agg_folds_exactly(const dbsp_agg *g);
/* dbsp_plan_aggregate for aggregates that fold exactly over a multiset
 * (dbsp_agg_folds_exactly: COUNT(*) and COUNT(x), DISTINCT or not, and
 * SUM, TOTAL and AVG without DISTINCT, each with or without FILTER) over a
 * sharded stream `in` rather than its integral, for a caller that promises
 * that the integral of in is a multiset at every step (no row's total
 * weight below zero: every SQL relation's stream).  They never recompute a
 * group (D8) but for a total weight that drops to zero, which then means
 * the group is gone, and for a non-INT summand, whose rows alone the node
 * keeps: so it needs no integral, and none is kept.  IVM_INVALID as
 * dbsp_plan_aggregate, and for any other aggregate. */
ivm_rc dbsp_plan_count(dbsp_plan *p, dbsp_node in, uint32_t naggs, const dbsp_agg *aggs,
                       dbsp_node *out);
/* A set operation over two integrate nodes of equal ncols and nkey (the
 * planner keys both on the whole row): out = f(I(A), I(B)) row by row, f as
 * dbsp_setop_kind says; output columns and key are the inputs'.  Rows match
 * when their encodings are equal (NULL matches NULL, 1 differs from 1.0).
 * Per step O((|dA| + |dB|) log |I|).  IVM_INVALID for an unknown kind or
 * inputs that are not integrate nodes of one shape. */
ivm_rc dbsp_plan_setop(dbsp_plan *p, dbsp_setop_kind kind, dbsp_node a_integrated,
                       dbsp_node b_integrated, dbsp_node *out);
/* Top-k of an integrate node: per key (a partition; nkey 0 is one global
 * partition), the values ranked offset+1 .. offset+limit in the byte order
 * of their encoding, a row present w times counting w times.  The output
 * has the input's shape; its integral is that sub-multiset of I(in).  The
 * planner puts a DBSP_FN_SORTKEY column first among the values so that byte
 * order is the ORDER BY order, ties broken by the rest of the row.  Per
 * step, for each partition in d in: O(|d in| + offset + limit) cursor steps
 * (each O(log batches)), whatever the partition's size.  With rank, the
 * output has one more column, last: the row's 1-based position in its
 * partition (ROW_NUMBER), a value present w times becoming w rows of
 * weight 1 with consecutive positions.  IVM_INVALID for a negative offset
 * or limit, or an input that is not an integrate node. */
ivm_rc dbsp_plan_topk(dbsp_plan *p, dbsp_node in_integrated, int64_t offset, int64_t limit,
                      bool rank, dbsp_node *out);
/* A view's output: keeps I(in), the view's contents, and the last delta. */
ivm_rc dbsp_plan_output(dbsp_plan *p, dbsp_node in, dbsp_node *out);

/* Fuses chains of stateless nodes of a finished plan: a map or filter whose
 * input is a map or filter that nothing else reads, or a map that only
 * moves columns (one of the two a map),
 * becomes one map over that node's input, which evaluates the chain's
 * predicates and expressions row by row and builds one batch instead of
 * one per node; then drops the nodes nothing reads any more, except
 * inputs and outputs (a dropped node did no more than feed a dropped or
 * fused reader).  Then a map that is a join's only reader becomes a join
 * that emits the map's rows of each pair (a join with exprs and, maybe,
 * a where, the map's width and key), and the join goes.  Results do not
 * change, nor does any node's sharding.
 * Node ids change, keeping their order: remap_out (one entry per node of
 * the plan before the call) receives each old id's new id, or UINT32_MAX
 * for a dropped node.  IVM_NOMEM leaves a valid plan (perhaps fused, with
 * ids unchanged and remap_out unset). */
ivm_rc dbsp_plan_fuse(dbsp_plan *p, dbsp_node *remap_out);

uint32_t dbsp_plan_nodes(const dbsp_plan *p);
dbsp_kind dbsp_plan_kind(const dbsp_plan *p, dbsp_node n);
uint32_t dbsp_plan_ncols(const dbsp_plan *p, dbsp_node n);
uint32_t dbsp_plan_nkey(const dbsp_plan *p, dbsp_node n);
/* The number of key columns a join node matches its inputs on (their
 * nkey); 0 for any other node.  A join with a map fused into it
 * (dbsp_plan_fuse) has the map's key as its nkey. */
uint32_t dbsp_plan_join_nkey(const dbsp_plan *p, dbsp_node n);
/* True when every row of n's stream sits on the worker that owns its key
 * at every step (D4: an exchange's output, and what keeps that), so that a
 * stateful operator may read n's integral without another exchange. */
bool dbsp_plan_sharded(const dbsp_plan *p, dbsp_node n);
/* Writes a readable listing of the plan to buf like snprintf (returns the
 * length needed; NUL-terminated when cap > 0; buf may be NULL when cap is
 * 0): one line per node with its id, operator, inputs, width and key, what
 * it computes, whether it is sharded, the integrals it reads, where an
 * exchange routes rows and the state it keeps (dbsp/README.md, EXPLAIN). */
size_t dbsp_plan_describe(const dbsp_plan *p, char *buf, size_t cap);
/* The same facts as a Graphviz digraph named name (NULL: "circuit"), like
 * snprintf: one node statement "nI [label=...]" per plan node, then one
 * edge "nA -> nB" per input (a join's labelled left and right). */
size_t dbsp_plan_dot(const dbsp_plan *p, const char *name, char *buf, size_t cap);

/* ---- Circuits: every view's plan on one pool of workers -------------------- */

/* A circuit runs several plans ("segments", one per view) on the workers of
 * one scheduler.  A step is one share per worker that runs every dirty
 * segment in order (worker 0's on the calling thread, the others as tasks,
 * or all on the calling thread when small: dbsp_step_opts); a link feeds an output node of one segment into an
 * input node of a later one on each worker, inside the task.  A segment
 * whose step fails enters its own sticky error state, and so does every
 * segment reading it in that step; the others are not affected.  All calls
 * come from one controlling thread, between steps (dbsp_seg_cursor may also
 * run during a step).  Design: dbsp/README.md, D11-D13. */
typedef struct dbsp_circuit dbsp_circuit;
typedef struct dbsp_seg dbsp_seg;

/* sched is borrowed and must outlive the circuit.  IVM_NOMEM. */
ivm_rc dbsp_circuit_new(rt_sched *sched, dbsp_circuit **out);
/* Frees every segment and their state. */
void dbsp_circuit_free(dbsp_circuit *c);
/* Instantiates plan p (borrowed; it must outlive the segment) on every
 * worker as the last segment; *out is owned by the circuit until
 * dbsp_circuit_remove.  IVM_INVALID when there are several workers and a
 * stateful operator reads unsharded rows (D4); IVM_NOMEM. */
ivm_rc dbsp_circuit_add(dbsp_circuit *c, const dbsp_plan *p, dbsp_seg **out);
/* Removes s and frees all its operators' state; links from s to other
 * segments are dropped (they are no longer fed by it).  NULL is a no-op. */
void dbsp_circuit_remove(dbsp_circuit *c, dbsp_seg *s);
/* From the next step on, the change of `output` (an output node of from)
 * on each worker is fed to `input` (an input node of to, same ncols; rows
 * are re-keyed to its nkey) on the same worker, whenever from steps.
 * IVM_INVALID unless from was added before to and the nodes fit. */
ivm_rc dbsp_circuit_link(dbsp_circuit *c, dbsp_seg *from, dbsp_node output, dbsp_seg *to,
                         dbsp_node input);
/* Runs one step of every segment that was fed or touched since the last
 * step and of every segment linked from one that runs, in order.  A
 * segment's own failure does not fail the step (see dbsp_seg_status);
 * returns an error only when no step could run (IVM_NOMEM). */
ivm_rc dbsp_circuit_step(dbsp_circuit *c, ivm_err *err);
uint32_t dbsp_circuit_segments(const dbsp_circuit *c);

/* Which threads run a step (dbsp/README.md, D5).  The calling thread always
 * runs worker 0's share.  A step fed fewer than solo_max entries (counted
 * over every dbsp_seg_feed_take since the last step) runs every worker's
 * share on the calling thread too, in turns, until it has used
 * solo_budget_ns of that thread's CPU time; then, and for any other step,
 * workers 1..N-1 run on their scheduler threads.  Results never depend on these; only the thread hand-offs do.
 * solo_max 0 spreads every step; solo_budget_ns UINT64_MAX never hands a
 * solo step over. */
typedef struct dbsp_step_opts {
    size_t solo_max;
    uint64_t solo_budget_ns;
} dbsp_step_opts;
#define DBSP_SOLO_MAX_DEFAULT 1024
#define DBSP_SOLO_BUDGET_DEFAULT_NS 1000000u
/* Between steps.  A new circuit has the defaults above, or solo_max from
 * the environment variable IVM_SOLO_MAX when set (tests use it to force
 * either way through a whole engine). */
void dbsp_circuit_set_step_opts(dbsp_circuit *c, const dbsp_step_opts *o);

/* Queues a batch (reference taken, even on failure) for an input node of s
 * for the next step, and marks s dirty.  Batches are spread over workers
 * round robin (D6).  IVM_INVALID for a wrong node or shape; s's sticky
 * error when it failed. */
ivm_rc dbsp_seg_feed_take(dbsp_seg *s, dbsp_node input, spine_batch *b_owned);
/* As dbsp_seg_feed_take, for a batch its caller built to the input's shape
 * (every row of the input's column count, keys of its key width: a table's
 * change as input rows, from rows checked column by column as they were
 * pushed): the rows are not walked again to check it, except in builds
 * with IVM_SLOW_CHECKS, where a misshapen batch fails an assertion. */
ivm_rc dbsp_seg_feed_take_shaped(dbsp_seg *s, dbsp_node input, spine_batch *b_owned);
/* As dbsp_seg_feed_take_shaped, for a batch of rows keyed by themselves
 * (every entry's key is the whole entry, as a table without PRIMARY KEY
 * stores its rows) fed to an input node of key width 0 that only maps
 * read (dbsp_plan_input_rows_whole): the batch goes in as it is, not
 * copied with its keys emptied (D1).  IVM_INVALID for any other node. */
ivm_rc dbsp_seg_feed_take_row_keyed(dbsp_seg *s, dbsp_node input, spine_batch *b_owned);
/* Makes s step at the next circuit step even if nothing is fed. */
void dbsp_seg_touch(dbsp_seg *s);
/* IVM_OK, or the sticky error of s (its message copied to err if non-NULL). */
ivm_rc dbsp_seg_status(const dbsp_seg *s, ivm_err *err);
/* True if s ran (successfully) in the last circuit step. */
bool dbsp_seg_stepped(const dbsp_seg *s);
/* As dbsp_host_delta and dbsp_host_cursor, for one segment; a segment that
 * did not run in the last step has an empty change. */
ivm_rc dbsp_seg_delta(dbsp_seg *s, dbsp_node output, spine_batch **out);
ivm_rc dbsp_seg_cursor(dbsp_seg *s, dbsp_node output, spine_cursor **out);
/* Compacts every spine of the segment's operators on the calling thread,
 * as dbsp_host_compact does for a host (below); between steps only. */
ivm_rc dbsp_seg_compact(dbsp_seg *s);
/* Rows and bytes held by s's spines (all workers), as dbsp_host_stats. */
void dbsp_seg_stats(const dbsp_seg *s, spine_stats *out);

/* ---- Hosts: a plan running on workers ------------------------------------- */

/* A circuit with one segment, whose failure is the host's: one instance of
 * a plan per worker plus the exchanges between them.  All
 * calls come from one controlling thread (the engine); steps run as tasks on
 * the scheduler's workers, one per worker, and the controlling thread sleeps
 * until they are done. */
typedef struct dbsp_host dbsp_host;

/* sched is borrowed and must outlive the host; its size is the worker count.
 * The plan is borrowed too and must not change while the host lives.
 * IVM_INVALID when there are several workers and a distinct, join, set
 * operation or aggregate reads rows not routed through an exchange on its key
 * (dbsp/README.md, D4). */
ivm_rc dbsp_host_new(const dbsp_plan *p, rt_sched *sched, dbsp_host **out);
void dbsp_host_free(dbsp_host *h);

/* Queues a batch (reference taken, even on failure) for an input node for
 * the next step.  Batches are spread over workers round robin. */
ivm_rc dbsp_host_feed_take(dbsp_host *h, dbsp_node input, spine_batch *b_owned);
/* Runs one step on every worker.  On failure the host is in a sticky error
 * state (every later call returns the same error) and err says why. */
ivm_rc dbsp_host_step(dbsp_host *h, ivm_err *err);
/* The change the last step made at an output node, gathered across workers
 * and consolidated (n may be 0).  Owned by the caller.  IVM_INVALID if the
 * node is not an output node. */
ivm_rc dbsp_host_delta(dbsp_host *h, dbsp_node output, spine_batch **out);
/* A cursor over an output node's contents (its integral) across workers,
 * read as one collection: a snapshot of the last published step (D11).
 * Thread-safe against a step in progress. */
ivm_rc dbsp_host_cursor(dbsp_host *h, dbsp_node output, spine_cursor **out);
/* Rows and bytes held by the host's spines (all workers): every count is
 * summed, fanout is the largest. */
void dbsp_host_stats(dbsp_host *h, spine_stats *out);
/* As dbsp_circuit_set_step_opts, for the host's circuit. */
void dbsp_host_set_step_opts(dbsp_host *h, const dbsp_step_opts *o);
/* Merges every spine of every operator on every worker into one batch, in
 * the calling thread, so that retractions cancel their insertions now
 * rather than when the merger reaches them (the engine does this while over
 * its memory limit).  Call only between steps: no step may be in progress,
 * and the caller stands in for the workers meanwhile.  Contents do not
 * change.  O(state).  Returns the first error (IVM_NOMEM leaves that spine
 * as it was); a host in its sticky error state returns that. */
ivm_rc dbsp_host_compact(dbsp_host *h);

#endif /* IVM_DBSP_H */
