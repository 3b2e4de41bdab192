/*
 * slt_run.c: one pass over a parsed script in one mode, against a fresh
 * ivm_db opened through the public API (include/ivm.h) and nothing else.
 *
 * Ad hoc mode runs every statement and query at its place.  View mode runs
 * the same statements, but every query Q of the file is also defined as a
 * view slt_q<N>, created as early as possible: right after the statement
 * that created the last of the relations Q names (found by scanning Q's
 * names against the CREATE/DROP statements before it, slt_sqlscan.c), or
 * before the first record if Q names none.  The view is then maintained
 * through every statement up to Q's place, where it is read, checked like
 * the query, and dropped (so a later DROP TABLE of what it reads is not
 * refused, and views stop costing maintenance once checked).  Outcomes and
 * the checking rules: tests/slt/README.md.
 */
#include "slt.h"

#include <stdarg.h>

enum { V_PENDING, V_LIVE, V_UNSUPPORTED, V_FAILED, V_DONE };

typedef struct view_plan {
    uint32_t rec;             /* the query's record */
    uint32_t n;               /* N of slt_q<N> */
    uint32_t slot;            /* created after record slot-1; 0: before the first */
    int state;
    char *msg;                /* why CREATE VIEW was refused */
} view_plan;

typedef struct label_ent {
    const char *label;
    uint32_t line;
    size_t nvals;
    char hash[33];
} label_ent;

typedef struct relation {
    char name[SLT_NAME_MAX];
    uint32_t slot;
} relation;

typedef struct run {
    const slt_script *s;
    const slt_run_opts *o;
    slt_counts *c;
    ivm_db *db;
    uint32_t nrecs;           /* records this pass reads */
    uint32_t threshold;       /* hash-threshold: only shapes failure reports */
    slt_result res;
    const char **scratch;     /* expected values, to sort */
    size_t capscratch;
    label_ent *labels;
    size_t nlabels, caplabels;
    view_plan *plans;
    uint32_t nplans;
    uint32_t *order;          /* plans by slot */
    uint32_t *plan_of;        /* per record: its plan, or UINT32_MAX */
    uint32_t next_create;     /* cursor in order */
    relation *refused;        /* relations whose CREATE was refused as unsupported */
    size_t nrefused, caprefused;
    char *sqlbuf;             /* statements the runner builds */
    size_t capsql;
    char detail[2048];
    bool nomem;
} run;

const char *slt_mode_name(slt_mode m)
{
    return m == SLT_MODE_VIEW ? "view" : "adhoc";
}

