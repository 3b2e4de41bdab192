/*
 * run.c: runs a script through ivm and SQLite and compares.  Every
 * statement runs in one ivm instance per worker count and in SQLite; their
 * outcomes (success or failure) must agree.  After every statement that can
 * change data, each view ivm maintains is read three ways: its maintained
 * contents (SELECT * FROM v in ivm), its SELECT run ad hoc by ivm, and SQLite
 * reading the same view (a full recomputation).  Results compare as
 * multisets of typed values, REALs with a relative tolerance.  A view ivm
 * refuses as IVM_UNSUPPORTED is counted, not failed, and is not created in
 * SQLite either.  Runs may happen in a child process, so that a crash or a
 * hang in the engine becomes a reported failure.  See proptests/README.md.
 */
#include "prop_int.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

const char *const pt_fail_names[F_KINDS] = {
    [F_NONE] = "none",
    [F_VIEW_DIFF] = "view differs",
    [F_STMT] = "statement outcome differs",
    [F_VIEW_REJECTED] = "view rejected",
    [F_READ] = "read failed",
    [F_INVALID] = "invalid generated SQL",
    [F_WORKERS] = "worker counts disagree",
    [F_TABLE_DIFF] = "table differs",
    [F_CRASH] = "crash",
    [F_TIMEOUT] = "timeout",
};

/* REALs differing by less than this, relative to the larger, are equal:
 * SUM and AVG of REALs depend on the order of addition. */
#define REL_TOL 1e-9
#define ABS_TOL 1e-12

/* ---- Result sets ---------------------------------------------------------------- */

typedef struct rval {
    int type;                /* IVM_T* */
    int64_t i;
    double r;
    size_t off;              /* text: bytes at pool + off */
    uint32_t n;
} rval;

typedef struct rowset {
    int ncols;               /* -1 until the first row */
    size_t nrows, cap;
    rval *v;
    ptext pool;
} rowset;

static void rs_init(rowset *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->ncols = -1;
}

static void rs_free(rowset *rs)
{
    free(rs->v);
    pt_text_free(&rs->pool);
    rs_init(rs);
}

static rval *rs_row_add(rowset *rs, int ncols)
{
    if (rs->ncols < 0)
        rs->ncols = ncols;
    if (ncols != rs->ncols)
        return NULL;
    size_t need = (rs->nrows + 1) * (size_t)(ncols ? ncols : 1);
    if (need > rs->cap) {
        size_t cap = need * 2;
        rval *v = realloc(rs->v, sizeof *v * cap);
        if (v == NULL)
            pt_oom();
        rs->v = v;
        rs->cap = cap;
    }
    return &rs->v[rs->nrows++ * (size_t)(ncols ? ncols : 1)];
}

static void rs_text(rowset *rs, rval *v, const char *p, size_t n)
{
    v->type = IVM_TTEXT;
    v->off = rs->pool.n;
    v->n = (uint32_t)n;
    pt_put(&rs->pool, p ? p : "", p ? n : 0);
}

static const rval *rs_row(const rowset *rs, size_t i)
{
    return &rs->v[i * (size_t)(rs->ncols > 0 ? rs->ncols : 1)];
}

static int ivm_collect(void *arg, uint32_t ncols, const ivm_value *vals, const char *const *names)
{
    rowset *rs = arg;
    IVM_UNUSED(names);
    rval *row = rs_row_add(rs, (int)ncols);
    if (row == NULL)
        return 1;
    for (uint32_t i = 0; i < ncols; i++) {
        rval *v = &row[i];
        memset(v, 0, sizeof *v);
        v->type = vals[i].type;
        if (vals[i].type == IVM_TINT)
            v->i = vals[i].u.i;
        else if (vals[i].type == IVM_TREAL)
            v->r = vals[i].u.r;
        else if (vals[i].type == IVM_TTEXT)
            rs_text(rs, v, vals[i].u.s.p, vals[i].u.s.n);
    }
    return 0;
}

/* SQLite 3.40's query flattener, when it merges a compound view or
 * subquery with a RIGHT or FULL JOIN in a member into a query that joins it
 * with ON, then reports that ON clause as one that "references tables to its
 * right", though the query is legal (later SQLite versions read it).  A
 * statement SQLite refuses that way is prepared again with the flattener
 * off: the scoping check itself still runs then, so an ON clause that does
 * name a later table is still refused.  Counted per run (`unflattened`). */
#define LITE_RIGHT_MSG "ON clause references tables to its right"
#define LITE_NO_FLATTEN 0x0001 /* SQLITE_QueryFlattener in SQLite's sqliteInt.h */

static uint64_t unflattened;

/* SQLite may need minutes for one statement of a case whose view has
 * millions of rows, each with correlated subqueries: a reported "hang"
 * that is the oracle's work, not ivm's.  A progress handler stops any
 * SQLite statement after LITE_BUDGET callbacks (of 1000 virtual machine
 * steps each, a few seconds; counted in steps so that it is the same on
 * every run), and the case is then given up without a verdict (counted as
 * "given up").  A hang in ivm still meets --timeout. */
#define LITE_BUDGET 1000000
static uint64_t lite_steps;
static bool lite_over;

static int lite_progress(void *arg)
{
    IVM_UNUSED(arg);
    if (++lite_steps <= LITE_BUDGET)
        return 0;
    lite_over = true;
    return 1;
}

static int lite_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st_out)
{
    lite_steps = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, st_out, NULL);
    if (rc == SQLITE_OK || strcmp(sqlite3_errmsg(db), LITE_RIGHT_MSG) != 0)
        return rc;
    /* The mask is read while preparing: it need not stay set. */
    sqlite3_test_control(SQLITE_TESTCTRL_OPTIMIZATIONS, db, LITE_NO_FLATTEN);
    rc = sqlite3_prepare_v2(db, sql, -1, st_out, NULL);
    sqlite3_test_control(SQLITE_TESTCTRL_OPTIMIZATIONS, db, 0);
    unflattened++;
    return rc;
}

/* One statement without results, as sqlite3_exec, through lite_prepare;
 * the message of a failure goes to *msg (sqlite3_free it). */
