/*
 * dbsp_int.h: layouts shared inside dbsp/ and nowhere else: plan nodes, the
 * operator vtable, and the per-worker context an operator runs in.  The
 * model, the row/key convention and the invariants D1.. cited in the code are
 * in dbsp/README.md.
 */
#ifndef DBSP_INT_H
#define DBSP_INT_H

#include "dbsp.h"
#include "exchange.h"

typedef struct dbsp_ctx dbsp_ctx;

/* ---- Operator vtable ----------------------------------------------------- */

/* One per operator kind, const.  The plan holds pointers to these; every
 * worker allocates state_size zeroed bytes per node and runs the hooks on
 * them, so that operator state is never shared between workers (D6).
 *
 * eval runs one step: it reads its inputs' deltas of this step through the
 * context (dbsp_ctx_in) and writes one owned output delta (never NULL).  It
 * may return IVM_PENDING when it cannot finish now (an exchange waiting for
 * other workers); it is then called again, at a later stage of the same step,
 * and must resume where it stopped (D5).  Any other failure leaves the host
 * in its sticky error state, so eval need not undo half-done work.
 *
 * Issue "Exchange" adds flush and commit hooks (end of a transaction) and
 * issue "Checkpoint" adds checkpoint and restore; both slot in here. */
typedef struct dbsp_op_vtab {
    const char *name;          /* "filter": as EXPLAIN prints it */
    const char *state_desc;    /* what the operator keeps between steps, or NULL */
    size_t state_size;
    ivm_rc (*init)(dbsp_ctx *c, dbsp_node n, void *state);
    ivm_rc (*eval)(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out);
    /* The integral readers may seek (integrate, output), or NULL. */
    const spine *(*trace)(const void *state);
    /* Adds what the operator's spines hold to *acc; NULL if it has none. */
    void (*stats)(const void *state, spine_stats *acc);
    /* Frees everything the state owns (not the state block itself); must
     * cope with a state whose init failed half-way or never ran (zeroed). */
    void (*fini)(void *state);
    /* Merges the operator's spines into one batch each, between steps, in
     * the calling thread (dbsp_host_compact); NULL if it has none. */
    ivm_rc (*compact)(void *state);
} dbsp_op_vtab;

extern const dbsp_op_vtab dbsp_op_input_vt;
extern const dbsp_op_vtab dbsp_op_filter_vt;
extern const dbsp_op_vtab dbsp_op_map_vt;
extern const dbsp_op_vtab dbsp_op_plus_vt;
extern const dbsp_op_vtab dbsp_op_negate_vt;
extern const dbsp_op_vtab dbsp_op_exchange_vt;
extern const dbsp_op_vtab dbsp_op_integrate_vt;
extern const dbsp_op_vtab dbsp_op_z1_vt;
extern const dbsp_op_vtab dbsp_op_distinct_vt;
extern const dbsp_op_vtab dbsp_op_join_vt;
extern const dbsp_op_vtab dbsp_op_aggregate_vt;
extern const dbsp_op_vtab dbsp_op_output_vt;
/* One per dbsp_setop_kind, in that order (op_setop.c). */
extern const dbsp_op_vtab dbsp_op_setop_vt[DBSP_SETOP_KIND_COUNT_];
extern const dbsp_op_vtab dbsp_op_topk_vt;

/* ---- Plans --------------------------------------------------------------- */

typedef struct dbsp_pnode {
    dbsp_kind kind;
    const dbsp_op_vtab *vt;
    uint32_t ncols, nkey;
    uint32_t nin;
    dbsp_node in[2];
    /* Every row of this node's stream sits on the worker that owns its key
     * (xchg_owner), on every step: what stateful operators need (D4). */
    bool partitioned;
    uint32_t nexprs;           /* filter: 1 (the predicate); map: the outputs */
    dbsp_expr **exprs;         /* owned */
    dbsp_expr *where;          /* map: rows for which it is not true are
                                  dropped before exprs (a fused filter,
                                  dbsp_plan_fuse); NULL: none; owned */
    uint32_t nmemo;            /* slots of exprs' and where's shared
                                  subexpressions */
    uint32_t naggs;
    dbsp_agg *aggs;            /* owned */
    int64_t offset, limit;     /* topk: ranks offset+1 .. offset+limit */
} dbsp_pnode;

struct dbsp_plan {
    dbsp_pnode *nodes;
    uint32_t n;
    size_t cap;
};

