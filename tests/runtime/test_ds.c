/*
 * test_ds.c: unit tests of the dataspace (runtime/ds.c): exact and prefix
 * subscriptions see exactly their keys; a late subscriber gets a snapshot in
 * assertion order, then the changes; asserting again is a retract then an
 * assert; errors; rt_ds_get and rt_ds_scan; rt_ds_retract_owner across
 * dataspaces; the waker fires only when a queue goes from empty to
 * non-empty; an event's memory stays valid until the next rt_ds_next (run
 * under AddressSanitizer); subscribers see one order under concurrent
 * asserts from several threads; and a supervised process that fails has its
 * assertions retracted before it is restarted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "runtime.h"

static const rt_waker no_waker = {NULL, NULL};

/* Drains sub into a compact text: "+key=value/owner" or "-key=value/owner",
 * checking that seq strictly increases from *last_seq. */
static void drain(rt_ds_sub *sub, char *out, size_t cap, uint64_t *last_seq)
{
    rt_ds_event ev;
    size_t n = strlen(out);
    while (rt_ds_next(sub, &ev)) {
        assert_true(ev.seq > *last_seq);
        *last_seq = ev.seq;
        n += (size_t)snprintf(out + n, cap - n, "%s%c%s=%.*s/%llu", n ? " " : "",
                              ev.kind == RT_DS_ASSERT ? '+' : '-', ev.key, (int)ev.vlen,
                              (const char *)ev.value, (unsigned long long)ev.owner);
        assert_true(n < cap);
    }
}

static void assert_str(rt_ds *ds, uint64_t owner, const char *key, const char *value)
{
    assert_int_equal(rt_ds_assert(ds, owner, key, value, strlen(value)), IVM_OK);
}

static void expect_events(rt_ds_sub *sub, const char *want)
{
    char got[2048] = "";
    uint64_t last = 0;
    drain(sub, got, sizeof got, &last);
    assert_string_equal(got, want);
}

static void test_ds_exact_and_prefix_subscriptions(void **state)
{
    rt_ds *ds;
    assert_int_equal(rt_ds_new(&ds), IVM_OK);
    rt_ds_sub *exact, *views, *catalog, *all, *dotless;
    assert_int_equal(rt_ds_subscribe(ds, "catalog.view.v1", no_waker, &exact), IVM_OK);
    assert_int_equal(rt_ds_subscribe(ds, "catalog.view.*", no_waker, &views), IVM_OK);
    assert_int_equal(rt_ds_subscribe(ds, "catalog.*", no_waker, &catalog), IVM_OK);
    assert_int_equal(rt_ds_subscribe(ds, "*", no_waker, &all), IVM_OK);
    assert_int_equal(rt_ds_subscribe(ds, "catalog.view*", no_waker, &dotless), IVM_OK);
    rt_ds_sub *bad;
    assert_int_equal(rt_ds_subscribe(ds, "", no_waker, &bad), IVM_INVALID);

    assert_str(ds, 1, "catalog.view.v1", "a");
    assert_str(ds, 1, "catalog.view.v10", "b");
    assert_str(ds, 2, "catalog.table.t", "c");
    assert_str(ds, 2, "catalog.viewer", "d");
    assert_str(ds, 3, "other", "e");
    assert_int_equal(rt_ds_retract(ds, 1, "catalog.view.v1"), IVM_OK);

    expect_events(exact, "+catalog.view.v1=a/1 -catalog.view.v1=a/1");
    expect_events(views, "+catalog.view.v1=a/1 +catalog.view.v10=b/1 -catalog.view.v1=a/1");
    expect_events(catalog, "+catalog.view.v1=a/1 +catalog.view.v10=b/1 +catalog.table.t=c/2 "
                           "+catalog.viewer=d/2 -catalog.view.v1=a/1");
    expect_events(all, "+catalog.view.v1=a/1 +catalog.view.v10=b/1 +catalog.table.t=c/2 "
                       "+catalog.viewer=d/2 +other=e/3 -catalog.view.v1=a/1");
    expect_events(dotless, "+catalog.view.v1=a/1 +catalog.view.v10=b/1 +catalog.viewer=d/2 "
                           "-catalog.view.v1=a/1");
    rt_ds_unsubscribe(exact);
    rt_ds_unsubscribe(views);
    rt_ds_unsubscribe(catalog);
    rt_ds_unsubscribe(all);
    rt_ds_unsubscribe(dotless);
    rt_ds_free(ds);
}

