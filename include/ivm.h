/*
 * ivm.h: the public C API of ivm, an incremental view maintenance engine.
 *
 * An ivm_db holds tables and views.  Statements are SQL text: CREATE TABLE,
 * CREATE VIEW, INSERT, DELETE, UPDATE, BEGIN, COMMIT, ROLLBACK, SELECT.
 * Views are maintained incrementally: every commit updates each view by the
 * change that a full recomputation would make, at a cost that follows the
 * size of the change.  Reading a view reads its maintained contents.
 *
 * Errors: every function that can fail returns an ivm_rc (IVM_OK = 0) and
 * fills the ivm_err given to it with a message for people, with the line and
 * column of SQL errors.  A failed statement changes nothing.  Each call
 * clears the ivm_err it is given before it starts; err may be NULL.
 *
 * Tables are fed through SQL statements or, without SQL text, through input
 * handles (ivm_input_*): rows with weights, or inserts, deletes and upserts
 * by primary key, that join the open transaction.  Views are read through
 * SELECT or a cursor (ivm_cursor_*), and their changes arrive through
 * subscriptions (ivm_subscribe): one callback per commit with the rows the
 * commit added and removed.
 *
 * Memory: ivm_memory_used counts the bytes that hold the engine's state; an
 * engine with a limit (ivm_options.memory_limit, ivm_memory_limit) refuses
 * new data while over it, and keeps reading and deleting.
 *
 * Thread-safety: an ivm_db, and every handle, cursor or subscription made
 * from it, may be used by one thread at a time; different ivm_db objects
 * are independent.  The engine runs its circuits on worker threads of its
 * own; callbacks (row functions, subscriptions) run in the calling thread.
 * Each function says when it differs.
 */
#ifndef IVM_H
#define IVM_H

#include "ivm_base.h"

typedef struct ivm_db ivm_db;

typedef struct ivm_options {
    uint32_t workers;       /* worker threads; 0 = one per core */
    uint64_t memory_limit;  /* bytes; 0 = no limit (see ivm_memory_limit) */
} ivm_options;

/* Opens an empty engine.  opts may be NULL (defaults: one worker per core,
 * no memory limit).  *out is owned by the caller and released with
 * ivm_close.  Errors: IVM_NOMEM, IVM_INVALID (more than 256 workers),
 * IVM_INTERNAL.  Thread-safety: any thread; engines opened in several
 * threads at once are independent. */
ivm_rc ivm_open(const ivm_options *opts, ivm_db **out, ivm_err *err);

/* Closes the engine and frees everything; an open transaction is rolled
 * back.  NULL is a no-op.  Thread-safety: as db; no other call on db, its
 * handles or subscriptions may run or follow (cursors stay valid). */
void ivm_close(ivm_db *db);

/* Receives one result row of a SELECT.  vals[i] (and their text) are valid
 * during the call only.  names are the result column names.  Return 0 to go
 * on, non-zero to stop reading the result (not an error). */
typedef int (*ivm_row_fn)(void *arg, uint32_t ncols, const ivm_value *vals,
                          const char *const *names);

/* Executes the statements in sql[0..len) in order; rows of SELECTs go to
 * row_fn (may be NULL).  first_line numbers the text's first line for error
 * positions.  Stops at the first failing statement and returns its code;
 * that statement changed nothing (statements before it keep their effect).
 * A statement outside BEGIN ... COMMIT commits on its own.  row_fn and
 * subscriptions run in the calling thread before ivm_exec returns; they
 * must not call into db.
 * Errors: IVM_SYNTAX, IVM_SCHEMA, IVM_UNSUPPORTED, IVM_CONSTRAINT,
 * IVM_INVALID, IVM_NOMEM (also over the memory limit), IVM_INTERNAL.
 * Thread-safety: as db. */
ivm_rc ivm_exec(ivm_db *db, const char *sql, size_t len, uint32_t first_line,
                ivm_row_fn row_fn, void *arg, ivm_err *err);

/* ---- Transactions ---------------------------------------------------------------- */

/* True while a transaction is open: after BEGIN, or after the first push
 * through an input handle, until it commits or rolls back.  Any thread that
 * may use db. */
bool ivm_txn_active(const ivm_db *db);