static void report(run *x, const slt_record *r, const char *what, bool failure,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(run *x, const slt_record *r, const char *what, bool failure,
                   const char *fmt, ...)
{
    if (x->o->report == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->detail, sizeof x->detail, fmt, ap);
    va_end(ap);
    slt_event ev = {
        .file = x->o->file,
        .mode = x->o->mode,
        .line = r->line,
        .what = what,
        .sql = r->sql,
        .detail = x->detail,
        .failure = failure,
    };
    x->o->report(x->o->report_arg, &ev);
}

static const char *errtext(const ivm_err *err, ivm_rc rc, char *buf, size_t cap)
{
    const char *msg = err->msg[0] ? err->msg : "(no message)";
    if (err->line != 0 && err->col != 0)
        snprintf(buf, cap, "[%s] %s (line %u, column %u)", ivm_rc_str(rc), msg,
                 (unsigned)err->line, (unsigned)err->col);
    else
        snprintf(buf, cap, "[%s] %s", ivm_rc_str(rc), msg);
    return buf;
}

/* Every statement the pass sends to ivm goes through here.  With tracing,
 * each is printed as a script build/ivm can replay, with its outcome as a
 * comment. */
static ivm_rc exec(run *x, const char *sql, size_t len, uint32_t line, ivm_row_fn fn,
                   void *arg, ivm_err *err)
{
    ivm_err_clear(err);
    ivm_rc rc = ivm_exec(x->db, sql, len, line, fn, arg, err);
    if (x->o->trace != NULL) {
        fprintf(x->o->trace, "%.*s;\n", (int)IVM_MIN(len, (size_t)INT32_MAX), sql);
        if (rc != IVM_OK) {
            char buf[700];
            fprintf(x->o->trace, "-- error: %s\n", errtext(err, rc, buf, sizeof buf));
        }
    }
    return rc;
}

/* ---- Relations ivm refused ---------------------------------------------------- */

/* A statement or query that fails with "no such table" because it names a
 * relation whose CREATE TABLE/VIEW ivm refused as unsupported is counted as
 * unsupported, not failed: its failure says nothing new about ivm.  A CREATE
 * that fails that way is itself refused (a view on a refused view). */
static void note_create(run *x, const slt_record *r, ivm_rc rc)
{
    char name[SLT_NAME_MAX];
    bool if_;
    slt_ddl d = slt_sql_ddl(r->sql, name, &if_);
    if (d != SLT_DDL_CREATE_TABLE && d != SLT_DDL_CREATE_VIEW)
        return;
    size_t k = 0;
    while (k < x->nrefused && strcmp(x->refused[k].name, name) != 0)
        k++;
    if (rc == IVM_OK && k < x->nrefused) {
        x->refused[k] = x->refused[--x->nrefused];
    } else if (rc == IVM_UNSUPPORTED && k == x->nrefused) {
        if (ivm_grow((void **)&x->refused, &x->caprefused, x->nrefused + 1,
                     sizeof(relation)) != IVM_OK) {
            x->nomem = true;
            return;
        }
        memcpy(x->refused[x->nrefused].name, name, sizeof name);
        x->refused[x->nrefused++].slot = 0;
    }
}

typedef struct refused_ctx {
    const run *x;
    const char *hit;
} refused_ctx;

static void find_refused(void *arg, const char *name)
{
    refused_ctx *c = arg;
    for (size_t i = 0; i < c->x->nrefused && c->hit == NULL; i++)
        if (strcmp(c->x->refused[i].name, name) == 0)
            c->hit = c->x->refused[i].name;
}

/* The refused relation sql names, if rc is a schema error, copied into
 * buf (the list may move); else NULL. */
static const char *cascade(const run *x, const char *sql, ivm_rc rc, char buf[SLT_NAME_MAX])
{
    if (rc != IVM_SCHEMA || x->nrefused == 0)
        return NULL;
    refused_ctx c = {x, NULL};
    slt_sql_names(sql, find_refused, &c);
    if (c.hit == NULL)
        return NULL;
    memcpy(buf, c.hit, SLT_NAME_MAX);
    return buf;
}

/* ---- Building SQL text ------------------------------------------------------- */

static bool sql_printf(run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool sql_printf(run *x, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(x->sqlbuf, x->capsql, fmt, ap);
        va_end(ap);
        if (n < 0)
            return false;
        if ((size_t)n < x->capsql)
            return true;
        if (ivm_grow((void **)&x->sqlbuf, &x->capsql, (size_t)n + 1, 1) != IVM_OK) {
            x->nomem = true;
            return false;
        }
    }
}

/* The query's text without trailing white space and semicolons. */
static int query_len(const char *sql)
{
    size_t n = strlen(sql);
    while (n > 0 && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\t' ||
                     sql[n - 1] == '\n' || sql[n - 1] == '\r'))
        n--;
    return (int)IVM_MIN(n, (size_t)INT32_MAX);
}

/* ---- Checking a result --------------------------------------------------------- */

typedef struct check_how {
    bool rowsort_both;        /* sort result and expected rows (a view of an ORDER BY query) */
    bool skip_label;          /* the comparison was changed: labels do not apply */
} check_how;

static void describe_values(char *buf, size_t cap, const char *const *vals, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 12 && k + 1 < cap; i++) {
        int w = snprintf(buf + k, cap - k, "%s%.60s", i ? " | " : "", vals[i]);
        if (w < 0)
            break;
        k += (size_t)w;
    }
    if (n > 12 && k + 1 < cap)
        snprintf(buf + k, cap - k, " | ...");
}