static int lite_exec(sqlite3 *db, const char *sql, char **msg)
{
    sqlite3_stmt *st = NULL;
    int rc = lite_prepare(db, sql, &st);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && msg != NULL)
        *msg = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* A view read with more rows than this (a join on a value most rows share
 * gives millions) is compared by its row count only: collecting and sorting
 * it three ways per worker count after every statement would take a case
 * past its time limit.  Counted as "compared by count". */
#define MAX_COMPARE_ROWS 100000

/* Runs sql in SQLite into rs; returns SQLITE_OK or an error code, with the
 * message in err (at least 256 bytes); SQLITE_TOOBIG past cap rows (0: no
 * cap). */
static int sqlite_collect_capped(sqlite3 *db, const char *sql, rowset *rs, char *err,
                                 size_t errcap, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = lite_prepare(db, sql, &st);
    if (rc != SQLITE_OK) {
        snprintf(err, errcap, "%s", sqlite3_errmsg(db));
        return rc;
    }
    int n = sqlite3_column_count(st);
    rs->ncols = n;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cap > 0 && rs->nrows >= cap) {
            snprintf(err, errcap, "more than %zu rows", cap);
            sqlite3_finalize(st);
            return SQLITE_TOOBIG;
        }
        rval *row = rs_row_add(rs, n);
        for (int i = 0; i < n; i++) {
            rval *v = &row[i];
            memset(v, 0, sizeof *v);
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                v->type = IVM_TINT;
                v->i = sqlite3_column_int64(st, i);
                break;
            case SQLITE_FLOAT:
                v->type = IVM_TREAL;
                v->r = sqlite3_column_double(st, i);
                break;
            case SQLITE_NULL:
                v->type = IVM_TNULL;
                break;
            default: {
                const unsigned char *p = sqlite3_column_text(st, i);
                rs_text(rs, v, (const char *)p, (size_t)sqlite3_column_bytes(st, i));
                break;
            }
            }
        }
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errcap, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int sqlite_collect(sqlite3 *db, const char *sql, rowset *rs, char *err, size_t errcap)
{
    return sqlite_collect_capped(db, sql, rs, err, errcap, 0);
}

/* Exact order: NULL, numbers (by value; INT before an equal REAL), text. */
static int val_cmp(const rowset *ra, const rval *a, const rowset *rb, const rval *b)
{
    int ca = a->type == IVM_TNULL ? 0 : a->type == IVM_TTEXT ? 2 : 1;
    int cb = b->type == IVM_TNULL ? 0 : b->type == IVM_TTEXT ? 2 : 1;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (ca == 0)
        return 0;
    if (ca == 2) {
        uint32_t n = a->n < b->n ? a->n : b->n;
        int c = memcmp(ra->pool.p + a->off, rb->pool.p + b->off, n);
        if (c != 0)
            return c < 0 ? -1 : 1;
        return a->n == b->n ? 0 : a->n < b->n ? -1 : 1;
    }
    double x = a->type == IVM_TINT ? (double)a->i : a->r;
    double y = b->type == IVM_TINT ? (double)b->i : b->r;
    if (a->type == IVM_TINT && b->type == IVM_TINT)
        return a->i == b->i ? 0 : a->i < b->i ? -1 : 1;
    if (x != y)
        return x < y ? -1 : 1;
    return a->type == b->type ? 0 : a->type == IVM_TINT ? -1 : 1;
}

static bool val_same(const rowset *ra, const rval *a, const rowset *rb, const rval *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == IVM_TREAL) {
        if (a->r == b->r)
            return true;
        double d = fabs(a->r - b->r);
        double m = fmax(fabs(a->r), fabs(b->r));
        return d <= REL_TOL * m || d <= ABS_TOL;
    }
    return val_cmp(ra, a, rb, b) == 0;
}