/* Commits the open transaction: the pushes of every input handle, and the
 * statements run since BEGIN, become the tables' contents, and every view
 * steps once (subscriptions are called before it returns).  Without an open
 * transaction it does nothing and returns IVM_OK.  Pushes are checked as
 * they are made, so a commit fails only for want of memory or when a view
 * cannot be maintained; a commit that fails before the tables changed rolls
 * the whole transaction back (nothing of it is visible).  A view whose step
 * fails is marked broken (IVM_UNSUPPORTED, IVM_INVALID, ...: its reads report
 * why) while the tables keep the commit.  Same as the statement COMMIT.
 * Thread-safety: as db. */
ivm_rc ivm_commit(ivm_db *db, ivm_err *err);

/* Rolls the open transaction back: pushes and statements since it began are
 * forgotten.  Without one it does nothing.  Same as ROLLBACK.
 * Thread-safety: as db. */
void ivm_rollback(ivm_db *db);

/* ---- Input handles ----------------------------------------------------------------- */

/* An input handle pushes rows into one table without SQL text: each push is
 * converted and checked like a row of an INSERT or DELETE statement (column
 * affinity, NOT NULL, PRIMARY KEY, UNIQUE) against the table as the open
 * transaction leaves it, and joins that transaction.  A push that fails
 * changes nothing (earlier pushes of the transaction stay).  The first push
 * outside a transaction begins one, as BEGIN would; it lasts until
 * ivm_commit or ivm_rollback (or COMMIT/ROLLBACK through ivm_exec).
 *
 * Differences from INSERT: every column is given (no DEFAULT), and a NULL
 * INTEGER PRIMARY KEY is refused (NOT NULL) instead of picking an id.
 *
 * Thread-safety: a handle belongs to its db; use both from one thread at a
 * time. */
typedef struct ivm_input ivm_input;

/* Opens an input handle on table `table`.  *out is owned by the caller and
 * released with ivm_input_close (before ivm_close; ivm_close frees handles
 * still open, after which they must not be used).  A table has at most one
 * open handle.  Errors: IVM_SCHEMA (no such table, or a view), IVM_BUSY
 * (the table already has an open handle), IVM_NOMEM. */
ivm_rc ivm_input_open(ivm_db *db, const char *table, ivm_input **out, ivm_err *err);

/* Closes the handle.  Its pushes stay in the open transaction.  NULL is a
 * no-op. */
void ivm_input_close(ivm_input *in);

/* The table's columns: count, names (valid while the handle is open) and
 * the class of their values (IVM_TINT, IVM_TREAL, IVM_TTEXT). */
uint32_t ivm_input_column_count(const ivm_input *in);
const char *ivm_input_column_name(const ivm_input *in, uint32_t col);
ivm_type ivm_input_column_type(const ivm_input *in, uint32_t col);
/* The index of column `name` (case-insensitive), or -1. */
int ivm_input_column_index(const ivm_input *in, const char *name);
/* The PRIMARY KEY's columns (indexes, in key order; *n_out of them, 0 for
 * a table without one).  Valid while the handle is open. */
const uint32_t *ivm_input_primary_key(const ivm_input *in, uint32_t *n_out);

/* Pushes row (ncols values, one per column in table order; text borrowed
 * for the call only) with weight w: w > 0 adds w copies, w < 0 removes -w
 * copies.  Errors: IVM_INVALID (wrong column count, w == 0, a value that
 * does not convert to its column's type, text with a NUL byte),
 * IVM_CONSTRAINT (NOT NULL; a PRIMARY KEY or UNIQUE value already present;
 * removing a row, or more copies of it, than the table holds), IVM_SCHEMA
 * (the table was dropped), IVM_NOMEM (also, for w > 0, over the memory
 * limit: then the whole transaction is rolled back, see ivm_memory_limit).
 * Cost: O(number of constraints x
 * log(table size)), no allocation per row beyond amortized growth. */
ivm_rc ivm_input_push(ivm_input *in, const ivm_value *row, uint32_t ncols, int64_t w,
                      ivm_err *err);

/* ivm_input_push with w = +1. */
ivm_rc ivm_input_insert(ivm_input *in, const ivm_value *row, uint32_t ncols, ivm_err *err);

/* Deletes the row whose PRIMARY KEY is key (nkey values, in the key's
 * column order) if there is one, as DELETE ... WHERE pk = key would; a key
 * without a row deletes nothing (*deleted_out, if not NULL, says which).
 * Errors: IVM_SCHEMA (the table has no PRIMARY KEY), IVM_INVALID (wrong
 * count, a value that does not convert), IVM_NOMEM. */
