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
 * column of SQL errors.  A failed statement changes nothing.
 *
 * Thread-safety: an ivm_db may be used by one thread at a time; different
 * ivm_db objects are independent.  The engine runs its circuits on worker
 * threads of its own.
 */
#ifndef IVM_H
#define IVM_H

#include "ivm_base.h"

typedef struct ivm_db ivm_db;

typedef struct ivm_options {
    uint32_t workers;       /* worker threads; 0 = one per core */
} ivm_options;

/* Opens an empty engine.  opts may be NULL (defaults).  *out is owned by the
 * caller and released with ivm_close.  Errors: IVM_NOMEM, IVM_INTERNAL. */
ivm_rc ivm_open(const ivm_options *opts, ivm_db **out, ivm_err *err);

/* Closes the engine and frees everything; an open transaction is rolled
 * back.  NULL is a no-op. */
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
 * A statement outside BEGIN ... COMMIT commits on its own.
 * Errors: IVM_SYNTAX, IVM_SCHEMA, IVM_UNSUPPORTED, IVM_CONSTRAINT,
 * IVM_INVALID, IVM_NOMEM, IVM_INTERNAL. */
ivm_rc ivm_exec(ivm_db *db, const char *sql, size_t len, uint32_t first_line,
                ivm_row_fn row_fn, void *arg, ivm_err *err);

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
 * snapshot: the merger keeps working. */
ivm_rc ivm_stats(ivm_db *db, void (*fn)(void *arg, const ivm_rel_stats *st), void *arg);

/* The runtime's processes (this engine's catalog, circuit and session, the
 * spine merger, their supervisors): fn is called once per process, parents
 * first.  Strings are valid during the call. */
typedef struct ivm_proc_status {
    const char *name;           /* "root/engine1/catalog" */
    const char *state;          /* starting, running, stopping, exited, failed */
    uint32_t starts, restarts, failures;
    const char *last_exit;      /* why the last run ended, "" if it has not */
} ivm_proc_status;
void ivm_status(ivm_db *db, void (*fn)(void *arg, const ivm_proc_status *st), void *arg);

/* The catalog as the dataspace holds it: fn(kind, name, sql) per table and
 * view ("table" or "view"), in creation order.  IVM_BUSY if the catalog
 * process is down and does not come back within two seconds. */
ivm_rc ivm_catalog(ivm_db *db, void (*fn)(void *arg, const char *kind, const char *name,
                                          const char *sql),
                   void *arg);

/* True if sql ends with a complete statement (see sqlite3_complete). */
bool ivm_complete(const char *sql, size_t len);

#endif /* IVM_H */
