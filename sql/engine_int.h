/*
 * engine_int.h: what engine.c and api.c share inside sql/: the catalog
 * objects (tables, their UNIQUE indexes, views), struct ivm_db, the engine
 * functions the C input API (api.c) builds on, and the hooks api.c provides
 * to the engine (flushing staged pushes before a statement, delivering view
 * deltas at commit, cleanup at close).  Nothing outside sql/ includes it.
 * See sql/README.md (the engine, the C input API).
 */
#ifndef SQL_ENGINE_INT_H
#define SQL_ENGINE_INT_H

#include "ivm.h"
#include "sql.h"
#include "spine.h"
#include "dbsp.h"
#include "runtime.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

/* ---- Catalog objects --------------------------------------------------------- */

/* A UNIQUE constraint (of CREATE TABLE) or a UNIQUE index: an index of
 * the table's rows keyed by the constrained columns' encoding, the value the
 * whole row.  A row with NULL in any of those columns is not in it (NULLs
 * are distinct, as in SQLite).  Committed entries are a spine; the open
 * transaction's changes a pending batch, as for the table (keeps E4). */
typedef struct uniq {
    char *name;              /* the index's name; NULL for a table constraint */
    uint32_t ncols;
    uint32_t *cols;
    spine *data;
    spine_batch *pending;
} uniq;

typedef struct table {
    char *name;
    uint32_t ncols;
    char **col_names;
    ivm_type *col_types;
    plan_type *decl_types;
    bool *not_null;
    dbsp_expr **defaults;    /* per column, NULL = NULL default */
    uint32_t npk;
    uint32_t *pk;            /* PK column indices in key order */
    /* Rows: key = the PK columns' encoding, value = the whole row; without
     * a PK, key = the whole row and the value is empty (keeps E3). */
    spine *data;
    spine_batch *pending;    /* the open transaction's changes, same layout */
    spine_batch *delta;      /* this commit's change as input rows (klen 0) */
    spine_batch *entries;    /* this commit's change as entries (E3), for views
                                whose inputs take rows keyed by themselves
                                (no PRIMARY KEY: entry_input) */
    uniq *uniqs;             /* UNIQUE constraints and indexes */
    uint32_t nuniqs;
    size_t uniqcap;
    bool rowid_alias;        /* an INTEGER PRIMARY KEY: NULL there picks the next id */
    plan_relation rel;
} table;

typedef struct view {
    char *name;
    char *sql;
    plan_query *q;
    dbsp_seg *seg;           /* its segment of db->circuit; NULL while rebuilt */
    spine_batch *delta;      /* this commit's change to the view (input rows) */
    plan_relation rel;
    ivm_rc broken;           /* sticky: a step failed, the contents are unknown */
    char broken_msg[IVM_ERR_MSG_MAX];
} view;

typedef struct relent {
    plan_rel_kind kind;
    table *t;
    view *v;
} relent;

/* The engine's processes (runtime/README.md): a supervisor per engine with
 * the catalog, the circuit and the session under it (E5 in sql/README.md). */
typedef struct engine_procs {
    rt_sup *sup;
    rt_proc *catalog, *circuit, *session;
    rt_ds *ds;                 /* the catalog's assertions */
    pthread_mutex_t mu;        /* guards the SQLite catalog connection and below */
    pthread_cond_t up;         /* the catalog process (re)started */
    uint64_t catalog_owner;    /* its current run's id; 0 while it is down */
    char **asserted;           /* keys it asserts now */
    size_t nasserted, asserted_cap;
    atomic_uint circuit_restarts; /* counted by the circuit's start */
    char ddl_name[256];        /* the relation the DDL statement in progress names */
    uint32_t circuit_seen;     /* restarts already acted upon (engine thread) */
} engine_procs;

/* The C input API's state (api.c): open inputs, subscriptions, commit
 * counters.  Owned by api.c; the engine only calls its hooks. */
typedef struct api_state {
    struct ivm_input *inputs;        /* open input handles, a list */
    struct ivm_subscription *subs;   /* subscriptions, in subscribe order */
    bool notifying;                  /* inside api_commit_done's callbacks */
    uint64_t commits;                /* commits that changed something */
    uint64_t step_ns;                /* the last such commit's circuit steps */
} api_state;

struct ivm_db {
    sqlite3 *cat;
    rt_sched *sched;
    dbsp_circuit *circuit;   /* every view's segment, stepped once per commit */
    engine_procs procs;
    relent *rels;            /* indexed by relation id; dropped ones are empty */
    size_t nrels, relcap;
    bool in_txn;
    rt_arena scratch;
    plan_catalog pcat;
    api_state api;
    uint64_t mem_limit;      /* ivm_options.memory_limit; 0: none (limit.c) */
};


/* ---- Engine functions api.c builds on (engine.c) ---------------------------- */

/* The relation named name (case-insensitive) or with id id; NULL if none. */
relent *eng_rel_find(ivm_db *db, const char *name);
relent *eng_rel_get(ivm_db *db, uint32_t id);
/* A relation's current contents (the transaction's changes included) as a
 * batch of whole rows (klen 0), weights = multiplicities; *out owned. */
ivm_rc eng_rel_contents(ivm_db *db, uint32_t id, spine_batch **out, ivm_err *err);
/* A cursor over a table's rows (committed + pending), table layout (E3). */
ivm_rc eng_table_cursor(const table *t, spine_cursor **out);
/* Converts *v to column col's class as INSERT does (text results live in
 * db->scratch); NOT NULL is checked here.  Errors carry no position. */
ivm_rc eng_coerce(ivm_db *db, const table *t, uint32_t col, ivm_value *v, ivm_err *err);
/* Checks a change (table layout) against the PRIMARY KEY and every UNIQUE
 * index and adds it to the transaction; consumes d_owned (keeps E1, E4). */
ivm_rc eng_apply(table *t, spine_batch *d_owned, ivm_err *err);
/* COMMIT and ROLLBACK of the open transaction. */
ivm_rc eng_commit(ivm_db *db, ivm_err *err);
void eng_discard(ivm_db *db);

/* ---- Hooks api.c gives the engine (api.c) ------------------------------------ */

/* Before every statement: staged pushes go into the transaction, so the
 * statement sees them.  On failure the transaction is rolled back. */
ivm_rc api_flush(ivm_db *db, ivm_err *err);
/* At the end of a commit's view steps, before the deltas are dropped:
 * counts the commit, records its step time (since step_start_ns) and calls
 * the subscriptions of every relation whose delta is not empty. */
void api_commit_done(ivm_db *db, uint64_t step_start_ns);
/* At ivm_close: frees inputs and subscriptions still open. */
void api_close(ivm_db *db);

/* ---- The memory limit (limit.c) ---------------------------------------------- */

/* Before statement st: IVM_NOMEM if st would add data (INSERT, UPDATE,
 * CREATE) while the accounted memory is over db->mem_limit; the open
 * transaction is then rolled back (keeps M1).  IVM_OK otherwise. */
ivm_rc limit_check_stmt(ivm_db *db, const plan_stmt *st, ivm_err *err);
/* Before a push that adds rows: as limit_check_stmt. */
ivm_rc limit_check_push(ivm_db *db, ivm_err *err);
/* After a commit (api_commit_done): over the limit, merges every table's
 * and view's spines at once, so that what a DELETE removed is freed. */
void limit_after_commit(ivm_db *db);

#endif /* SQL_ENGINE_INT_H */