ivm_rc ivm_input_delete(ivm_input *in, const ivm_value *key, uint32_t nkey, bool *deleted_out,
                        ivm_err *err);

/* Inserts row, replacing the row with the same PRIMARY KEY if there is one
 * (INSERT OR REPLACE restricted to the key: a UNIQUE conflict with another
 * row is an error, IVM_CONSTRAINT, and changes nothing).  Errors as
 * ivm_input_push, and IVM_SCHEMA if the table has no PRIMARY KEY. */
ivm_rc ivm_input_upsert(ivm_input *in, const ivm_value *row, uint32_t ncols, ivm_err *err);

/* ---- Cursors ------------------------------------------------------------------------- */

/* A cursor reads a snapshot of a view's (or a table's) contents, taken when
 * it opens: the last commit's contents, or inside a transaction what the
 * transaction sees (its own pushes and statements included), as a SELECT
 * would.  A row held n times is read n times.  Rows come in ivm's row
 * order (column by column: NULL, then numbers, then text by bytes), not in
 * any ORDER BY.  The cursor owns its snapshot: it stays valid whatever
 * happens to db afterwards, even after ivm_close.
 * Thread-safety: one thread at a time per cursor. */
typedef struct ivm_cursor ivm_cursor;

/* Opens a cursor on relation `name`, before its first row.  Errors:
 * IVM_SCHEMA (no such table or view), a broken view's error, IVM_NOMEM. */
ivm_rc ivm_cursor_open(ivm_db *db, const char *name, ivm_cursor **out, ivm_err *err);
/* Moves to the next row: true if there is one, false at the end. */
bool ivm_cursor_step(ivm_cursor *c);
uint32_t ivm_cursor_column_count(const ivm_cursor *c);
/* Valid as long as the cursor. */
const char *ivm_cursor_column_name(const ivm_cursor *c, uint32_t col);
/* The current row's values (ivm_cursor_column_count of them), valid until
 * the next step or close.  NULL before the first step and after the end. */
const ivm_value *ivm_cursor_row(const ivm_cursor *c);
/* Rows in the snapshot, counting copies. */
uint64_t ivm_cursor_count(const ivm_cursor *c);
void ivm_cursor_close(ivm_cursor *c);

/* ---- Subscriptions ------------------------------------------------------------------- */

/* What one commit changed in a relation: nrows rows of ncols values each,
 * vals[r * ncols + c], with weights[r] (+n: n copies more, -n: n fewer).
 * Deletions come first, then insertions; within each, ivm's row order.
 * Everything is valid during the callback only. */
typedef struct ivm_delta {
    const char *name;               /* the view (or table) */
    uint64_t commit;                /* ivm_last_commit's number of this commit */
    uint32_t ncols;
    const char *const *col_names;
    size_t nrows;
    const ivm_value *vals;
    const int64_t *weights;
} ivm_delta;

/* Called once per commit that changes the relation, after every view has
 * stepped, in the thread that commits.  It must not call into db, except
 * ivm_unsubscribe of its own subscription. */
typedef void (*ivm_delta_fn)(void *arg, const ivm_delta *d);

typedef struct ivm_subscription ivm_subscription;

/* Calls fn(arg, delta) for every later commit that changes view `name` (a
 * table may be watched too).  Several subscriptions are called in the order
 * they were made.  The sum of the weights of a row over the deltas since a
 * cursor's snapshot is the difference between a new snapshot and it.
 * *out is released with ivm_unsubscribe (ivm_close frees those left).  A
 * dropped view's subscriptions are no longer called.  A broken view's are
 * not called until it is rebuilt.  Errors: IVM_SCHEMA, IVM_NOMEM,
 * IVM_INVALID (fn NULL).  Thread-safety: as db. */
ivm_rc ivm_subscribe(ivm_db *db, const char *name, ivm_delta_fn fn, void *arg,
                     ivm_subscription **out, ivm_err *err);
/* Ends a subscription.  NULL is a no-op.  Thread-safety: as its db (and
 * from inside its own callback). */
void ivm_unsubscribe(ivm_subscription *sub);

/* The last commit that changed anything: its number (1, 2, ...; 0 before
 * the first) and the time its views' circuit steps took.
 * Thread-safety: as db. */
typedef struct ivm_commit_info {
    uint64_t commit;
    uint64_t step_ns;
} ivm_commit_info;
void ivm_last_commit(const ivm_db *db, ivm_commit_info *out);