/* Checks x->res against r; true if it passes, else x->detail says why. */
static bool check(run *x, const slt_record *r, check_how how)
{
    slt_result *res = &x->res;
    if (res->wrong_cols) {
        snprintf(x->detail, sizeof x->detail, "expected %u columns, got %u", res->ncols,
                 res->got_cols);
        return false;
    }
    if (!slt_result_finish(res)) {
        x->nomem = true;
        return false;
    }
    const char **vals = res->vals;
    size_t n = res->nvals;
    slt_sort_values(vals, n, res->ncols, how.rowsort_both ? SLT_ROWSORT : r->sort);

    char hash[33] = "";
    bool hashed_exp = false;
    size_t exp_n = 0;
    char exp_hash[33];
    if (r->has_expected && r->nexpected == 1)
        hashed_exp = slt_parse_hash_line(r->expected[0], &exp_n, exp_hash);
    if (hashed_exp || (r->label && !how.skip_label))
        slt_hash_values(vals, n, hash);

    if (r->label && !how.skip_label) {
        label_ent *hit = NULL;
        for (size_t i = 0; i < x->nlabels; i++)
            if (strcmp(x->labels[i].label, r->label) == 0)
                hit = &x->labels[i];
        if (hit && (hit->nvals != n || strcmp(hit->hash, hash) != 0)) {
            snprintf(x->detail, sizeof x->detail,
                     "label %s: %zu values hashing to %s, but the query at line %u with the "
                     "same label gave %zu values hashing to %s",
                     r->label, n, hash, hit->line, hit->nvals, hit->hash);
            return false;
        }
        if (!hit) {
            if (ivm_grow((void **)&x->labels, &x->caplabels, x->nlabels + 1,
                         sizeof(label_ent)) != IVM_OK) {
                x->nomem = true;
                return false;
            }
            label_ent *e = &x->labels[x->nlabels++];
            e->label = r->label;
            e->line = r->line;
            e->nvals = n;
            memcpy(e->hash, hash, sizeof e->hash);
        }
    }
    if (!r->has_expected)
        return true;

    if (hashed_exp) {
        if (exp_n == n && strcmp(exp_hash, hash) == 0)
            return true;
        char got[600];
        describe_values(got, sizeof got, vals, n);
        snprintf(x->detail, sizeof x->detail,
                 "expected %s\n      got      %zu values hashing to %s: %s", r->expected[0], n,
                 hash, got);
        return false;
    }
    const char *const *exp = r->expected;
    if (how.rowsort_both && r->nexpected > 0) {
        if (ivm_grow((void **)&x->scratch, &x->capscratch, r->nexpected, sizeof(char *)) !=
            IVM_OK) {
            x->nomem = true;
            return false;
        }
        memcpy(x->scratch, r->expected, r->nexpected * sizeof(char *));
        slt_sort_values(x->scratch, r->nexpected, res->ncols, SLT_ROWSORT);
        exp = x->scratch;
    }
    size_t i = 0;
    while (i < n && i < r->nexpected && strcmp(vals[i], exp[i]) == 0)
        i++;
    if (i == n && n == r->nexpected)
        return true;
    char got[600], want[600];
    describe_values(got, sizeof got, vals, n);
    describe_values(want, sizeof want, exp, r->nexpected);
    /* Over the hash threshold the reference runner would have printed the
     * result as a hash: say so, the file may hold the other form. */
    char note[120] = "";
    if (x->threshold > 0 && n > x->threshold) {
        if (hash[0] == '\0')
            slt_hash_values(vals, n, hash);
        snprintf(note, sizeof note, "\n      (over hash-threshold %u: %zu values hashing to %s)",
                 x->threshold, n, hash);
    }
    if (i < n && i < r->nexpected)
        snprintf(x->detail, sizeof x->detail,
                 "value %zu (row %zu, column %zu): expected '%.100s', got '%.100s'\n"
                 "      expected %u values: %s\n      got      %zu values: %s%s",
                 i + 1, i / res->ncols + 1, i % res->ncols + 1, exp[i], vals[i],
                 r->nexpected, want, n, got, note);
    else
        snprintf(x->detail, sizeof x->detail,
                 "expected %u values, got %zu\n      expected: %s\n      got:      %s%s",
                 r->nexpected, n, want, got, note);
    return false;
}

/* ---- Records ------------------------------------------------------------------- */

static void run_statement(run *x, const slt_record *r)
{
    ivm_err err;
    ivm_err_clear(&err);
    ivm_rc rc = exec(x, r->sql, strlen(r->sql), r->sql_line, NULL, NULL, &err);
    char buf[700];
    if (r->expect_error) {
        if (rc != IVM_OK) {
            x->c->s_ok++;
        } else {
            x->c->s_failed++;
            report(x, r, "statement succeeded, an error was expected", true, "%s",
                   "ivm accepted the statement");
        }
        return;
    }
    char relbuf[SLT_NAME_MAX];
    const char *rel = cascade(x, r->sql, rc, relbuf);
    note_create(x, r, rel != NULL ? IVM_UNSUPPORTED : rc);
    if (rc == IVM_OK) {
        x->c->s_ok++;
        return;
    }
    x->c->s_failed++;
    if (rc == IVM_UNSUPPORTED || rel != NULL)
        x->c->s_failed_unsupported++;
    if (rel != NULL)
        report(x, r, "statement failed", false, "%s [%s was refused as unsupported]",
               errtext(&err, rc, buf, sizeof buf), rel);
    else
        report(x, r, "statement failed", true, "%s", errtext(&err, rc, buf, sizeof buf));
}