static int row_cmp_rs(const rowset *rs, const rval *a, const rval *b)
{
    for (int i = 0; i < rs->ncols; i++) {
        int c = val_cmp(rs, &a[i], rs, &b[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

static int sort_cmp(const void *pa, const void *pb, void *ctx)
{
    const rowset *rs = ctx;
    return row_cmp_rs(rs, rs_row(rs, *(const size_t *)pa), rs_row(rs, *(const size_t *)pb));
}

static size_t *rs_order(const rowset *rs)
{
    size_t *ix = pt_xmalloc(sizeof *ix * (rs->nrows + 1));
    for (size_t i = 0; i < rs->nrows; i++)
        ix[i] = i;
    qsort_r(ix, rs->nrows, sizeof *ix, sort_cmp, (void *)rs);
    return ix;
}

static bool row_same(const rowset *ra, const rval *a, const rowset *rb, const rval *b, int n)
{
    for (int i = 0; i < n; i++)
        if (!val_same(ra, &a[i], rb, &b[i]))
            return false;
    return true;
}

static void row_print(const rowset *rs, const rval *row, ptext *t)
{
    for (int i = 0; i < rs->ncols; i++) {
        const rval *v = &row[i];
        if (i)
            pt_puts(t, "|");
        char buf[64];
        switch (v->type) {
        case IVM_TNULL: pt_puts(t, "NULL"); break;
        case IVM_TINT: pt_printf(t, "%lld", (long long)v->i); break;
        case IVM_TREAL:
            ivm_format_real(v->r, buf, sizeof buf);
            pt_puts(t, buf);
            /* A digit-level difference would not show in 15 digits. */
            if (strtod(buf, NULL) != v->r)
                pt_printf(t, " (%.17g)", v->r);
            break;
        default:
            pt_puts(t, "'");
            pt_put(t, rs->pool.p + v->off, v->n);
            pt_puts(t, "'");
            break;
        }
    }
}

/* Compares two result sets as multisets; on a difference describes it in
 * *why (rows only in a, rows only in b) and returns false. */
static bool rs_equal(const rowset *a, const char *an, const rowset *b, const char *bn,
                     ptext *why)
{
    int na = a->ncols < 0 ? 0 : a->ncols, nb = b->ncols < 0 ? 0 : b->ncols;
    if (a->nrows > 0 && b->nrows > 0 && na != nb) {
        pt_printf(why, "  %s has %d columns, %s has %d\n", an, na, bn, nb);
        return false;
    }
    size_t *ia = rs_order(a), *ib = rs_order(b);
    bool same = a->nrows == b->nrows;
    for (size_t i = 0; same && i < a->nrows; i++)
        same = row_same(a, rs_row(a, ia[i]), b, rs_row(b, ib[i]), na);
    if (!same) {
        /* Match rows with the tolerance, greedily, then list the rest. */
        bool *used = calloc(b->nrows + 1, sizeof *used);
        bool *matched = calloc(a->nrows + 1, sizeof *matched);
        if (used == NULL || matched == NULL)
            pt_oom();
        size_t only_a = 0, only_b = 0;
        for (size_t i = 0; i < a->nrows; i++) {
            for (size_t j = 0; j < b->nrows; j++) {
                if (!used[ib[j]] &&
                    row_same(a, rs_row(a, ia[i]), b, rs_row(b, ib[j]), na)) {
                    used[ib[j]] = true;
                    matched[ia[i]] = true;
                    break;
                }
            }
        }
        for (size_t i = 0; i < a->nrows; i++)
            only_a += !matched[i];
        for (size_t j = 0; j < b->nrows; j++)
            only_b += !used[j];
        same = only_a == 0 && only_b == 0;
        if (!same) {
            pt_printf(why, "  %s: %zu rows, %s: %zu rows; %zu only in %s, %zu only in %s\n", an,
                      a->nrows, bn, b->nrows, only_a, an, only_b, bn);
            int shown = 0;
            for (size_t i = 0; i < a->nrows && shown < 8; i++) {
                if (matched[ia[i]])
                    continue;
                pt_printf(why, "    only in %s: ", an);
                row_print(a, rs_row(a, ia[i]), why);
                pt_puts(why, "\n");
                shown++;
            }
            shown = 0;
            for (size_t j = 0; j < b->nrows && shown < 8; j++) {
                if (used[ib[j]])
                    continue;
                pt_printf(why, "    only in %s: ", bn);
                row_print(b, rs_row(b, ib[j]), why);
                pt_puts(why, "\n");
                shown++;
            }
        }
        free(used);
        free(matched);
    }
    free(ia);
    free(ib);
    return same;
}

/* ---- Statements ------------------------------------------------------------------ */

enum { K_OTHER, K_VIEW, K_BEGIN, K_COMMIT, K_ROLLBACK, K_SELECT, K_TABLE };

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Matches a keyword (case-insensitive) followed by a non-name character. */
static const char *word(const char *p, const char *kw)
{
    size_t n = strlen(kw);
    if (strncasecmp(p, kw, n) != 0)
        return NULL;
    char c = p[n];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
        return NULL;
    return skip_space(p + n);
}

/* Classifies a statement; for CREATE VIEW name AS select fills the name
 * (at most 31 bytes) and points *select at the query. */
static int classify(const char *sql, char *name, const char **select)
{
    const char *p = skip_space(sql), *q;
    if ((q = word(p, "CREATE")) != NULL) {
        const char *v = word(q, "VIEW");
        if (v == NULL) {
            const char *t = word(q, "TABLE");
            if (t == NULL)
                return K_OTHER;
            size_t n = 0;
            while (t[n] && t[n] != ' ' && t[n] != '\n' && t[n] != '\t' && t[n] != '(' && n < 31)
                n++;
            memcpy(name, t, n);
            name[n] = '\0';
            return K_TABLE;
        }
        size_t n = 0;
        while (v[n] && v[n] != ' ' && v[n] != '\n' && v[n] != '\t' && v[n] != '(' && n < 31)
            n++;
        memcpy(name, v, n);
        name[n] = '\0';
        const char *after = skip_space(v + n);
        if (*after == '(') {
            /* A column list: CREATE VIEW v(a, b) AS ... */
            const char *close = strchr(after, ')');
            if (close == NULL)
                return K_OTHER;
            after = skip_space(close + 1);
        }
        const char *a = word(after, "AS");
        if (a == NULL)
            return K_OTHER;
        *select = a;
        return K_VIEW;
    }
    if (word(p, "BEGIN"))
        return K_BEGIN;
    if (word(p, "COMMIT") || word(p, "END"))
        return K_COMMIT;
    if (word(p, "ROLLBACK"))
        return K_ROLLBACK;
    if (word(p, "SELECT") || word(p, "WITH"))
        return K_SELECT;
    return K_OTHER;
}

/* True if text names the relation (as a whole word, case-insensitively). */
static bool mentions(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strcasestr(p, name)) != NULL; p++) {
        char before = p == text ? ' ' : p[-1];
        char after = p[n];
        bool wb = (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
                  (before >= '0' && before <= '9') || before == '_' || before == '.';
        bool wa = (after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') ||
                  (after >= '0' && after <= '9') || after == '_';
        if (!wb && !wa)
            return true;
    }
    return false;
}

/* ---- Statistics ------------------------------------------------------------------ */

void pt_stats_add(pstats *to, const pstats *from)
{
    to->cases += from->cases;
    to->statements += from->statements;
    to->stmt_failed += from->stmt_failed;
    to->commits += from->commits;
    to->rollbacks += from->rollbacks;
    to->views += from->views;
    to->refused += from->refused;
    to->skipped += from->skipped;
    to->checks += from->checks;
    to->table_checks += from->table_checks;
    to->rows_compared += from->rows_compared;
    to->oracle_errors += from->oracle_errors;
    to->unflattened += from->unflattened;
    to->known_diffs += from->known_diffs;
    to->count_checks += from->count_checks;
    to->given_up += from->given_up;
    for (int i = 0; i < PC_COUNT; i++) {
        to->cons_seen[i] += from->cons_seen[i];
        to->cons_refused[i] += from->cons_refused[i];
    }
    for (int i = 0; i < from->nreasons; i++) {
        int j = 0;
        while (j < to->nreasons && strcmp(to->reasons[j].text, from->reasons[i].text) != 0)
            j++;
        if (j == to->nreasons) {
            if (to->nreasons == PT_MAX_REASONS)
                continue;
            snprintf(to->reasons[j].text, sizeof to->reasons[j].text, "%s",
                     from->reasons[i].text);
            to->reasons[j].n = 0;
            to->nreasons++;
        }
        to->reasons[j].n += from->reasons[i].n;
    }
}

/* Records why ivm refused a view: its message up to "is not supported". */
static void add_reason(pstats *st, const char *msg)
{
    char text[96];
    snprintf(text, sizeof text, "%.95s", msg);
    char *cut = strstr(text, " is not supported");
    if (cut == NULL)
        cut = strstr(text, " are not supported");
    if (cut != NULL)
        *cut = '\0';
    int j = 0;
    while (j < st->nreasons && strcmp(st->reasons[j].text, text) != 0)
        j++;
    if (j == st->nreasons) {
        if (st->nreasons == PT_MAX_REASONS)
            return;
        snprintf(st->reasons[j].text, sizeof st->reasons[j].text, "%s", text);
        st->reasons[j].n = 0;
        st->nreasons++;
    }
    st->reasons[j].n++;
}

/* ---- The run ------------------------------------------------------------------------ */

typedef struct rview {
    char name[32];
    const char *select;
    int stmt;
} rview;

typedef struct runner {
    const pscript *sc;
    const prun_opts *o;
    ivm_db *db[PT_MAX_WORKERS];
    sqlite3 *lite;
    rview views[64];
    int nviews;
    char tables[16][32];     /* tables created in both */
    int ntables;
    char refused[64][32];
    int nrefused;
    poutcome *out;
    pstats *st;
} runner;

static void failf(runner *r, int kind, int stmt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void failf(runner *r, int kind, int stmt, const char *fmt, ...)
{
    if (r->out->kind != F_NONE)
        return;
    r->out->kind = kind;
    r->out->stmt = stmt;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->out->msg, sizeof r->out->msg, fmt, ap);
    va_end(ap);
}

/* Where the failure just recorded was seen: the worker count of db k, the
 * relation read (a view made by statement view_stmt, or a table: -1), and
 * its column count. */
static void fail_where(runner *r, int k, const char *rel, int view_stmt, int ncols)
{
    r->out->workers = r->o->workers[k];
    snprintf(r->out->view, sizeof r->out->view, "%s", rel);
    r->out->view_stmt = view_stmt;
    r->out->view_ncols = ncols;
}

/* The finer kind of an F_INVALID failure just recorded: how (accepted
 * or rejected by ivm) and SQLite's message up to its first ':' (the name
 * after it may change), so that shrinking keeps SQLite's complaint. */
static void invalid_sig(runner *r, const char *how, const char *lite_msg)
{
    const char *m = lite_msg ? lite_msg : "?";
    snprintf(r->out->sig, sizeof r->out->sig, "%s %.*s", how, (int)strcspn(m, ":"), m);
}

static const char *rc_name(ivm_rc rc)
{
    static const char *const names[] = {
        "IVM_OK", "IVM_NOMEM", "IVM_INVALID", "IVM_SYNTAX", "IVM_SCHEMA", "IVM_UNSUPPORTED",
        "IVM_CONSTRAINT", "IVM_IO", "IVM_CORRUPT", "IVM_BUSY", "IVM_INTERNAL", "IVM_PENDING",
    };
    return (unsigned)rc < sizeof names / sizeof names[0] ? names[rc] : "IVM_?";
}

/* The maintained view against its SELECT run ad hoc, when SQLite has no
 * answer.  A read that fails (as SQLite's did) is not compared. */
static void check_without_oracle(runner *r, const rview *rv, int stmt)
{
    char q[64];
    snprintf(q, sizeof q, "SELECT * FROM %s", rv->name);
    for (int k = 0; k < r->o->nworkers && r->out->kind == F_NONE; k++) {
        rowset kept, adhoc;
        rs_init(&kept);
        rs_init(&adhoc);
        ivm_err e1, e2;
        ivm_rc rc1 = ivm_exec(r->db[k], q, strlen(q), 1, ivm_collect, &kept, &e1);
        ivm_rc rc2 = ivm_exec(r->db[k], rv->select, strlen(rv->select), 1, ivm_collect, &adhoc,
                              &e2);
        ptext why = {0};
        if (rc1 == IVM_OK && rc2 == IVM_OK) {
            r->st->checks++;
            if (!rs_equal(&kept, "ivm", &adhoc, "ivm ad hoc", &why)) {
                failf(r, F_VIEW_DIFF, stmt,
                      "view %s (ivm, %u workers) differs from its SELECT run ad hoc (SQLite "
                      "cannot compute it)\n%s",
                      rv->name, r->o->workers[k], why.p ? why.p : "");
                snprintf(r->out->sig, sizeof r->out->sig, "no-oracle");
                fail_where(r, k, rv->name, rv->stmt, kept.ncols);
            }
        }
        pt_text_free(&why);
        rs_free(&kept);
        rs_free(&adhoc);
    }
}

/* Every table's rows against SQLite's: a statement changed exactly what
 * it changes in SQLite (and a failed one nothing), even where no view
 * looks. */
static void check_tables(runner *r, int stmt)
{
    char q[64], err[512];
    for (int t = 0; t < r->ntables && r->out->kind == F_NONE; t++) {
        snprintf(q, sizeof q, "SELECT * FROM %s", r->tables[t]);
        rowset lite;
        rs_init(&lite);
        if (sqlite_collect(r->lite, q, &lite, err, sizeof err) != SQLITE_OK) {
            rs_free(&lite);
            continue;
        }
        for (int k = 0; k < r->o->nworkers && r->out->kind == F_NONE; k++) {
            rowset mine;
            rs_init(&mine);
            ivm_err e;
            ivm_rc rc = ivm_exec(r->db[k], q, strlen(q), 1, ivm_collect, &mine, &e);
            r->st->table_checks++;
            ptext why = {0};
            if (rc != IVM_OK) {
                failf(r, F_READ, stmt, "reading table %s fails in ivm (%u workers): %s: %s",
                      r->tables[t], r->o->workers[k], rc_name(rc), e.msg);
                snprintf(r->out->sig, sizeof r->out->sig, "table-%s", rc_name(rc));
            } else if (!rs_equal(&mine, "ivm", &lite, "sqlite", &why)) {
                failf(r, F_TABLE_DIFF, stmt, "table %s (ivm, %u workers) differs from SQLite\n%s",
                      r->tables[t], r->o->workers[k], why.p ? why.p : "");
            }
            if (r->out->kind != F_NONE)
                fail_where(r, k, r->tables[t], -1, lite.ncols);
            pt_text_free(&why);
            rs_free(&mine);
        }
        rs_free(&lite);
    }
}

/* True if ivm's ad hoc rows of view rv's SELECT equal SQLite's ad hoc rows
 * of it.  They may differ from the view's rows in SQLite too: a compound
 * read as a view converts by its columns' affinity, a SELECT alone not. */
static bool adhoc_as_sqlite(runner *r, const rview *rv, const rowset *adhoc)
{
    char err[512];
    rowset lite;
    rs_init(&lite);
    ptext why = {0};
    bool same = sqlite_collect(r->lite, rv->select, &lite, err, sizeof err) == SQLITE_OK &&
                rs_equal(adhoc, "ivm ad hoc", &lite, "sqlite ad hoc", &why);
    pt_text_free(&why);
    rs_free(&lite);
    return same;
}

/* A view too large to compare row by row (MAX_COMPARE_ROWS): its row
 * count in every ivm instance against SQLite's. */
static void check_count(runner *r, const rview *rv, int stmt)
{
    char q[64], err[512];
    snprintf(q, sizeof q, "SELECT count(*) FROM %s", rv->name);
    rowset lite;
    rs_init(&lite);
    r->st->count_checks++;
    if (sqlite_collect(r->lite, q, &lite, err, sizeof err) != SQLITE_OK || lite.nrows != 1) {
        rs_free(&lite);
        return;
    }
    for (int k = 0; k < r->o->nworkers && r->out->kind == F_NONE; k++) {
        rowset kept;
        rs_init(&kept);
        ivm_err e;
        ivm_rc rc = ivm_exec(r->db[k], q, strlen(q), 1, ivm_collect, &kept, &e);
        ptext why = {0};
        if (rc != IVM_OK) {
            failf(r, F_READ, stmt, "counting view %s fails in ivm (%u workers): %s: %s",
                  rv->name, r->o->workers[k], rc_name(rc), e.msg);
            snprintf(r->out->sig, sizeof r->out->sig, "count-%s", rc_name(rc));
        } else if (!rs_equal(&kept, "ivm", &lite, "sqlite", &why)) {
            failf(r, F_VIEW_DIFF, stmt,
                  "view %s (ivm, %u workers) has another row count than SQLite's (more than "
                  "%d rows: compared by count)\n%s",
                  rv->name, r->o->workers[k], MAX_COMPARE_ROWS, why.p ? why.p : "");
            snprintf(r->out->sig, sizeof r->out->sig, "count");
        }
        if (r->out->kind != F_NONE)
            fail_where(r, k, rv->name, rv->stmt, 1);
        pt_text_free(&why);
        rs_free(&kept);
    }
    rs_free(&lite);
}

static void check_views(runner *r, int stmt)
{
    char q[64], err[512];
    for (int v = 0; v < r->nviews && r->out->kind == F_NONE; v++) {
        const rview *rv = &r->views[v];
        snprintf(q, sizeof q, "SELECT * FROM %s", rv->name);
        rowset lite;
        rs_init(&lite);
        int lrc = sqlite_collect_capped(r->lite, q, &lite, err, sizeof err, MAX_COMPARE_ROWS);
        if (lrc == SQLITE_TOOBIG) {
            rs_free(&lite);
            check_count(r, rv, stmt);
            continue;
        }
        if (lrc != SQLITE_OK && lite_over) {
            rs_free(&lite);
            return;
        }
        if (lrc != SQLITE_OK) {
            /* SQLite could not compute the view (an integer overflow in
             * SUM, say): if ivm could, its two answers must still agree. */
            r->st->oracle_errors++;
            rs_free(&lite);
            check_without_oracle(r, rv, stmt);
            continue;
        }
        for (int k = 0; k < r->o->nworkers && r->out->kind == F_NONE; k++) {
            rowset kept, adhoc;
            rs_init(&kept);
            rs_init(&adhoc);
            ivm_err e1, e2;
            ivm_rc rc1 = ivm_exec(r->db[k], q, strlen(q), 1, ivm_collect, &kept, &e1);
            ivm_rc rc2 = ivm_exec(r->db[k], rv->select, strlen(rv->select), 1, ivm_collect,
                                  &adhoc, &e2);
            r->st->checks++;
            r->st->rows_compared += lite.nrows;
            ptext why = {0};
            bool ok1 = rc1 == IVM_OK && rs_equal(&kept, "ivm", &lite, "sqlite", &why);
            ptext why2 = {0};
            bool ok2 = rc2 == IVM_OK && rs_equal(&adhoc, "ivm ad hoc", &lite, "sqlite", &why2);
            const char *sig = "";
            if (rc1 != IVM_OK) {
                failf(r, F_READ, stmt, "reading view %s fails in ivm (%u workers): %s: %s",
                      rv->name, r->o->workers[k], rc_name(rc1), e1.msg);
                sig = rc_name(rc1);
            } else if (!ok1) {
                sig = rc2 != IVM_OK ? "adhoc-fails" : ok2 ? "maintained" : "both";
                failf(r, F_VIEW_DIFF, stmt,
                      "view %s (ivm, %u workers) differs from SQLite; ivm's ad hoc SELECT %s\n%s",
                      rv->name, r->o->workers[k],
                      rc2 != IVM_OK ? "fails" : ok2 ? "agrees with SQLite"
                                                    : "differs from SQLite too",
                      why.p ? why.p : "");
            } else if (rc2 != IVM_OK) {
                failf(r, F_READ, stmt,
                      "ivm (%u workers) cannot run the SELECT of view %s ad hoc: %s: %s",
                      r->o->workers[k], rv->name, rc_name(rc2), e2.msg);
                sig = "adhoc";
            } else if (!ok2 && !adhoc_as_sqlite(r, rv, &adhoc)) {
                sig = "adhoc";
                failf(r, F_VIEW_DIFF, stmt,
                      "view %s (ivm, %u workers) agrees with SQLite but its SELECT run ad hoc "
                      "does not\n%s",
                      rv->name, r->o->workers[k], why2.p ? why2.p : "");
            }
            if (r->out->kind != F_NONE) {
                snprintf(r->out->sig, sizeof r->out->sig, "%s", sig);
                fail_where(r, k, rv->name, rv->stmt, lite.ncols);
            }
            pt_text_free(&why);
            pt_text_free(&why2);
            rs_free(&kept);
            rs_free(&adhoc);
        }
        rs_free(&lite);
    }
}

/* CREATE VIEW in SQLite, which checks some things only when the view is
 * read (a GROUP BY term out of range): preparing a read checks them too. */
static int sqlite_create_view(sqlite3 *db, const char *sql, const char *name, char **msg)
{
    int rc = lite_exec(db, sql, msg);
    if (rc != SQLITE_OK)
        return rc;
    ptext q = {0};
    pt_printf(&q, "SELECT * FROM %s", name);
    sqlite3_stmt *st = NULL;
    rc = lite_prepare(db, q.p, &st);
    if (rc != SQLITE_OK) {
        *msg = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        q.n = 0;
        pt_printf(&q, "DROP VIEW %s", name);
        sqlite3_exec(db, q.p, NULL, NULL, NULL);
    }
    sqlite3_finalize(st);
    pt_text_free(&q);
    return rc;
}

static void run_view(runner *r, int i, const char *name, const char *select)
{
    const pstmt *s = &r->sc->s[i];
    ivm_err e[PT_MAX_WORKERS];
    ivm_rc rc[PT_MAX_WORKERS] = {IVM_OK};
    r->st->views++;
    for (int k = 0; k < r->o->nworkers; k++)
        rc[k] = ivm_exec(r->db[k], s->sql, strlen(s->sql), 1, NULL, NULL, &e[k]);
    for (int k = 1; k < r->o->nworkers; k++) {
        if (rc[k] != rc[0]) {
            failf(r, F_WORKERS, i, "CREATE VIEW %s: %s with %u workers, %s with %u", name,
                  rc_name(rc[0]), r->o->workers[0], rc_name(rc[k]), r->o->workers[k]);
            return;
        }
    }
    char *msg = NULL;
    if (rc[0] == IVM_OK) {
        for (int c = 0; c < PC_COUNT; c++)
            if ((s->cons >> c) & 1u)
                r->st->cons_seen[c]++;
        if (sqlite_create_view(r->lite, s->sql, name, &msg) != SQLITE_OK) {
            failf(r, F_INVALID, i, "SQLite rejects view %s, which ivm accepts: %s", name,
                  msg ? msg : "?");
            invalid_sig(r, "accepted", msg);
            sqlite3_free(msg);
            return;
        }
        if (r->nviews < 64) {
            rview *rv = &r->views[r->nviews++];
            snprintf(rv->name, sizeof rv->name, "%s", name);
            rv->select = select;
            rv->stmt = i;
        }
        return;
    }
    /* Refused or rejected by ivm: does SQLite take it?  A view over a view
     * ivm refused does not exist in SQLite either. */
    bool depends = false;
    for (int j = 0; j < r->nrefused; j++)
        depends = depends || mentions(select, r->refused[j]);
    int src = sqlite_create_view(r->lite, s->sql, name, &msg);
    if (src == SQLITE_OK) {
        ptext drop = {0};
        pt_printf(&drop, "DROP VIEW %s", name);
        sqlite3_exec(r->lite, drop.p, NULL, NULL, NULL);
        pt_text_free(&drop);
    }
    if (rc[0] == IVM_UNSUPPORTED) {
        r->st->refused++;
        for (int c = 0; c < PC_COUNT; c++) {
            if ((s->cons >> c) & 1u) {
                r->st->cons_seen[c]++;
                r->st->cons_refused[c]++;
            }
        }
        add_reason(r->st, e[0].msg);
        if (r->nrefused < 64)
            snprintf(r->refused[r->nrefused++], 32, "%s", name);
        if (src != SQLITE_OK && !depends) {
            failf(r, F_INVALID, i, "SQLite rejects view %s: %s", name, msg ? msg : "?");
            invalid_sig(r, "refused", msg);
        }
    } else if (src != SQLITE_OK && depends) {
        r->st->skipped++;
        if (r->nrefused < 64)
            snprintf(r->refused[r->nrefused++], 32, "%s", name);
    } else if (src != SQLITE_OK) {
        failf(r, F_INVALID, i, "both reject view %s: ivm %s: %s; SQLite: %s", name,
              rc_name(rc[0]), e[0].msg, msg ? msg : "?");
        invalid_sig(r, "both", msg);
    } else {
        failf(r, F_VIEW_REJECTED, i,
              "ivm rejects view %s with %s (not as unsupported), SQLite accepts it: %s", name,
              rc_name(rc[0]), e[0].msg);
        snprintf(r->out->sig, sizeof r->out->sig, "%s", rc_name(rc[0]));
    }
    sqlite3_free(msg);
}

/* The table an INSERT or UPDATE writes (INSERT [OR x] INTO t, REPLACE INTO
 * t, UPDATE [OR x] t) into name (at most 31 bytes); false for anything
 * else. */
static bool write_target(const char *sql, char *name)
{
    const char *p = skip_space(sql), *q;
    if ((q = word(p, "INSERT")) != NULL || (q = word(p, "REPLACE")) != NULL) {
        const char *o = word(q, "OR");
        if (o != NULL)
            q = skip_space(o + strcspn(o, " \t\n"));
        if ((q = word(q, "INTO")) == NULL)
            return false;
    } else if ((q = word(p, "UPDATE")) != NULL) {
        const char *o = word(q, "OR");
        if (o != NULL)
            q = skip_space(o + strcspn(o, " \t\n"));
    } else {
        return false;
    }
    size_t n = strcspn(q, " \t\n(");
    if (n == 0 || n > 31)
        return false;
    memcpy(name, q, n);
    name[n] = '\0';
    return true;
}

/* True if table name holds, in SQLite, a value of another class in a typed
 * column: REAL or TEXT in a column of INTEGER affinity (its type names INT),
 * TEXT in one declared REAL, FLOAT or DOUBLE.  ivm's columns hold their class
 * only and every table is compared after every statement, so such a value
 * comes from the statement just run. */
static bool lite_untyped(sqlite3 *db, const char *table)
{
    char *sql = sqlite3_mprintf("SELECT name, upper(type) FROM pragma_table_info(%Q)", table);
    sqlite3_stmt *st = NULL;
    ptext cond = {0};
    if (sql != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(st, 0);
            const char *type = (const char *)sqlite3_column_text(st, 1);
            const char *want = NULL;
            if (col == NULL || type == NULL)
                continue;
            if (strstr(type, "INT") != NULL)
                want = "integer";
            else if (strstr(type, "REAL") || strstr(type, "FLOA") || strstr(type, "DOUB"))
                want = "real";
            if (want == NULL)
                continue;
            char *one = sqlite3_mprintf("%s typeof(\"%w\") NOT IN ('%s', 'null')",
                                        cond.n ? " OR" : "", col, want);
            if (one == NULL)
                pt_oom();
            pt_puts(&cond, one);
            sqlite3_free(one);
        }
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    bool found = false;
    if (cond.n > 0) {
        sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\" WHERE %s", table, cond.p);
        st = NULL;
        if (sql != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            found = sqlite3_column_int64(st, 0) > 0;
        sqlite3_finalize(st);
        sqlite3_free(sql);
    }
    pt_text_free(&cond);
    return found;
}

static void run_stmt(runner *r, int i, int kind, const char *name)
{
    const pstmt *s = &r->sc->s[i];
    ivm_err e[PT_MAX_WORKERS];
    ivm_rc rc[PT_MAX_WORKERS] = {IVM_OK};
    for (int k = 0; k < r->o->nworkers; k++)
        rc[k] = ivm_exec(r->db[k], s->sql, strlen(s->sql), 1, NULL, NULL, &e[k]);
    char *msg = NULL;
    int src = SQLITE_OK;
    /* ivm's columns are typed (sql/README.md): where SQLite stores a value
     * as it is (a REAL in an INTEGER column, such as 2^53 * 2^53 that
     * overflowed), ivm refuses the statement.  That known difference is
     * no failure: when ivm refuses a write for it and SQLite's statement
     * did store such a value, SQLite's statement is undone (to a savepoint
     * taken before it) and the run goes on with both alike. */
    char target[32];
    bool typed = kind == K_OTHER && rc[0] == IVM_INVALID &&
                 strncmp(e[0].msg, "cannot store a ", 15) == 0 && write_target(s->sql, target) &&
                 sqlite3_exec(r->lite, "SAVEPOINT prop_typed", NULL, NULL, NULL) == SQLITE_OK;
    bool known = false;
    if (r->o->fault_step < 0 || s->step != r->o->fault_step)
        src = lite_exec(r->lite, s->sql, &msg);
    if (typed) {
        known = src == SQLITE_OK && lite_untyped(r->lite, target);
        if (known)
            sqlite3_exec(r->lite, "ROLLBACK TO prop_typed", NULL, NULL, NULL);
        sqlite3_exec(r->lite, "RELEASE prop_typed", NULL, NULL, NULL);
    }
    r->st->statements++;
    for (int k = 1; k < r->o->nworkers; k++) {
        if ((rc[k] == IVM_OK) != (rc[0] == IVM_OK)) {
            failf(r, F_WORKERS, i, "statement %s with %u workers, %s with %u: %s",
                  rc_name(rc[0]), r->o->workers[0], rc_name(rc[k]), r->o->workers[k],
                  rc[0] != IVM_OK ? e[0].msg : e[k].msg);
            r->out->workers = r->o->workers[k];
            sqlite3_free(msg);
            return;
        }
    }
    if (known && rc[0] != IVM_OK) {
        r->st->known_diffs++;
    } else if ((rc[0] == IVM_OK) != (src == SQLITE_OK)) {
        if (rc[0] != IVM_OK)
            failf(r, F_STMT, i, "ivm fails (%s: %s), SQLite succeeds", rc_name(rc[0]),
                  e[0].msg);
        else
            failf(r, F_STMT, i, "ivm succeeds, SQLite fails: %s", msg ? msg : "?");
        snprintf(r->out->sig, sizeof r->out->sig, "%s", rc_name(rc[0]));
        r->out->workers = r->o->workers[0];
    } else if (rc[0] != IVM_OK && kind == K_TABLE) {
        failf(r, F_INVALID, i, "both reject a CREATE TABLE: ivm %s: %s; SQLite: %s",
              rc_name(rc[0]), e[0].msg, msg ? msg : "?");
        invalid_sig(r, "table", msg);
    } else if (rc[0] != IVM_OK) {
        r->st->stmt_failed++;
    } else if (kind == K_TABLE) {
        if (r->ntables < 16)
            snprintf(r->tables[r->ntables++], 32, "%s", name);
    } else if (kind == K_COMMIT) {
        r->st->commits++;
    } else if (kind == K_ROLLBACK) {
        r->st->rollbacks++;
    }
    sqlite3_free(msg);
}

static void run_inproc(const pscript *sc, const prun_opts *o, poutcome *out, pstats *st,
                       volatile int *progress)
{
    runner r;
    memset(&r, 0, sizeof r);
    unflattened = 0;
    r.sc = sc;
    r.o = o;
    r.out = out;
    r.st = st;
    memset(out, 0, sizeof *out);
    out->view_stmt = -1;
    out->stmt = -1;
    st->cases++;
    for (int k = 0; k < o->nworkers; k++) {
        ivm_options io = {.workers = o->workers[k]};
        ivm_err e;
        if (ivm_open(&io, &r.db[k], &e) != IVM_OK) {
            failf(&r, F_CRASH, 0, "ivm_open with %u workers fails: %s", o->workers[k], e.msg);
            goto done;
        }
    }
    lite_over = false;
    if (sqlite3_open(":memory:", &r.lite) == SQLITE_OK)
        sqlite3_progress_handler(r.lite, 1000, lite_progress, NULL);
    else {
        failf(&r, F_CRASH, 0, "cannot open SQLite");
        goto done;
    }
    for (int i = 0; i < sc->n && out->kind == F_NONE; i++) {
        if (o->stop_after >= 0 && i > o->stop_after)
            break;
        if (progress)
            *progress = i;
        char name[32] = "";
        const char *select = NULL;
        int kind = classify(sc->s[i].sql, name, &select);
        if (kind == K_SELECT)
            continue;
        if (kind == K_VIEW)
            run_view(&r, i, name, select);
        else
            run_stmt(&r, i, kind, name);
        if (out->kind == F_NONE && !lite_over && kind != K_BEGIN && !o->no_table_check)
            check_tables(&r, i);
        if (out->kind == F_NONE && !lite_over && kind != K_BEGIN)
            check_views(&r, i);
        if (lite_over) {
            /* Whatever this statement recorded may come from the stop. */
            memset(out, 0, sizeof *out);
            out->view_stmt = -1;
            out->stmt = -1;
            st->given_up++;
            break;
        }
    }
done:
    st->unflattened += unflattened;
    unflattened = 0;
    for (int k = 0; k < o->nworkers; k++)
        ivm_close(r.db[k]);
    if (r.lite)
        sqlite3_close(r.lite);
}

/* ---- Isolation ------------------------------------------------------------------------ */

typedef struct shared {
    poutcome out;
    pstats st;
    volatile int progress;
} shared;

void pt_run(const pscript *sc, const prun_opts *o, poutcome *out, pstats *stats)
{
    if (!o->fork) {
        pstats st;
        memset(&st, 0, sizeof st);
        run_inproc(sc, o, out, &st, NULL);
        pt_stats_add(stats, &st);
        return;
    }
    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                      0);
    if (sh == MAP_FAILED)
        pt_oom();
    memset(sh, 0, sizeof *sh);
    sh->progress = -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("prop_views: fork");
        exit(2);
    }
    if (pid == 0) {
        if (o->quiet) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) {
                dup2(fd, 2);
                close(fd);
            }
        }
        if (o->timeout > 0)
            alarm((unsigned)o->timeout);
        run_inproc(sc, o, &sh->out, &sh->st, &sh->progress);
        /* exit, not _exit: under the sanitizers a race or a leak found in
         * the child then makes its status non-zero, a reported crash.
         * Standard output was flushed before the fork: nothing prints twice. */
        exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    *out = sh->out;
    pt_stats_add(stats, &sh->st);
    bool died = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    if (died) {
        memset(out, 0, sizeof *out);
        out->view_stmt = -1;
        out->stmt = sh->progress;
        out->progress = sh->progress;
        out->workers = o->workers[o->nworkers - 1];
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
            out->kind = F_TIMEOUT;
            snprintf(out->msg, sizeof out->msg,
                     "the run took more than %d s (a hang?) during statement %d", o->timeout,
                     sh->progress + 1);
        } else {
            out->kind = F_CRASH;
            snprintf(out->sig, sizeof out->sig, "%d",
                     WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status));
            if (WIFSIGNALED(status))
                snprintf(out->msg, sizeof out->msg, "killed by signal %d (%s) during statement %d",
                         WTERMSIG(status), strsignal(WTERMSIG(status)), sh->progress + 1);
            else
                snprintf(out->msg, sizeof out->msg, "exited with status %d during statement %d",
                         WEXITSTATUS(status), sh->progress + 1);
        }
    }
    munmap(sh, sizeof *sh);
}