/* The node, or NULL when n is out of range. */
const dbsp_pnode *dbsp_plan_node(const dbsp_plan *p, dbsp_node n);
/* Appends a node like *proto and writes its id.  The arrays proto->exprs and
 * proto->aggs are borrowed and copied; the expressions in proto->exprs are
 * taken over, and freed on failure. */
ivm_rc dbsp_plan_add(dbsp_plan *p, const dbsp_pnode *proto, dbsp_node *out);
/* A map keeps its input's sharding when its key columns are the input's
 * key columns copied in place (op_map.c). */
bool dbsp_map_keeps_key(const dbsp_pnode *src, dbsp_expr *const *exprs, uint32_t nkey);
/* True if every column e reads is below ncols. */
bool dbsp_expr_cols_below(const dbsp_expr *e, uint32_t ncols);
/* Frees args_owned[0..nargs) (constructor failure paths). */
void dbsp_exprs_free(dbsp_expr **exprs, uint32_t n);

/* How SUM and AVG read a TEXT value, as SQLite: INT when the whole text is
 * an integer, else the REAL value of its numeric prefix ('abc' is 0.0). */
ivm_value dbsp_value_sum_numeric(const ivm_value *text);

/* Adds one spine's numbers to an operator's total (host.c). */
void dbsp_stats_add(spine_stats *acc, const spine_stats *st);

/* Adds a step's delta to an output node's contents: the host calls it for
 * every worker once all have finished the step, so that readers see a
 * commit on all workers or on none (D11; op_output.c). */
ivm_rc dbsp_output_publish(void *state, spine_batch *delta);

/* ---- Expression internals (expr.c, expr_func.c, expr_printf.c) ------------ */

/* What one evaluation carries: the input row, the scratch arena text results
 * go to (D7), and where errors go. */
typedef struct dbsp_evalctx {
    const ivm_value *row;
    rt_arena *scratch;
    ivm_err *err;
    struct dbsp_memo *memo;    /* NULL: no sharing */
} dbsp_evalctx;

/* Values of a plan node's shared subexpressions (dbsp_expr.memo) for the
 * row being evaluated: slot s holds v[s] when at[s] == row.  An operator
 * calls dbsp_memo_next before each row, so that nothing carries over from
 * one row to the next; text in v lives as long as the row's scratch. */
typedef struct dbsp_memo {
    uint64_t row;
    uint32_t n;
    uint64_t *at;
    ivm_value *v;
} dbsp_memo;

/* Numbers the subexpressions that occur more than once among exprs[0..n)
 * (equal operators, classes, columns, constants and arguments), setting
 * their memo fields (the others get 0), and returns how many slots it used:
 * the size of the dbsp_memo that evaluates them.  Leaves (columns,
 * constants) are never numbered.  Out of memory it numbers nothing (the
 * expressions still evaluate, only without sharing). */
uint32_t dbsp_exprs_share(dbsp_expr *const *exprs, uint32_t n);
ivm_rc dbsp_memo_init(dbsp_memo *m, uint32_t nslots);
void dbsp_memo_fini(dbsp_memo *m);
static inline void dbsp_memo_next(dbsp_memo *m)
{
    m->row++;
}
/* dbsp_expr_eval with a memo: each numbered subexpression is evaluated at
 * most once per row (CASE, AND, OR and coalesce stay lazy: a shared
 * subexpression is evaluated where it is first needed). */
ivm_rc dbsp_expr_eval_memo(const dbsp_expr *e, const ivm_value *row, rt_arena *scratch,
                           dbsp_memo *memo, ivm_value *out, ivm_err *err);

/* Evaluates e (expr.c). */
ivm_rc dbsp_eval(const dbsp_expr *e, dbsp_evalctx *x, ivm_value *out);
/* Evaluates a DBSP_X_FUNC node (expr_func.c). */
ivm_rc dbsp_eval_func(const dbsp_expr *e, dbsp_evalctx *x, ivm_value *out);

/* SQLite's conversions (expr.c).  value_number: INT and REAL as they are,
 * text by its numeric prefix ('12abc' is 12, 'abc' is 0), NULL stays NULL.
 * value_real / value_int64: sqlite3_value_double / sqlite3_value_int64 (NULL
 * is 0; REAL to INT truncates and saturates; text to INT reads its leading
 * integer only).  value_text_form: a non-NULL value as text, numbers printed
 * into buf (at least 40 bytes).  text_as_number: true when the whole text
 * (spaces around allowed) is one number, which goes to *out (INT when it is
 * an integer that fits, else REAL); what numeric affinity converts. */