/* Runs sql (a query of record r) and counts the outcome. */
static void run_and_check(run *x, const slt_record *r, const char *sql, size_t len,
                          uint32_t line, check_how how)
{
    ivm_err err;
    ivm_err_clear(&err);
    slt_result_reset(&x->res, r->types);
    ivm_rc rc = exec(x, sql, len, line, slt_result_row, &x->res, &err);
    if (x->res.nomem) {
        x->nomem = true;
        return;
    }
    char buf[700];
    char relbuf[SLT_NAME_MAX];
    const char *rel = cascade(x, r->sql, rc, relbuf);
    if (rc == IVM_UNSUPPORTED || rel != NULL) {
        x->c->q_unsupported++;
        if (rel != NULL)
            report(x, r, "unsupported", false, "%s [%s was refused as unsupported]",
                   errtext(&err, rc, buf, sizeof buf), rel);
        else
            report(x, r, "unsupported", false, "%s", errtext(&err, rc, buf, sizeof buf));
        return;
    }
    if (rc != IVM_OK) {
        x->c->q_failed++;
        report(x, r, "query failed", true, "%s", errtext(&err, rc, buf, sizeof buf));
        return;
    }
    if (check(x, r, how)) {
        x->c->q_passed++;
        return;
    }
    if (x->nomem)
        return;
    x->c->q_failed++;
    char detail[sizeof x->detail];
    memcpy(detail, x->detail, sizeof detail);
    report(x, r, "wrong result", true, "%s", detail);
}

static void run_query_adhoc(run *x, const slt_record *r)
{
    check_how how = {false, false};
    run_and_check(x, r, r->sql, strlen(r->sql), r->sql_line, how);
}

static void drop_view(run *x, const slt_record *r, view_plan *vp)
{
    if (!sql_printf(x, "DROP VIEW slt_q%u", vp->n))
        return;
    ivm_err err;
    ivm_err_clear(&err);
    ivm_rc rc = exec(x, x->sqlbuf, strlen(x->sqlbuf), r->line, NULL, NULL, &err);
    vp->state = V_DONE;
    if (rc != IVM_OK) {
        /* An engine failure, but not the query's: it shows as a failed
         * statement of the runner's own. */
        char buf[700];
        x->c->s_failed++;
        report(x, r, "DROP VIEW failed", true, "%s", errtext(&err, rc, buf, sizeof buf));
    }
}

static void run_query_view(run *x, const slt_record *r, uint32_t idx)
{
    view_plan *vp = x->plan_of[idx] == UINT32_MAX ? NULL : &x->plans[x->plan_of[idx]];
    if (vp == NULL || vp->state == V_PENDING || vp->state == V_DONE) {
        x->c->q_failed++;
        report(x, r, "runner error", true, "the query's view was never created");
        return;
    }
    if (vp->state == V_UNSUPPORTED) {
        x->c->q_unsupported++;
        report(x, r, "unsupported", false, "CREATE VIEW: %s", vp->msg ? vp->msg : "");
        return;
    }
    if (vp->state == V_FAILED) {
        x->c->q_failed++;
        report(x, r, "CREATE VIEW failed", true, "%s", vp->msg ? vp->msg : "");
        return;
    }
    /* A view has no order.  If the query orders its rows and the record
     * does not sort them: listed values are compared as rowsort on both
     * sides; hashed ones (whose order is baked into the hash) are read in
     * the query's order if it orders by column numbers only. */
    const char *terms = NULL;
    size_t nterms = 0;
    bool ordinals = false;
    check_how how = {false, false};
    bool ordered = r->sort == SLT_NOSORT && slt_sql_order_by(r->sql, &terms, &nterms, &ordinals);
    bool ok;
    if (ordered) {
        size_t dummy;
        char hex[33];
        bool hashed = r->has_expected && r->nexpected == 1 &&
                      slt_parse_hash_line(r->expected[0], &dummy, hex);
        if (hashed && !ordinals) {
            x->c->q_unchecked++;
            report(x, r, "unchecked", false,
                   "hashed result in ORDER BY order, but the ORDER BY is not by column numbers");
            drop_view(x, r, vp);
            return;
        }
        if (hashed)
            ok = sql_printf(x, "SELECT * FROM slt_q%u ORDER BY %.*s", vp->n, (int)nterms, terms);
        else {
            ok = sql_printf(x, "SELECT * FROM slt_q%u", vp->n);
            how.rowsort_both = true;
            how.skip_label = true;
        }
    } else {
        ok = sql_printf(x, "SELECT * FROM slt_q%u", vp->n);
    }
    if (!ok)
        return;
    /* run_and_check reuses nothing of sqlbuf after ivm_exec returns. */
    run_and_check(x, r, x->sqlbuf, strlen(x->sqlbuf), r->line, how);
    if (!x->nomem)
        drop_view(x, r, vp);
}