/* ---- Reproduction scripts ---------------------------------------------------------------- */

void pt_print_repro(FILE *f, const pscript *sc, const poutcome *o, const char *header)
{
    if (header != NULL)
        fputs(header, f);
    int last = o->stmt >= 0 && o->stmt < sc->n ? o->stmt : sc->n - 1;
    for (int i = 0; i <= last; i++)
        fprintf(f, "%s;\n", sc->s[i].sql);
    if (o->kind == F_TABLE_DIFF && o->view[0] != '\0') {
        fprintf(f, "-- the table in both:\nSELECT * FROM %s ORDER BY ", o->view);
        for (int i = 1; i <= (o->view_ncols > 0 ? o->view_ncols : 1); i++)
            fprintf(f, i > 1 ? ", %d" : "%d", i);
        fprintf(f, ";\n");
    }
    if (o->view[0] != '\0' && o->view_stmt >= 0 && o->view_stmt < sc->n) {
        char name[32];
        const char *select = NULL;
        if (classify(sc->s[o->view_stmt].sql, name, &select) == K_VIEW) {
            /* Same order in both engines: every column, ascending. */
            int ncols = o->view_ncols > 0 ? o->view_ncols : 1;
            ptext ord = {0};
            pt_puts(&ord, " ORDER BY ");
            for (int i = 1; i <= ncols; i++)
                pt_printf(&ord, i > 1 ? ", %d" : "%d", i);
            fprintf(f, "-- the view as ivm maintains it (SQLite recomputes it):\n");
            fprintf(f, "SELECT * FROM %s%s;\n", name, ord.p);
            if (strcasestr(select, " LIMIT ") == NULL && strncasecmp(select, "WITH", 4) != 0) {
                /* A view's own ORDER BY (generated ones order by every
                 * column) stands in for ours. */
                bool ordered = strcasestr(select, " ORDER BY ") != NULL;
                fprintf(f, "-- its SELECT run ad hoc:\n");
                fprintf(f, "%s%s;\n", select, ordered ? "" : ord.p);
            }
            pt_text_free(&ord);
        }
    }
}