ivm_value dbsp_value_number(const ivm_value *v);
double dbsp_value_real(const ivm_value *v);
int64_t dbsp_value_int64(const ivm_value *v);
ivm_value dbsp_value_text_form(const ivm_value *v, char *buf, size_t cap);
bool dbsp_text_as_number(const char *p, uint32_t n, ivm_value *out);

/* The error for a text result over DBSP_TEXT_MAX bytes. */
ivm_rc dbsp_too_big(dbsp_evalctx *x);

/* A text under construction in the scratch arena; it grows by doubling
 * (the old block stays in the arena until the reset).  The first failure
 * (out of memory, over DBSP_TEXT_MAX) sticks in rc and later calls do
 * nothing. */
typedef struct dbsp_sbuf {
    dbsp_evalctx *x;
    char *p;
    size_t n, cap;
    ivm_rc rc;
} dbsp_sbuf;

void dbsp_sbuf_init(dbsp_sbuf *b, dbsp_evalctx *x);
void dbsp_sbuf_put(dbsp_sbuf *b, const char *s, size_t n);
void dbsp_sbuf_fill(dbsp_sbuf *b, char c, size_t n);
/* Ends the text: *out is it (empty text when nothing was put); returns rc. */
ivm_rc dbsp_sbuf_done(dbsp_sbuf *b, ivm_value *out);

/* printf(format, args...) with SQLite's conversions, flags, width and
 * precision (expr_printf.c).  args[0] is the format; a NULL format gives
 * NULL.  Missing arguments read as NULL. */
ivm_rc dbsp_printf(dbsp_evalctx *x, const ivm_value *args, uint32_t nargs, ivm_value *out);
/* sortkey(flags1, v1, ...) (sortkey.c): the order-preserving TEXT key of the
 * terms args[1], args[3], ... under the DBSP_ORDER_* flags args[0], args[2]. */
ivm_rc dbsp_sortkey(dbsp_evalctx *x, const ivm_value *args, uint32_t nargs, ivm_value *out);
/* A REAL formatted as printf's %<flags><width>.<prec><conv> would, for conv
 * in "feEgG"; alt is '#', alt2 is '!' (used by quote() and round()). */
ivm_rc dbsp_format_real(dbsp_sbuf *b, double r, char conv, int prec, bool alt, bool alt2);

/* ---- Per-worker context --------------------------------------------------- */

/* A node's instance on one worker. */
typedef struct dbsp_inst {
    void *state;               /* vt->state_size bytes, owned */
    spine_batch *delta;        /* this step's output; NULL before eval (owned) */
} dbsp_inst;

/* Everything an operator sees while it runs on a worker.  Only that worker's
 * thread touches it during a step; the controlling thread between steps. */
struct dbsp_ctx {
    const dbsp_plan *plan;
    uint32_t worker, nworkers;
    uint64_t step;             /* 0 during the first step */
    rt_waker waker;            /* wakes this worker's step task; operators
                                  that return IVM_PENDING register it */
    spine *waiting;            /* the spine holding waker, if any (D14) */
    dbsp_inst *inst;           /* one per plan node */
    xchg *const *xchgs;        /* one per plan node, non-NULL at exchanges */
    spine_batch *empty;        /* a shared empty batch (ref it to return it) */
    rt_arena scratch;          /* reset after each node, and by operators
                                  every DBSP_SCRATCH_SOFT bytes */
    spine_builder bld;         /* shared by this worker's operators, which run
                                  one at a time and leave it cleared */
    ivm_err err;
};

/* What a worker's builder keeps between the batches it builds (its peak,
 * up to this; spine_builder_set_keep). */
#define DBSP_BUILDER_KEEP ((size_t)16 << 20)

/* Operators that evaluate expressions row by row reset the scratch arena once
 * it holds this much, so that memory stays bounded within one big batch. */
#define DBSP_SCRATCH_SOFT ((size_t)256 * 1024)

static inline void dbsp_ctx_scratch_check(dbsp_ctx *c)
{
    if (c->scratch.used_total > DBSP_SCRATCH_SOFT)
        rt_arena_reset(&c->scratch);
}

/* Input i's delta of this step (borrowed: valid for the step). */
static inline spine_batch *dbsp_ctx_in(const dbsp_ctx *c, dbsp_node n, uint32_t i)
{
    return c->inst[c->plan->nodes[n].in[i]].delta;
}

/* The integral kept by node n (an integrate or output node) on this worker. */
static inline const spine *dbsp_ctx_trace(const dbsp_ctx *c, dbsp_node n)
{
    const dbsp_pnode *nd = &c->plan->nodes[n];
    return nd->vt->trace(c->inst[n].state);
}