/* ---- View placement ------------------------------------------------------------ */

typedef struct place_ctx {
    const relation *rels;
    size_t nrels;
    uint32_t slot;
} place_ctx;

static void place_name(void *arg, const char *name)
{
    place_ctx *p = arg;
    for (size_t i = 0; i < p->nrels; i++)
        if (strcmp(p->rels[i].name, name) == 0 && p->rels[i].slot > p->slot)
            p->slot = p->rels[i].slot;
}

static int cmp_plan_slot(const void *a, const void *b, void *arg)
{
    const view_plan *plans = arg;
    const view_plan *x = &plans[*(const uint32_t *)a], *y = &plans[*(const uint32_t *)b];
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* Follows the CREATE and DROP statements the pass will run (`statement ok`
 * ones, not skipped) and gives every query the slot after the creation of
 * the last relation it names. */
static bool plan_views(run *x)
{
    relation *rels = NULL;
    size_t nrels = 0, caprels = 0;
    x->plan_of = ivm_malloc((x->nrecs + 1) * sizeof(uint32_t));
    x->plans = ivm_calloc(x->nrecs + 1, sizeof(view_plan));
    x->order = ivm_malloc((x->nrecs + 1) * sizeof(uint32_t));
    if (x->plan_of == NULL || x->plans == NULL || x->order == NULL)
        return false;
    uint32_t nq = 0;
    for (uint32_t i = 0; i < x->nrecs; i++) {
        const slt_record *r = &x->s->recs[i];
        x->plan_of[i] = UINT32_MAX;
        if (r->skip)
            continue;
        nq += r->kind == SLT_QUERY;
        if (r->kind == SLT_STATEMENT && !r->expect_error) {
            char name[SLT_NAME_MAX];
            bool if_;
            slt_ddl d = slt_sql_ddl(r->sql, name, &if_);
            size_t k = 0;
            while (k < nrels && strcmp(rels[k].name, name) != 0)
                k++;
            if ((d == SLT_DDL_CREATE_TABLE || d == SLT_DDL_CREATE_VIEW) && k == nrels) {
                if (ivm_grow((void **)&rels, &caprels, nrels + 1, sizeof *rels) != IVM_OK) {
                    ivm_free(rels);
                    return false;
                }
                memcpy(rels[nrels].name, name, sizeof name);
                rels[nrels++].slot = i + 1;
            } else if ((d == SLT_DDL_DROP_TABLE || d == SLT_DDL_DROP_VIEW) && k < nrels) {
                rels[k] = rels[--nrels];
            }
        } else if (r->kind == SLT_QUERY) {
            place_ctx p = {rels, nrels, 0};
            slt_sql_names(r->sql, place_name, &p);
            view_plan *vp = &x->plans[x->nplans];
            vp->rec = i;
            vp->n = nq;
            vp->slot = p.slot;
            vp->state = V_PENDING;
            x->order[x->nplans] = x->nplans;
            x->plan_of[i] = x->nplans++;
        }
    }
    ivm_free(rels);
    qsort_r(x->order, x->nplans, sizeof(uint32_t), cmp_plan_slot, x->plans);
    return true;
}

/* Creates the views whose slot is slot. */
static void create_views(run *x, uint32_t slot)
{
    while (x->next_create < x->nplans && x->plans[x->order[x->next_create]].slot == slot) {
        view_plan *vp = &x->plans[x->order[x->next_create++]];
        const slt_record *r = &x->s->recs[vp->rec];
        /* Columns are named c1, c2, ...: a query's own names may repeat
         * ("SELECT a, a") or be expressions, which a view cannot have.  The
         * query starts on the next line, so that error positions are the
         * file's lines. */
        char cols[16 * 12];
        size_t k = 0;
        uint32_t ncols = (uint32_t)strlen(r->types);
        cols[0] = '\0';
        for (uint32_t c = 0; c < ncols && k + 16 < sizeof cols; c++)
            k += (size_t)snprintf(cols + k, sizeof cols - k, "%sc%u", c ? "," : "", c + 1);
        if (!sql_printf(x, "CREATE VIEW slt_q%u(%s) AS\n%.*s", vp->n, cols, query_len(r->sql),
                        r->sql))
            return;
        uint32_t at = x->c->current_line;
        x->c->current_line = r->line;
        x->c->creating_view = true;
        ivm_err err;
        ivm_err_clear(&err);
        ivm_rc rc = exec(x, x->sqlbuf, strlen(x->sqlbuf), r->sql_line - 1, NULL, NULL, &err);
        x->c->current_line = at;
        x->c->creating_view = false;
        if (rc == IVM_OK) {
            vp->state = V_LIVE;
            continue;
        }
        char buf[700];
        char relbuf[SLT_NAME_MAX];
        const char *rel = cascade(x, r->sql, rc, relbuf);
        vp->state = rc == IVM_UNSUPPORTED || rel != NULL ? V_UNSUPPORTED : V_FAILED;
        errtext(&err, rc, buf, sizeof buf);
        if (rel != NULL) {
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof buf - l, " [%s was refused as unsupported]", rel);
        }
        vp->msg = ivm_strndup(buf, strlen(buf));
    }
}