static void test_ds_late_subscriber_gets_snapshot_then_changes(void **state)
{
    rt_ds *ds;
    assert_int_equal(rt_ds_new(&ds), IVM_OK);
    rt_ds_sub *early;
    assert_int_equal(rt_ds_subscribe(ds, "*", no_waker, &early), IVM_OK);
    assert_str(ds, 1, "a", "1");
    assert_str(ds, 2, "b", "2");
    assert_str(ds, 3, "c", "3");
    assert_int_equal(rt_ds_retract(ds, 2, "b"), IVM_OK);
    assert_str(ds, 1, "a", "4"); /* replaced: now the latest assertion */

    rt_ds_sub *late;
    assert_int_equal(rt_ds_subscribe(ds, "*", no_waker, &late), IVM_OK);
    char got[512] = "";
    uint64_t last = 0;
    drain(late, got, sizeof got, &last);
    assert_string_equal(got, "+c=3/3 +a=4/1");
    assert_str(ds, 4, "d", "5");
    drain(late, got, sizeof got, &last);
    assert_string_equal(got, "+c=3/3 +a=4/1 +d=5/4");

    /* The early one saw each change, replace as retract then assert. */
    expect_events(early, "+a=1/1 +b=2/2 +c=3/3 -b=2/2 -a=1/1 +a=4/1 +d=5/4");
    rt_ds_unsubscribe(early);
    rt_ds_unsubscribe(late);
    rt_ds_free(ds);
}

static void test_ds_errors(void **state)
{
    rt_ds *ds;
    assert_int_equal(rt_ds_new(&ds), IVM_OK);
    assert_int_equal(rt_ds_assert(ds, 1, "", "x", 1), IVM_INVALID);
    assert_int_equal(rt_ds_assert(ds, 1, NULL, "x", 1), IVM_INVALID);
    assert_int_equal(rt_ds_assert(ds, 1, "k", NULL, 1), IVM_INVALID);
    assert_int_equal(rt_ds_assert(ds, 1, "k", NULL, 0), IVM_OK);
    assert_int_equal(rt_ds_retract(ds, 2, "k"), IVM_INVALID); /* not 2's */
    assert_int_equal(rt_ds_retract(ds, 1, "nope"), IVM_INVALID);
    assert_int_equal(rt_ds_retract(ds, 1, "k"), IVM_OK);
    assert_int_equal(rt_ds_retract(ds, 1, "k"), IVM_INVALID);
    rt_ds_free(ds);
    rt_ds_free(NULL);
    rt_ds_unsubscribe(NULL);
}

typedef struct scanned {
    char text[512];
    uint64_t last_seq;
} scanned;

static void scan_fn(void *arg, const rt_ds_event *ev)
{
    scanned *s = arg;
    assert_int_equal(ev->kind, RT_DS_ASSERT);
    assert_true(ev->seq > s->last_seq);
    s->last_seq = ev->seq;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s%s=%.*s/%llu", n ? " " : "", ev->key,
             (int)ev->vlen, (const char *)ev->value, (unsigned long long)ev->owner);
}

static void test_ds_get_and_scan(void **state)
{
    rt_ds *ds;
    assert_int_equal(rt_ds_new(&ds), IVM_OK);
    char buf[16];
    assert_int_equal(rt_ds_get(ds, "k", buf, sizeof buf), -1);
    assert_str(ds, 5, "k", "first");
    assert_str(ds, 6, "k", "second");
    assert_str(ds, 6, "k.sub", "x");
    assert_str(ds, 7, "j", "other");
    /* The earliest assertion of the key wins. */
    memset(buf, 0, sizeof buf);
    assert_int_equal(rt_ds_get(ds, "k", buf, sizeof buf), 5);
    assert_string_equal(buf, "first");
    /* Too small: a prefix is copied, the whole length returned. */
    memset(buf, 0, sizeof buf);
    assert_int_equal(rt_ds_get(ds, "k", buf, 3), 5);
    assert_string_equal(buf, "fir");
    assert_int_equal(rt_ds_get(ds, "k", NULL, 0), 5);
    assert_int_equal(rt_ds_retract(ds, 5, "k"), IVM_OK);
    memset(buf, 0, sizeof buf);
    assert_int_equal(rt_ds_get(ds, "k", buf, sizeof buf), 6);
    assert_string_equal(buf, "second");

    scanned s = {"", 0};
    rt_ds_scan(ds, "k*", scan_fn, &s);
    assert_string_equal(s.text, "k=second/6 k.sub=x/6");
    scanned all = {"", 0};
    rt_ds_scan(ds, "*", scan_fn, &all);
    assert_string_equal(all.text, "k=second/6 k.sub=x/6 j=other/7");
    scanned exact = {"", 0};
    rt_ds_scan(ds, "j", scan_fn, &exact);
    assert_string_equal(exact.text, "j=other/7");
    rt_ds_free(ds); /* with assertions still in it */
}