/* Backpressure for an operator about to insert into its spine s (D5): true
 * to go on; false after registering the step's waker with s, and the
 * operator returns IVM_PENDING.  The context remembers s until a later call
 * says yes, so that a step abandoned meanwhile can cancel the wait (D14). */
static inline bool dbsp_ctx_spine_ready(dbsp_ctx *c, spine *s)
{
    if (!spine_ready(s, c->waker)) {
        c->waiting = s;
        return false;
    }
    c->waiting = NULL;
    return true;
}

/* A spine for operator state that operators probe by key
 * (dbsp_cursor_seek_exact): its merges build key filters (D15).  NULL on
 * allocation failure. */
static inline spine *dbsp_spine_probed(void)
{
    spine_opts o = {.exact_seeks = true};
    return spine_new_opts(&o);
}

static inline spine_batch *dbsp_ctx_empty(const dbsp_ctx *c)
{
    return spine_batch_ref(c->empty);
}

/* Ends a use of c->bld: on rc == IVM_OK finishes it into *out, else clears
 * it; either way it is left empty and unsorted for the next operator. */
ivm_rc dbsp_ctx_build(dbsp_ctx *c, ivm_rc rc, spine_batch **out);

/* Seeks c to key; true if the cursor then stands on exactly that key (which
 * has at least one value of non-zero weight).  After false the cursor shows
 * nothing until the next seek (spine_cursor_seek_exact). */
static inline bool dbsp_cursor_seek_exact(spine_cursor *c, const uint8_t *key, size_t klen)
{
    return spine_cursor_seek_exact(c, key, klen);
}

/* Decodes a whole row (key then value bytes) into vals[0..ncols): IVM_CORRUPT
 * if it does not hold exactly ncols columns.  Text points into the bytes.
 * One validating pass (spine_row_decode counts every column). */
ivm_rc dbsp_row_decode(dbsp_ctx *c, const uint8_t *row, size_t len, uint32_t ncols,
                       ivm_value *vals);

/* The columns of its input rows a node's expressions read, so that a row
 * is looked at only as far as they need (D1).  Each row is split up to the
 * last column read (`walk` columns: spine_row_split validates those, and
 * when they are all of the row's ncols, that it ends there); only the
 * columns some expression computes with are decoded.  A map made with
 * `copy_cols` leaves out of that the columns it only copies (an
 * expression that is a bare column): it copies their bytes from the
 * split's offsets instead of decoding and encoding them again. */
typedef struct dbsp_colread {
    uint32_t ncols;           /* columns of an input row */
    uint32_t walk;            /* 1 + the last column read; 0: none */
    uint32_t ndec;
    uint32_t *dec;            /* the columns to decode, ascending */
    size_t *off;              /* walk + 1 offsets of the row last split */
} dbsp_colread;

/* Sets r up for n expressions, and a condition cond (NULL: none) whose
 * columns are always decoded, over rows of ncols columns; IVM_NOMEM. */
ivm_rc dbsp_colread_init(dbsp_colread *r, dbsp_expr *const *exprs, uint32_t n,
                         const dbsp_expr *cond, uint32_t ncols, bool copy_cols);
void dbsp_colread_fini(dbsp_colread *r);

/* Splits row[0..len) (r->off) and decodes the columns r decodes into vals
 * (the others are left as they were): IVM_CORRUPT, with a message in c,
 * if the row is too short for the columns read, or longer than ncols
 * columns when they reach its end.  Text points into the row. */
ivm_rc dbsp_colread_row(dbsp_ctx *c, dbsp_colread *r, const uint8_t *row, size_t len,
                        ivm_value *vals);

/* One map's work on a row (op_map.c): read the columns its expressions
 * need, test its `where`, write its output row into c->bld and commit it,
 * and note where the rows come in runs (below).  A map node runs one over
 * its input's rows; a join with a fused map (op_join.c) runs one over each
 * pair it makes, so that the two cannot drift apart.
 *
 * Output columns are made in stretches: bare input columns [from, to)
 * that follow each other in the input too, copied as one run of bytes, or
 * one computed column (to == 0, from: its expression).  A stretch never
 * crosses the end of the output key, so the key's length is the length of
 * the stretches before it. */
typedef struct dbsp_rowmap_seg {
    uint32_t from, to;
    bool key_end;             /* the output key ends after this stretch */
} dbsp_rowmap_seg;