/* ---- Memory ------------------------------------------------------------------ */

/* The bytes that hold engine state now: every spine batch and builder
 * buffer (tables, UNIQUE indexes, views' operator state, staged and pending
 * changes, merges in progress), counted as the allocator sized each block.
 * The count is process-wide: engines opened in the same process add up.
 * Scratch memory, the catalog and per-object headers are not counted.
 * db may be NULL (the count is the same).
 * Thread-safety: any thread, at any time (a snapshot). */
uint64_t ivm_memory_used(const ivm_db *db);

/* Sets db's memory limit to limit bytes (0: none) if limit >= 0, and
 * returns the limit it had (so ivm_memory_limit(db, -1) only reads it).
 * While ivm_memory_used is over a non-zero limit, every statement or push
 * that would add data (INSERT, UPDATE, CREATE TABLE/VIEW/INDEX,
 * ivm_input_push with a positive weight, ivm_input_insert, ivm_input_upsert)
 * fails with IVM_NOMEM and the message "memory limit exceeded: N bytes in
 * use, limit M" and changes nothing; if a transaction is open it is rolled
 * back as a whole (all its statements and pushes, as for a failed load),
 * which frees what it held.  Reads (SELECT, cursors), DELETE,
 * ivm_input_delete, pushes with a negative weight, DROP, BEGIN, COMMIT and
 * ROLLBACK keep working, so the program can get back under the limit;
 * while over it, each commit also merges the stored state of every table
 * and view at once (O(state) per commit), so that deleted rows free their
 * memory at that commit rather than at some later merge.  The
 * check happens when a statement or push starts: one that starts under
 * the limit runs to its end, and a commit's view steps are never refused,
 * so usage can pass the limit by what one statement and one commit add.
 * Thread-safety: as db. */
uint64_t ivm_memory_limit(ivm_db *db, int64_t limit);

/* ---- Introspection ------------------------------------------------------------ */

/* What a table's or a view's state holds: the spines of the table, or of
 * every operator of the view's circuit on every worker, summed. */
#define IVM_STATS_LEVELS 32
typedef struct ivm_rel_stats {
    const char *name;           /* valid during the callback */
    bool is_view;
    uint64_t rows;              /* entries over all batches (before cancellation) */
    uint64_t bytes;             /* data and index bytes */
    uint64_t batches;
    uint64_t level_batches[IVM_STATS_LEVELS];
    uint64_t pending;           /* batches waiting for the merger */
    uint64_t merges;            /* merges completed */
    uint64_t merge_rows;        /* entries read by those merges */
    uint64_t waits;             /* times an operator waited on backpressure */
    uint64_t wait_ns;           /* time spent waiting */
} ivm_rel_stats;

/* Calls fn once per table and view, in creation order.  The numbers are a
 * snapshot: the merger keeps working.  The memory they hold together, and
 * the limit, are ivm_memory_used and ivm_memory_limit.  Errors:
 * IVM_INVALID (db or fn NULL).  Thread-safety: as db. */
ivm_rc ivm_stats(ivm_db *db, void (*fn)(void *arg, const ivm_rel_stats *st), void *arg);

/* The runtime's processes (this engine's catalog, circuit and session, the
 * spine merger, their supervisors): fn is called once per process, parents
 * first.  Strings are valid during the call.  Thread-safety: as db. */
typedef struct ivm_proc_status {
    const char *name;           /* "root/engine1/catalog" */
    const char *state;          /* starting, running, stopping, exited, failed */
    uint32_t starts, restarts, failures;
    const char *last_exit;      /* why the last run ended, "" if it has not */
} ivm_proc_status;
void ivm_status(ivm_db *db, void (*fn)(void *arg, const ivm_proc_status *st), void *arg);

/* The catalog as the dataspace holds it: fn(kind, name, sql) per table and
 * view ("table" or "view"), in creation order.  IVM_BUSY if the catalog
 * process is down and does not come back within two seconds.
 * Thread-safety: as db. */
ivm_rc ivm_catalog(ivm_db *db, void (*fn)(void *arg, const char *kind, const char *name,
                                          const char *sql),
                   void *arg);

/* True if sql ends with a complete statement (see sqlite3_complete).
 * Thread-safety: any thread (no engine involved). */
bool ivm_complete(const char *sql, size_t len);

#endif /* IVM_H */