static void test_ds_retract_owner_reaches_every_dataspace(void **state)
{
    rt_ds *a, *b;
    assert_int_equal(rt_ds_new(&a), IVM_OK);
    assert_int_equal(rt_ds_new(&b), IVM_OK);
    rt_ds_sub *sa, *sb;
    assert_str(a, 77, "x", "1");
    assert_int_equal(rt_ds_subscribe(a, "*", no_waker, &sa), IVM_OK);
    assert_int_equal(rt_ds_subscribe(b, "*", no_waker, &sb), IVM_OK);
    assert_str(a, 78, "y", "2");
    assert_str(a, 77, "z", "3");
    assert_str(b, 77, "x", "4");
    assert_str(b, 79, "w", "5");
    rt_ds_retract_owner(77);
    expect_events(sa, "+x=1/77 +y=2/78 +z=3/77 -x=1/77 -z=3/77");
    expect_events(sb, "+x=4/77 +w=5/79 -x=4/77");
    scanned left = {"", 0};
    rt_ds_scan(a, "*", scan_fn, &left);
    assert_string_equal(left.text, "y=2/78");
    rt_ds_retract_owner(12345); /* owns nothing: nothing happens */
    expect_events(sa, "");
    rt_ds_unsubscribe(sa);
    rt_ds_unsubscribe(sb);
    rt_ds_free(a);
    rt_ds_free(b);
}

static void count_wake(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void test_ds_waker_fires_when_queue_becomes_non_empty(void **state)
{
    rt_ds *ds;
    assert_int_equal(rt_ds_new(&ds), IVM_OK);
    atomic_int wakes = 0;
    assert_str(ds, 1, "k.a", "1");
    rt_ds_sub *sub;
    assert_int_equal(rt_ds_subscribe(ds, "k.*", (rt_waker){count_wake, &wakes}, &sub), IVM_OK);
    assert_int_equal(atomic_load(&wakes), 0); /* not for the snapshot */
    assert_str(ds, 1, "k.b", "2");
    assert_int_equal(atomic_load(&wakes), 0); /* the snapshot is still queued */
    expect_events(sub, "+k.a=1/1 +k.b=2/1");
    assert_str(ds, 1, "other", "x"); /* does not match */
    assert_int_equal(atomic_load(&wakes), 0);
    assert_str(ds, 1, "k.c", "3");
    assert_int_equal(atomic_load(&wakes), 1);
    assert_str(ds, 1, "k.d", "4");
    assert_int_equal(atomic_load(&wakes), 1);
    expect_events(sub, "+k.c=3/1 +k.d=4/1");
    assert_str(ds, 1, "k.d", "5"); /* retract + assert: one wake */
    assert_int_equal(atomic_load(&wakes), 2);
    expect_events(sub, "-k.d=4/1 +k.d=5/1");
    rt_ds_retract_owner(1);
    assert_int_equal(atomic_load(&wakes), 3);
    expect_events(sub, "-k.a=1/1 -k.b=2/1 -k.c=3/1 -k.d=5/1");
    rt_ds_unsubscribe(sub);
    rt_ds_free(ds);
}

static void test_ds_event_memory_lives_until_next(void **state)
{
    rt_ds *ds;
    assert_int_equal(rt_ds_new(&ds), IVM_OK);
    rt_ds_sub *sub;
    assert_int_equal(rt_ds_subscribe(ds, "*", no_waker, &sub), IVM_OK);
    assert_str(ds, 1, "key", "value-one");
    rt_ds_event ev;
    assert_true(rt_ds_next(sub, &ev));
    /* The assertion goes away and is replaced; the event still reads. */
    assert_int_equal(rt_ds_retract(ds, 1, "key"), IVM_OK);
    assert_str(ds, 1, "key", "value-two");
    assert_int_equal(rt_ds_retract(ds, 1, "key"), IVM_OK);
    assert_string_equal(ev.key, "key");
    assert_int_equal(ev.vlen, 9);
    assert_memory_equal(ev.value, "value-one", 9);
    assert_true(rt_ds_next(sub, &ev));
    assert_int_equal(ev.kind, RT_DS_RETRACT);
    assert_memory_equal(ev.value, "value-one", 9);
    /* Unsubscribing with events still queued frees them (LeakSanitizer). */
    rt_ds_unsubscribe(sub);
    rt_ds_free(ds);
}

/* ---- One order under concurrency -------------------------------------------------- */

enum { WRITERS = 4, KEYS = 1500, READERS = 3 };

typedef struct rec {
    uint64_t seq;
    uint64_t owner;
    uint32_t key;
    uint8_t kind;
} rec;

static bool rec_equal(const rec *a, const rec *b)
{
    return a->seq == b->seq && a->owner == b->owner && a->key == b->key && a->kind == b->kind;
}

typedef struct reader {
    rt_ds *ds;
    const char *pattern;
    rt_ds_sub *sub;
    sem_t sem;
    atomic_bool writers_done;
    rec *log;
    size_t n, cap;
    bool seq_ok;
} reader;

static void reader_wake(void *arg)
{
    sem_post(&((reader *)arg)->sem);
}

static void reader_drain(reader *r)
{
    rt_ds_event ev;
    while (rt_ds_next(r->sub, &ev)) {
        if (r->n > 0 && ev.seq <= r->log[r->n - 1].seq)
            r->seq_ok = false;
        unsigned w, k;
        if (sscanf(ev.key, "w%u.k%u", &w, &k) != 2)
            r->seq_ok = false;
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 1024;
            r->log = realloc(r->log, r->cap * sizeof *r->log);
        }
        r->log[r->n++] = (rec){ev.seq, ev.owner, w * KEYS + k, (uint8_t)ev.kind};
    }
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    for (;;) {
        /* Read the flag before draining: whatever came before it is
         * drained below, and nothing comes after. */
        bool last = atomic_load(&r->writers_done);
        reader_drain(r);
        if (last)
            return NULL;
        sem_wait(&r->sem);
    }
}

