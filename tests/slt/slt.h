/*
 * slt.h: what the files of the sqllogictest runner share (tests/slt/).  The
 * runner reads sqllogictest scripts, runs every record through the public
 * API in include/ivm.h only (never the engine's internals), and checks each
 * query twice: ad hoc, and as a view maintained from the start of the file.
 * Design, outcome definitions and formatting rules: tests/slt/README.md.
 *
 * Files:
 *   slt_md5.c     MD5 (RFC 1321), for "N values hashing to <md5>"
 *   slt_script.c  the script parser: lines, records, skipif/onlyif
 *   slt_result.c  formatting values by column type, sorting, checking
 *   slt_sqlscan.c a small SQL scanner: DDL names, names read, ORDER BY
 *   slt_run.c     one pass over a script in one mode against one ivm_db
 *   slt_main.c    the command line, one child process per file and mode
 */
#ifndef SLT_H
#define SLT_H

#include "ivm.h"

#include <stdio.h>

/* ---- MD5 (slt_md5.c) ----------------------------------------------------------- */

typedef struct slt_md5 {
    uint32_t state[4];
    uint64_t nbytes;          /* message length so far */
    unsigned char block[64];  /* a partial block of nbytes % 64 bytes */
} slt_md5;

void slt_md5_init(slt_md5 *m);
void slt_md5_update(slt_md5 *m, const void *data, size_t n);
/* Finishes the digest into hex_out (32 lowercase hex digits and a NUL); m
 * must be initialised again before reuse. */
void slt_md5_final_hex(slt_md5 *m, char hex_out[33]);

/* ---- Scripts (slt_script.c) ---------------------------------------------------- */

typedef enum slt_kind {
    SLT_STATEMENT,
    SLT_QUERY,
    SLT_HASH_THRESHOLD,
    SLT_HALT,
} slt_kind;

typedef enum slt_sort {
    SLT_NOSORT,
    SLT_ROWSORT,
    SLT_VALUESORT,
} slt_sort;

/* One record.  Strings point into the script's pool and live as long as the
 * script. */
typedef struct slt_record {
    slt_kind kind;
    uint32_t line;            /* line of the record's command ("query ...") */
    bool skip;                /* a skipif/onlyif excludes it for "sqlite" */
    /* statement */
    bool expect_error;        /* statement error */
    /* statement and query: the SQL, lines joined by '\n' */
    const char *sql;
    uint32_t sql_line;        /* line of the SQL's first line */
    /* query */
    const char *types;        /* "IIT": one letter per column */
    slt_sort sort;
    const char *label;        /* NULL without a label */
    bool has_expected;        /* a "----" line was present */
    const char *const *expected; /* the lines after "----" */
    uint32_t nexpected;
    /* hash-threshold */
    uint32_t threshold;
} slt_record;

typedef struct slt_script {
    slt_record *recs;
    uint32_t nrecs;
    char *pool;               /* all strings, NUL-terminated */
    const char **lines;       /* expected lines of all queries */
} slt_script;

/* Parses a whole script (text[0..len), LF or CRLF line endings) as the
 * reference runner does: '#' lines are comments wherever they are, a line of
 * white space is blank, records are separated by blank lines, and skipif /
 * onlyif compare their engine name case-insensitively with engine.  Fills
 * *out (release with slt_script_fini).  Returns false with a message in
 * err[0..errcap) ("line 12: unknown record type 'foo'") on a malformed script
 * or when out of memory. */
bool slt_script_parse(const char *text, size_t len, const char *engine,
                      slt_script *out, char *err, size_t errcap);
void slt_script_fini(slt_script *s);

/* ---- Results (slt_result.c) ---------------------------------------------------- */

/* The formatted values of a query result, row after row.  Values live in one
 * growing byte buffer; vals[] is filled by slt_result_finish (once the buffer
 * stops moving). */
typedef struct slt_result {
    char *bytes;
    size_t nbytes, capbytes;
    size_t *offs;             /* start of each value in bytes */
    size_t nvals, capvals;
    const char **vals;        /* after slt_result_finish: nvals pointers */
    size_t capptrs;
    const char *types;        /* the query's type letters */
    uint32_t ncols;           /* strlen(types) */
    uint32_t got_cols;        /* columns of the rows received (0: no row) */
    bool wrong_cols;          /* a row had got_cols != ncols */
    bool nomem;
} slt_result;

void slt_result_init(slt_result *r);
void slt_result_fini(slt_result *r);
/* Empties r for a query with the given type letters. */
void slt_result_reset(slt_result *r, const char *types);
/* An ivm_row_fn (arg: the slt_result) that formats each value by its
 * column's type letter and appends it. */