/* ---- The pass ------------------------------------------------------------------- */

bool slt_run(const slt_script *s, const slt_run_opts *o, slt_counts *counts,
             char *err, size_t errcap)
{
    run x;
    memset(&x, 0, sizeof x);
    x.s = s;
    x.o = o;
    x.c = counts;
    x.threshold = 8;
    x.nrecs = s->nrecs;
    if (o->max_records > 0 && o->max_records < x.nrecs)
        x.nrecs = o->max_records;
    slt_result_init(&x.res);
    bool ok = false;

    ivm_options opts = {.workers = o->workers};
    ivm_err ierr;
    ivm_err_clear(&ierr);
    ivm_rc rc = ivm_open(&opts, &x.db, &ierr);
    if (rc != IVM_OK) {
        snprintf(err, errcap, "ivm_open failed: %s", ierr.msg[0] ? ierr.msg : ivm_rc_str(rc));
        goto done;
    }
    if (o->mode == SLT_MODE_VIEW) {
        if (!plan_views(&x)) {
            x.nomem = true;
            goto done;
        }
        create_views(&x, 0);
    }
    for (uint32_t i = 0; i < x.nrecs && !x.nomem; i++) {
        const slt_record *r = &s->recs[i];
        counts->records = i + 1;
        counts->current_line = r->line;
        if (r->skip) {
            counts->skipped++;
            continue;
        }
        if (r->kind == SLT_HALT)
            break;
        switch (r->kind) {
        case SLT_HASH_THRESHOLD:
            x.threshold = r->threshold;
            break;
        case SLT_STATEMENT:
            run_statement(&x, r);
            break;
        case SLT_QUERY:
            if (o->mode == SLT_MODE_VIEW)
                run_query_view(&x, r, i);
            else
                run_query_adhoc(&x, r);
            break;
        default:
            break;
        }
        if (o->mode == SLT_MODE_VIEW)
            create_views(&x, i + 1);
    }
    if (x.nomem)
        goto done;
    counts->current_line = 0;
    ok = true;
done:
    if (x.nomem)
        snprintf(err, errcap, "out of memory");
    ivm_close(x.db);
    if (ok)
        counts->finished = true;
    for (uint32_t i = 0; i < x.nplans; i++)
        ivm_free(x.plans[i].msg);
    ivm_free(x.plans);
    ivm_free(x.order);
    ivm_free(x.plan_of);
    ivm_free(x.labels);
    ivm_free(x.refused);
    ivm_free((void *)x.scratch);
    ivm_free(x.sqlbuf);
    slt_result_fini(&x.res);
    return ok;
}
