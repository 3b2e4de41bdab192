/*
 * ivm_example.c: a small program using ivm's C API (include/ivm.h).  It
 * creates two tables and a view with SQL, subscribes to the view, pushes
 * rows through input handles (inserts, deletes and an upsert; no SQL text),
 * commits three times and after each commit reads the view through a cursor
 * and prints it.  The lines starting with "  " are what the subscription
 * received: each row the commit added (+1) or removed (-1).
 *
 * tests/examples/run.sh compares the output with examples/ivm_example.out,
 * and the view's contents with what sqlite3 computes from the same changes
 * written as SQL (tests/examples/ivm_example.sql).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivm.h"

static void print_value(const ivm_value *v)
{
    char buf[40];
    switch (v->type) {
    case IVM_TINT:
        printf("%lld", (long long)v->u.i);
        break;
    case IVM_TREAL:
        ivm_format_real(v->u.r, buf, sizeof buf);
        fputs(buf, stdout);
        break;
    case IVM_TTEXT:
        printf("%.*s", (int)v->u.s.n, v->u.s.p);
        break;
    default:
        break; /* NULL prints as nothing, as sqlite3's list mode */
    }
}

static void print_row(const ivm_value *vals, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            putchar('|');
        print_value(&vals[i]);
    }
    putchar('\n');
}

/* The subscription: one call per commit that changed the view. */
static void on_change(void *arg, const ivm_delta *d)
{
    (void)arg;
    for (size_t r = 0; r < d->nrows; r++) {
        printf("  %+lld ", (long long)d->weights[r]);
        print_row(&d->vals[r * d->ncols], d->ncols);
    }
}

static int check(ivm_rc rc, const ivm_err *err, const char *what)
{
    if (rc == IVM_OK)
        return 0;
    fprintf(stderr, "ivm_example: %s: %s\n", what, err->msg[0] ? err->msg : ivm_rc_str(rc));
    exit(1);
}

/* Prints the view's current contents through a cursor. */
static void print_view(ivm_db *db, const char *name, int commit)
{
    ivm_cursor *c = NULL;
    ivm_err err;
    check(ivm_cursor_open(db, name, &c, &err), &err, "ivm_cursor_open");
    printf("%s after commit %d:\n", name, commit);
    while (ivm_cursor_step(c))
        print_row(ivm_cursor_row(c), ivm_cursor_column_count(c));
    ivm_cursor_close(c);
}

#define INT(x) ivm_value_int(x)
#define TEXT(s) ivm_value_text((s), (uint32_t)strlen(s))

int main(void)
{
    ivm_db *db = NULL;
    ivm_err err;
    check(ivm_open(NULL, &db, &err), &err, "ivm_open");

    const char *ddl =
        "CREATE TABLE customers(id INTEGER PRIMARY KEY, region TEXT NOT NULL);"
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER);"
        "CREATE VIEW sales AS SELECT region, COUNT(*) AS n, SUM(amount) AS total"
        "  FROM orders JOIN customers ON orders.customer = customers.id"
        "  GROUP BY region;";
    check(ivm_exec(db, ddl, strlen(ddl), 1, NULL, NULL, &err), &err, "CREATE");

    ivm_subscription *sub = NULL;
    check(ivm_subscribe(db, "sales", on_change, NULL, &sub, &err), &err, "ivm_subscribe");
    ivm_input *cust = NULL, *ord = NULL;
    check(ivm_input_open(db, "customers", &cust, &err), &err, "ivm_input_open");
    check(ivm_input_open(db, "orders", &ord, &err), &err, "ivm_input_open");

    /* Commit 1: two customers and four orders. */
    ivm_value c1[] = {INT(1), TEXT("north")};
    ivm_value c2[] = {INT(2), TEXT("south")};
    check(ivm_input_insert(cust, c1, 2, &err), &err, "insert");
    check(ivm_input_insert(cust, c2, 2, &err), &err, "insert");
    static const int64_t orders[][3] = {{10, 1, 30}, {11, 2, 5}, {12, 1, 12}, {13, 2, 40}};
    for (size_t i = 0; i < 4; i++) {
        ivm_value row[] = {INT(orders[i][0]), INT(orders[i][1]), INT(orders[i][2])};
        check(ivm_input_insert(ord, row, 3, &err), &err, "insert");
    }
    check(ivm_commit(db, &err), &err, "commit");
    print_view(db, "sales", 1);

    /* Commit 2: order 10 is deleted (by key), order 11 changes its amount
     * (upsert), customer 2 moves to the east (a delete and an insert with
     * weights). */
    ivm_value k10[] = {INT(10)};
    check(ivm_input_delete(ord, k10, 1, NULL, &err), &err, "delete");
    ivm_value o11[] = {INT(11), INT(2), INT(7)};
    check(ivm_input_upsert(ord, o11, 3, &err), &err, "upsert");
    check(ivm_input_push(cust, c2, 2, -1, &err), &err, "push");
    ivm_value c2e[] = {INT(2), TEXT("east")};
    check(ivm_input_push(cust, c2e, 2, +1, &err), &err, "push");
    check(ivm_commit(db, &err), &err, "commit");
    print_view(db, "sales", 2);

    /* A push that breaks the PRIMARY KEY fails and changes nothing. */
    ivm_value dup[] = {INT(12), INT(1), INT(1000)};
    ivm_rc rc = ivm_input_insert(ord, dup, 3, &err);
    printf("duplicate order 12: %s: %s\n", ivm_rc_str(rc), err.msg);

    /* Commit 3: one more order; the failed push left no trace. */
    ivm_value o14[] = {INT(14), INT(1), INT(8)};
    check(ivm_input_insert(ord, o14, 3, &err), &err, "insert");
    check(ivm_commit(db, &err), &err, "commit");
    print_view(db, "sales", 3);

    ivm_input_close(ord);
    ivm_input_close(cust);
    ivm_unsubscribe(sub);
    ivm_close(db);
    return 0;
}