typedef struct dbsp_rowmap {
    const dbsp_pnode *nd;     /* exprs, nkey, where, nmemo; NULL: unused */
    dbsp_colread cr;          /* which input columns are read, how */
    ivm_value *in_vals;       /* the input row's decoded columns */
    ivm_value *out_vals;      /* the computed output columns */
    size_t *seg_len;          /* each stretch's encoded length */
    dbsp_rowmap_seg *seg;     /* the output columns' stretches, in order */
    uint32_t nseg;
    dbsp_memo memo;           /* the row's shared subexpressions */
    bool copies;              /* every stretch copies input columns, none
                                 twice: an output row is no longer than
                                 its input row, and is written in one pass */
    bool lead;                /* the first stretch copies the input's
                                 leading columns: rows fed in order come
                                 out in runs in order (runs, below) */
    const uint8_t *lead_at;   /* the current run's leading bytes */
    size_t lead_len, nout;
    uint8_t *lead_copy;       /* lead_at's copy for rows that do not stay */
    size_t lead_cap;
    size_t *runs;             /* this step's output rows where a run begins */
    size_t nruns, runs_cap;
} dbsp_rowmap;

/* Sets m up for nd's expressions over input rows of in_cols columns;
 * IVM_NOMEM.  m must be zeroed; dbsp_rowmap_fini frees it, set up or not. */
ivm_rc dbsp_rowmap_init(dbsp_rowmap *m, const dbsp_pnode *nd, uint32_t in_cols);
void dbsp_rowmap_fini(dbsp_rowmap *m);

/* Starts a step: no rows, no runs. */
static inline void dbsp_rowmap_begin(dbsp_rowmap *m)
{
    m->nruns = 0;
    m->nout = 0;
}

/* Maps row[0..len) of weight w into b (nothing if `where` fails): c->bld
 * for an operator's output.  Rows must be fed in ascending order for the
 * runs to hold.  row_stays: the row's bytes stay where they are until the
 * step ends (a batch's), so the run's leading bytes need no copy. */
ivm_rc dbsp_rowmap_row(dbsp_ctx *c, dbsp_rowmap *m, spine_builder *b, const uint8_t *row,
                       size_t len, int64_t w, bool row_stays);

/* Ends the step: the builder's batch, sorted within runs when m->lead
 * (spine_builder_finish_runs), else sorted whole; rc as dbsp_ctx_build. */
ivm_rc dbsp_rowmap_finish(dbsp_ctx *c, dbsp_rowmap *m, ivm_rc rc, spine_batch **out);

/* Sums batches (consuming the references in bs[0..n)) into one consolidated
 * batch by a balanced tree of pairwise merges; empty is returned (ref'd) for
 * n == 0.  On failure every reference is released. */
ivm_rc dbsp_batches_sum_take(spine_batch **bs, size_t n, spine_batch *empty,
                             spine_batch **out);

/* op_integrate: the state and hooks that op_output shares (a view's contents
 * are the integral of its stream). */
typedef struct dbsp_integrate_state {
    spine *s;
    bool derived;  /* D17: s is empty, I(x) is the join's until read */
} dbsp_integrate_state;
ivm_rc dbsp_plan_integrating(dbsp_plan *p, dbsp_kind kind, const dbsp_op_vtab *vt,
                             dbsp_node in, dbsp_node *out);
ivm_rc dbsp_integrate_init(dbsp_ctx *c, dbsp_node n, void *state);
ivm_rc dbsp_integrate_eval(dbsp_ctx *c, dbsp_node n, void *state, spine_batch **out);
const spine *dbsp_integrate_trace(const void *state);
void dbsp_integrate_stats(const void *state, spine_stats *acc);
void dbsp_integrate_fini(void *state);
ivm_rc dbsp_integrate_compact(void *state);
/* Integrate node n's integral is read on this worker from now on (by
 * seeks; D16): an unread trace goes back to the shape seeks want, and one
 * not kept (D17) is computed from the join's traces, after this step, and
 * kept from then on: O(size of that join) once, then cheap (one lock
 * round trip).  The reader's thread, during its eval; a cursor made over
 * the trace before the call does not see what it adds.  IVM_NOMEM, or an
 * expression's error (in c->err); the node then stays as it was, and a
 * later call tries again. */
ivm_rc dbsp_integrate_reading(dbsp_ctx *c, dbsp_node n);
/* True if integrate node n keeps no integral until it is read (D17): its
 * every reader is a top-k of offset 0 (D16) and its input a join, or a
 * map or filter of one. */
bool dbsp_integrate_derives(const dbsp_plan *p, dbsp_node n);

/* op_input: queues a batch for the next step (controlling thread). */
ivm_rc dbsp_input_queue_take(void *state, spine_batch *b_owned);

#endif /* DBSP_INT_H */