typedef struct writer {
    rt_ds *ds;
    unsigned index;
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    char key[32];
    for (unsigned k = 0; k < KEYS; k++) {
        snprintf(key, sizeof key, "w%u.k%u", w->index, k);
        if (rt_ds_assert(w->ds, 100 + w->index, key, &k, sizeof k) != IVM_OK)
            abort();
        if (k % 3 == 0 && rt_ds_retract(w->ds, 100 + w->index, key) != IVM_OK)
            abort();
    }
    return NULL;
}

static void test_ds_concurrent_asserts_are_seen_in_one_order(void **state)
{
    rt_ds *ds;
    assert_int_equal(rt_ds_new(&ds), IVM_OK);
    static const char *const patterns[READERS] = {"*", "w*", "w1.*"};
    reader r[READERS];
    pthread_t rt[READERS], wt[WRITERS];
    for (int i = 0; i < READERS; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].ds = ds;
        r[i].pattern = patterns[i];
        r[i].seq_ok = true;
        sem_init(&r[i].sem, 0, 0);
        assert_int_equal(rt_ds_subscribe(ds, patterns[i], (rt_waker){reader_wake, &r[i]},
                                         &r[i].sub),
                         IVM_OK);
        assert_int_equal(pthread_create(&rt[i], NULL, reader_main, &r[i]), 0);
    }
    writer w[WRITERS];
    for (unsigned i = 0; i < WRITERS; i++) {
        w[i] = (writer){ds, i};
        assert_int_equal(pthread_create(&wt[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(wt[i], NULL);
    for (int i = 0; i < READERS; i++) {
        atomic_store(&r[i].writers_done, true);
        sem_post(&r[i].sem);
        pthread_join(rt[i], NULL);
    }
    size_t per_writer = KEYS + (KEYS + 2) / 3; /* asserts plus retracts */
    assert_int_equal(r[0].n, WRITERS * per_writer);
    assert_int_equal(r[1].n, WRITERS * per_writer);
    assert_int_equal(r[2].n, per_writer);
    for (int i = 0; i < READERS; i++)
        assert_true(r[i].seq_ok);
    /* "*" and "w*" match everything: the same events in the same order. */
    for (size_t i = 0; i < r[0].n; i++)
        assert_true(rec_equal(&r[0].log[i], &r[1].log[i]));
    /* "w1.*" sees exactly writer 1's part of that order. */
    size_t j = 0;
    for (size_t i = 0; i < r[0].n; i++) {
        if (r[0].log[i].owner != 101)
            continue;
        assert_true(j < r[2].n);
        assert_true(rec_equal(&r[0].log[i], &r[2].log[j]));
        j++;
    }
    assert_int_equal(j, r[2].n);
    /* And the dataspace agrees with the writers. */
    char buf[8];
    assert_int_equal(rt_ds_get(ds, "w2.k1", buf, sizeof buf), (ssize_t)sizeof(unsigned));
    assert_int_equal(rt_ds_get(ds, "w2.k3", buf, sizeof buf), -1);
    for (int i = 0; i < READERS; i++) {
        rt_ds_unsubscribe(r[i].sub);
        sem_destroy(&r[i].sem);
        free(r[i].log);
    }
    rt_ds_free(ds);
}

/* ---- A supervised process's assertions ----------------------------------------------- */

static rt_ds *proc_ds;

static ivm_rc asserting_start(rt_proc *p, void *arg)
{
    uint64_t id = rt_proc_id(p);
    return rt_ds_assert(proc_ds, id, "proc.worker", &id, sizeof id);
}

static void asserting_stop(rt_proc *p, void *arg)
{
    rt_proc_exit(p, RT_EXIT_SHUTDOWN, NULL);
}

static void test_ds_dead_process_assertions_are_retracted(void **state)
{
    assert_int_equal(rt_ds_new(&proc_ds), IVM_OK);
    rt_ds_sub *sub;
    assert_int_equal(rt_ds_subscribe(proc_ds, "proc.*", no_waker, &sub), IVM_OK);
    rt_sup *s;
    assert_int_equal(rt_sup_new(NULL, "dsp", RT_ONE_FOR_ONE, 5, 60000, &s), IVM_OK);
    rt_child_spec spec = {"worker", asserting_start, asserting_stop, NULL, RT_PERMANENT};
    rt_proc *p;
    assert_int_equal(rt_sup_add(s, &spec, &p), IVM_OK);
    uint64_t id1 = rt_proc_id(p);
    rt_proc_exit(p, RT_EXIT_FAILED, "boom");
    assert_true(rt_proc_wait_restarts(p, 1, 20000));
    uint64_t id2 = rt_proc_id(p);
    assert_true(id2 != id1);

    rt_ds_event ev;
    uint64_t v;
    assert_true(rt_ds_next(sub, &ev));
    assert_int_equal(ev.kind, RT_DS_ASSERT);
    assert_int_equal(ev.owner, id1);
    /* The dead run's assertion goes before the new run asserts. */
    assert_true(rt_ds_next(sub, &ev));
    assert_int_equal(ev.kind, RT_DS_RETRACT);
    assert_int_equal(ev.owner, id1);
    assert_true(rt_ds_next(sub, &ev));
    assert_int_equal(ev.kind, RT_DS_ASSERT);
    assert_int_equal(ev.owner, id2);
    memcpy(&v, ev.value, sizeof v);
    assert_int_equal(v, id2);
    assert_false(rt_ds_next(sub, &ev));
    assert_int_equal(rt_ds_get(proc_ds, "proc.worker", &v, sizeof v), (ssize_t)sizeof v);
    assert_int_equal(v, id2);

    /* Stopping is an exit too. */
    rt_sup_free(s);
    assert_true(rt_ds_next(sub, &ev));
    assert_int_equal(ev.kind, RT_DS_RETRACT);
    assert_int_equal(ev.owner, id2);
    assert_int_equal(rt_ds_get(proc_ds, "proc.worker", &v, sizeof v), -1);
    rt_ds_unsubscribe(sub);
    rt_ds_free(proc_ds);
}

int main(void)
{
    alarm(120); /* a lost wake-up hangs: the alarm turns that into a failure */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ds_exact_and_prefix_subscriptions),
        cmocka_unit_test(test_ds_late_subscriber_gets_snapshot_then_changes),
        cmocka_unit_test(test_ds_errors),
        cmocka_unit_test(test_ds_get_and_scan),
        cmocka_unit_test(test_ds_retract_owner_reaches_every_dataspace),
        cmocka_unit_test(test_ds_waker_fires_when_queue_becomes_non_empty),
        cmocka_unit_test(test_ds_event_memory_lives_until_next),
        cmocka_unit_test(test_ds_concurrent_asserts_are_seen_in_one_order),
        cmocka_unit_test(test_ds_dead_process_assertions_are_retracted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