int slt_result_row(void *arg, uint32_t ncols, const ivm_value *vals,
                   const char *const *names);
/* Makes vals[] point at the values; false when out of memory. */
bool slt_result_finish(slt_result *r);

/* Formats v as the reference runner prints a value of column type t ('I',
 * 'R' or 'T') into buf (cap >= 64 for I and R); T text may be longer: the
 * length needed is returned and buf holds as much as fits, NUL-terminated. */
size_t slt_format_value(char t, const ivm_value *v, char *buf, size_t cap);

/* Sorts vals[0..n) as the reference runner sorts: rowsort compares rows of
 * ncols values column by column with strcmp, valuesort every value alone. */
void slt_sort_values(const char **vals, size_t n, uint32_t ncols, slt_sort sort);

/* MD5 of every value followed by "\n". */
void slt_hash_values(const char *const *vals, size_t n, char hex_out[33]);

/* Parses "N values hashing to H"; false if line is not of that form. */
bool slt_parse_hash_line(const char *line, size_t *n_out, char hex_out[33]);

/* ---- SQL scanning (slt_sqlscan.c) ---------------------------------------------- */

typedef enum slt_ddl {
    SLT_DDL_NONE,
    SLT_DDL_CREATE_TABLE,
    SLT_DDL_CREATE_VIEW,
    SLT_DDL_DROP_TABLE,
    SLT_DDL_DROP_VIEW,
} slt_ddl;

#define SLT_NAME_MAX 128

/* Recognises CREATE TABLE|VIEW [IF NOT EXISTS] name and DROP TABLE|VIEW [IF
 * EXISTS] name at the start of sql; writes the name, folded to lower case,
 * into name_out.  *if_out tells whether IF [NOT] EXISTS was given. */
slt_ddl slt_sql_ddl(const char *sql, char name_out[SLT_NAME_MAX], bool *if_out);

/* Calls fn for every name token of sql (bare or quoted, folded to lower
 * case, outside strings and comments): the relations a query may read are
 * among them. */
void slt_sql_names(const char *sql, void (*fn)(void *arg, const char *name), void *arg);

/* Finds the outermost ORDER BY of a query (at parenthesis depth 0).
 * Returns false if there is none; else *terms_out and *len_out give the text
 * of its terms (up to a LIMIT at depth 0 or the end) and *ordinals_out tells
 * whether every term is a column number with an optional ASC or DESC. */
bool slt_sql_order_by(const char *sql, const char **terms_out, size_t *len_out,
                      bool *ordinals_out);

/* ---- Running (slt_run.c) ------------------------------------------------------- */

typedef enum slt_mode {
    SLT_MODE_ADHOC,
    SLT_MODE_VIEW,
} slt_mode;

/* Counters of one pass.  Written by the pass as it goes (in a child process,
 * through shared memory), so that a crash leaves the counts so far. */
typedef struct slt_counts {
    uint32_t q_passed, q_failed, q_unsupported;
    uint32_t q_unchecked;     /* view mode: hashed ordered result the runner cannot order */
    uint32_t s_ok, s_failed;
    uint32_t s_failed_unsupported; /* of s_failed: refused with IVM_UNSUPPORTED */
    uint32_t skipped;         /* records excluded by skipif/onlyif */
    uint32_t records;         /* records read (with skipped ones) */
    uint32_t current_line;    /* line of the record being run, 0 when done */
    bool creating_view;       /* view mode: creating the view of the query at current_line */
    bool finished;            /* the pass reached its end */
} slt_counts;

/* What a pass reports for each query or statement that did not pass (and,
 * with verbose, each unsupported one). */
typedef struct slt_event {
    const char *file;
    slt_mode mode;
    uint32_t line;
    const char *what;         /* "query failed", "statement failed", "unsupported", ... */
    const char *sql;
    const char *detail;       /* expected vs got, or the error message */
    bool failure;             /* counts as a failure (not unsupported) */
} slt_event;

typedef struct slt_run_opts {
    const char *file;         /* name used in messages */
    slt_mode mode;
    uint32_t max_records;     /* 0 = all */
    uint32_t workers;         /* ivm_options.workers */
    FILE *trace;              /* if set: every statement sent to ivm, as a script */
    void (*report)(void *arg, const slt_event *ev);
    void *report_arg;
} slt_run_opts;

/* Runs script s in one mode against a fresh ivm_db, updating *counts as it
 * goes.  Returns false (with a message in err) only if the runner itself
 * could not go on (ivm_open failed, out of memory); engine errors are
 * outcomes, not runner errors. */
bool slt_run(const slt_script *s, const slt_run_opts *o, slt_counts *counts,
             char *err, size_t errcap);

const char *slt_mode_name(slt_mode m);

#endif /* SLT_H */
