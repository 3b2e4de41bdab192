/*
 * sql_lang.c: costs of the SQL language layer, as JSON lines:
 *   - parsing: statements per second over a mix of DDL, DML and queries;
 *   - expression evaluation: ns per call of printf, LIKE and substr;
 *   - maintenance: ns per single-row update of a table whose view groups
 *     it with COUNT(DISTINCT), GROUP_CONCAT and a FILTER, for two group
 *     sizes: the cost follows the touched group's size, not the table's.
 * Prints, never decides pass or fail.  Usage: sql_lang [scale] (default 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsp.h"
#include "ivm.h"
#include "sql.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench_parse(int scale)
{
    static const char *const stmts[] = {
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, v REAL DEFAULT 1.5);",
        "INSERT OR REPLACE INTO t (id, name, v) VALUES (1, 'a', 2.5), (2, 'b', NULL);",
        "SELECT k, count(DISTINCT x) FILTER (WHERE x > 1), group_concat(s, '-') FROM t "
        "WHERE s LIKE 'a%' ESCAPE '!' AND x BETWEEN 1 AND 10 GROUP BY k HAVING sum(x) > 3 "
        "ORDER BY 2 DESC NULLS LAST LIMIT 5;",
        "UPDATE t SET v = CASE WHEN v IS NULL THEN 0 ELSE round(v * 1.1, 2) END WHERE id IN (1, 2, 3);",
        "CREATE VIEW v AS SELECT printf('%5.2f|%s', v, upper(name)) AS line FROM t;",
    };
    size_t n = sizeof stmts / sizeof stmts[0];
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(stmts[i]) + 1;
    /* One script of many statements, parsed by one parser. */
    int rounds = 20000 * scale;
    char *text = malloc(total * (size_t)rounds + 1);
    if (text == NULL)
        return;
    char *p = text;
    for (int r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++)
            p += sprintf(p, "%s\n", stmts[i]);
    size_t parsed = 0;
    double t0 = now_ns();
    sql_parser *ps = NULL;
    if (sql_parser_new(text, (size_t)(p - text), 1, &ps) == IVM_OK) {
        for (;;) {
            plan_stmt *st = NULL;
            ivm_err err;
            ivm_err_clear(&err);
            if (sql_parse_next(ps, &st, &err) != IVM_OK || st == NULL)
                break;
            parsed++;
        }
        sql_parser_free(ps);
    }
    double dt = now_ns() - t0;
    printf("{\"bench\":\"sql_parse\",\"statements\":%zu,\"bytes\":%zu,"
           "\"ns_per_statement\":%.0f,\"mb_per_s\":%.1f}\n",
           parsed, (size_t)(p - text), dt / (double)parsed,
           (double)(p - text) / 1e6 / (dt / 1e9));
    free(text);
}

static void bench_expr(int scale)
{
    ivm_value s = ivm_value_text("hello world, this is a test", 27);
    ivm_value fmt = ivm_value_text("%-10s|%08.3f|%,d", 15);
    ivm_value pat = ivm_value_text("%wor%is%", 9);
    struct {
        const char *name;
        dbsp_expr *e;
    } cases[3];
    dbsp_expr *a[4];
    a[0] = dbsp_expr_const(&fmt);
    a[1] = dbsp_expr_col(0, IVM_TTEXT);
    a[2] = dbsp_expr_col(1, IVM_TREAL);
    a[3] = dbsp_expr_col(2, IVM_TINT);
    cases[0].name = "printf";
    cases[0].e = dbsp_expr_func(DBSP_FN_PRINTF, IVM_TTEXT, 4, a);
    a[0] = dbsp_expr_col(0, IVM_TTEXT);
    a[1] = dbsp_expr_const(&pat);
    cases[1].name = "like";
    cases[1].e = dbsp_expr_func(DBSP_FN_LIKE, IVM_TINT, 2, a);
    ivm_value three = ivm_value_int(3), five = ivm_value_int(5);
    a[0] = dbsp_expr_col(0, IVM_TTEXT);
    a[1] = dbsp_expr_const(&three);
    a[2] = dbsp_expr_const(&five);
    cases[2].name = "substr";
    cases[2].e = dbsp_expr_func(DBSP_FN_SUBSTR, IVM_TTEXT, 3, a);
    ivm_value row[3] = {s, ivm_value_real(3.14159), ivm_value_int(1234567)};
    rt_arena scratch;
    rt_arena_init(&scratch);
    for (int c = 0; c < 3; c++) {
        if (cases[c].e == NULL)
            continue;
        int n = 200000 * scale;
        ivm_err err;
        ivm_value out;
        double t0 = now_ns();
        for (int i = 0; i < n; i++) {
            dbsp_expr_eval(cases[c].e, row, &scratch, &out, &err);
            if ((i & 1023) == 0)
                rt_arena_reset(&scratch);
        }
        double dt = now_ns() - t0;
        printf("{\"bench\":\"expr_eval\",\"function\":\"%s\",\"calls\":%d,\"ns_per_call\":%.1f}\n",
               cases[c].name, n, dt / n);
        dbsp_expr_free(cases[c].e);
    }
    rt_arena_fini(&scratch);
}

static int exec(ivm_db *db, const char *sql)
{
    ivm_err err;
    if (ivm_exec(db, sql, strlen(sql), 1, NULL, NULL, &err) != IVM_OK) {
        fprintf(stderr, "sql_lang: %s: %s\n", sql, err.msg);
        return -1;
    }
    return 0;
}

/* A table of rows in groups of group_size; one view with DISTINCT,
 * GROUP_CONCAT and FILTER aggregates; timed single-row updates. */
static void bench_maintain(int rows, int group_size, int updates)
{
    ivm_options opts = {.workers = 2};
    ivm_db *db = NULL;
    ivm_err err;
    if (ivm_open(&opts, &db, &err) != IVM_OK)
        return;
    char sql[512];
    if (exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER, x INTEGER, s TEXT)") != 0)
        goto done;
    char *buf = malloc((size_t)rows * 48 + 64);
    if (buf == NULL)
        goto done;
    for (int at = 0; at < rows;) {
        char *p = buf + sprintf(buf, "INSERT INTO t VALUES ");
        for (int k = 0; k < 1000 && at < rows; k++, at++)
            p += sprintf(p, "%s(%d, %d, %d, 's%d')", k ? "," : "", at, at / group_size, at % 97,
                         at % 13);
        if (exec(db, buf) != 0) {
            free(buf);
            goto done;
        }
    }
    free(buf);
    if (exec(db, "CREATE VIEW v AS SELECT g, count(DISTINCT x) AS dx, group_concat(s) AS gs, "
                 "sum(x) FILTER (WHERE x % 2 = 0) AS even FROM t GROUP BY g") != 0)
        goto done;
    double t0 = now_ns();
    for (int i = 0; i < updates; i++) {
        snprintf(sql, sizeof sql, "UPDATE t SET x = x + 1 WHERE id = %d", (i * 7919) % rows);
        if (exec(db, sql) != 0)
            goto done;
    }
    double dt = now_ns() - t0;
    printf("{\"bench\":\"maintain_distinct_concat_filter\",\"rows\":%d,\"group_size\":%d,"
           "\"updates\":%d,\"us_per_update\":%.1f}\n",
           rows, group_size, updates, dt / updates / 1e3);
done:
    ivm_close(db);
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1)
        scale = 1;
    bench_parse(scale);
    bench_expr(scale);
    bench_maintain(20000 * scale, 10, 300);
    bench_maintain(20000 * scale, 1000, 300);
    return 0;
}
