/*
 * test_xchg.c: shard_accumulate.  Rows reach the worker that owns their key
 * and nothing else moves or changes (the sum over receivers is the sum over
 * senders); collect waits for every sender's flush marker and its waker
 * fires when the last one arrives; a full queue pushes back on its sender
 * (pending, then woken when the receiver drains) and never holds more than
 * its bound; what a sender sends after its flush belongs to the next step;
 * reset drops what is in flight.  Then the same on worker threads of a
 * scheduler, with small queues and one worker slowed down on purpose, where
 * every step must still come out exact (run under TSan too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <cmocka.h>

#include "exchange.h"
#include "runtime.h"

/* A batch of rows (k, v) for k in ks, v = base + index, weight w. */
static spine_batch *batch_of(const int64_t *ks, size_t n, int64_t base, int64_t w)
{
    spine_builder b;
    spine_builder_init(&b);
    for (size_t i = 0; i < n; i++) {
        ivm_value row[2] = {ivm_value_int(ks[i]), ivm_value_int(base + (int64_t)i)};
        uint8_t buf[32];
        size_t len = spine_row_encode(row, 2, buf);
        size_t klen = spine_row_size(row, 1);
        assert_int_equal(spine_builder_push(&b, buf, klen, buf + klen, len - klen, w), IVM_OK);
    }
    spine_batch *out = NULL;
    assert_int_equal(spine_builder_finish(&b, &out), IVM_OK);
    spine_builder_fini(&b);
    return out;
}

/* Every key of b is owned by worker `to`. */
static void check_owned(const spine_batch *b, uint32_t nworkers, uint32_t to)
{
    assert_int_equal(spine_batch_check(b), IVM_OK);
    for (size_t i = 0; i < b->n; i++) {
        size_t klen;
        const uint8_t *k = spine_batch_key(b, i, &klen);
        assert_int_equal(xchg_owner(nworkers, k, klen), to);
    }
}

static int64_t weight_sum(const spine_batch *b)
{
    int64_t s = 0;
    for (size_t i = 0; i < b->n; i++)
        s += b->w[i];
    return s;
}

/* A key owned by worker `to` among n, searching upward from start. */
static int64_t key_owned_by(uint32_t n, uint32_t to, int64_t start)
{
    for (int64_t k = start;; k++) {
        ivm_value v = ivm_value_int(k);
        uint8_t buf[16];
        size_t len = spine_row_encode(&v, 1, buf);
        if (xchg_owner(n, buf, len) == to)
            return k;
    }
}

/* A waker that counts its calls. */
static void count_wake(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}
static rt_waker counting(atomic_int *n)
{
    return (rt_waker){count_wake, n};
}

static const rt_waker no_waker = {NULL, NULL};

static void test_xchg_partitions_by_owner(void **state)
{
    (void)state;
    enum { N = 3 };
    xchg *x = NULL;
    assert_int_equal(xchg_new(N, 0, &x), IVM_OK);
    assert_int_equal(xchg_workers(x), N);
    int64_t keys[40];
    for (int i = 0; i < 40; i++)
        keys[i] = i % 13;
    /* Each sender sends two batches; every (k, v) pair is distinct. */
    for (uint32_t from = 0; from < N; from++) {
        assert_int_equal(xchg_send_take(x, from, batch_of(keys, 40, 1000 * from, 1), no_waker),
                         IVM_OK);
        assert_int_equal(
            xchg_send_take(x, from, batch_of(keys, 20, 1000 * from + 500, 2), no_waker), IVM_OK);
        assert_int_equal(xchg_flush(x, from, no_waker), IVM_OK);
    }
    size_t entries = 0;
    int64_t weights = 0;
    for (uint32_t to = 0; to < N; to++) {
        spine_batch *got = NULL;
        assert_int_equal(xchg_collect(x, to, no_waker, &got), IVM_OK);
        check_owned(got, N, to);
        entries += got->n;
        weights += weight_sum(got);
        spine_batch_unref(got);
    }
    assert_int_equal(entries, N * 60);
    assert_int_equal(weights, N * (40 + 2 * 20));
    xchg_stats st;
    xchg_stats_get(x, &st);
    assert_int_equal(st.rows, N * 60);
    assert_true(st.max_queued <= st.queue_cap);
    xchg_free(x);
}

/* Equal rows from several senders consolidate at the receiver, and
 * retractions cancel insertions across senders. */
static void test_xchg_consolidates_across_senders(void **state)
{
    (void)state;
    enum { N = 2 };
    xchg *x = NULL;
    assert_int_equal(xchg_new(N, 0, &x), IVM_OK);
    int64_t keys[10];
    for (int i = 0; i < 10; i++)
        keys[i] = i;
    assert_int_equal(xchg_send_take(x, 0, batch_of(keys, 10, 0, 1), no_waker), IVM_OK);
    assert_int_equal(xchg_send_take(x, 1, batch_of(keys, 10, 0, 2), no_waker), IVM_OK);
    assert_int_equal(xchg_send_take(x, 1, batch_of(keys, 5, 0, -3), no_waker), IVM_OK);
    for (uint32_t from = 0; from < N; from++)
        assert_int_equal(xchg_flush(x, from, no_waker), IVM_OK);
    size_t entries = 0;
    int64_t weights = 0;
    for (uint32_t to = 0; to < N; to++) {
        spine_batch *got = NULL;
        assert_int_equal(xchg_collect(x, to, no_waker, &got), IVM_OK);
        check_owned(got, N, to);
        for (size_t i = 0; i < got->n; i++)
            assert_int_equal(got->w[i], 3);
        entries += got->n;
        weights += weight_sum(got);
        spine_batch_unref(got);
    }
    assert_int_equal(entries, 5); /* rows 0..4 cancelled to zero */
    assert_int_equal(weights, 15);
    xchg_free(x);
}

/* Collect is pending until the last marker; the marker's push wakes it. */
static void test_xchg_collect_waits_for_markers(void **state)
{
    (void)state;
    enum { N = 3 };
    xchg *x = NULL;
    assert_int_equal(xchg_new(N, 0, &x), IVM_OK);
    atomic_int woken = 0;
    spine_batch *got = NULL;
    assert_int_equal(xchg_collect(x, 1, counting(&woken), &got), IVM_PENDING);
    assert_int_equal(xchg_flush(x, 0, no_waker), IVM_OK);
    assert_int_equal(atomic_load(&woken), 1);
    assert_int_equal(xchg_collect(x, 1, counting(&woken), &got), IVM_PENDING);
    assert_int_equal(xchg_flush(x, 2, no_waker), IVM_OK);
    assert_int_equal(atomic_load(&woken), 2);
    assert_int_equal(xchg_collect(x, 1, counting(&woken), &got), IVM_PENDING);
    int64_t k = key_owned_by(N, 1, 0);
    assert_int_equal(xchg_send_take(x, 1, batch_of(&k, 1, 7, 1), no_waker), IVM_OK);
    assert_int_equal(atomic_load(&woken), 3);
    assert_int_equal(xchg_flush(x, 1, no_waker), IVM_OK);
    assert_int_equal(xchg_collect(x, 1, counting(&woken), &got), IVM_OK);
    assert_int_equal(got->n, 1);
    spine_batch_unref(got);
    /* A wake is consumed once: nothing more is registered. */
    int before = atomic_load(&woken);
    assert_int_equal(xchg_flush(x, 0, no_waker), IVM_OK);
    assert_int_equal(atomic_load(&woken), before);
    xchg_free(x);
}

/* A full queue makes the sender pending; draining wakes it; the queue never
 * holds more than its capacity. */
static void test_xchg_full_queue_pushes_back(void **state)
{
    (void)state;
    enum { N = 2, CAP = 2 };
    xchg *x = NULL;
    assert_int_equal(xchg_new(N, CAP, &x), IVM_OK);
    int64_t k = key_owned_by(N, 1, 100);
    atomic_int sender_woken = 0, receiver_woken = 0;
    rt_waker sw = counting(&sender_woken);
    assert_int_equal(xchg_send_take(x, 0, batch_of(&k, 1, 0, 1), sw), IVM_OK);
    assert_int_equal(xchg_send_take(x, 0, batch_of(&k, 1, 1, 1), sw), IVM_OK);
    assert_int_equal(xchg_send_take(x, 0, batch_of(&k, 1, 2, 1), sw), IVM_PENDING);
    /* Until the outbox drains, further sends and the flush are refused or
     * pending. */
    assert_int_equal(xchg_send_take(x, 0, batch_of(&k, 1, 3, 1), sw), IVM_BUSY);
    assert_int_equal(xchg_flush(x, 0, sw), IVM_PENDING);
    assert_int_equal(atomic_load(&sender_woken), 0);
    spine_batch *got = NULL;
    assert_int_equal(xchg_collect(x, 1, counting(&receiver_woken), &got), IVM_PENDING);
    assert_true(atomic_load(&sender_woken) >= 1);
    assert_int_equal(xchg_send_poll(x, 0, sw), IVM_OK);
    assert_int_equal(xchg_flush(x, 0, sw), IVM_OK);
    assert_int_equal(xchg_flush(x, 1, no_waker), IVM_OK);
    assert_int_equal(xchg_collect(x, 1, no_waker, &got), IVM_OK);
    assert_int_equal(got->n, 3);
    spine_batch_unref(got);
    assert_int_equal(xchg_collect(x, 0, no_waker, &got), IVM_OK);
    assert_int_equal(got->n, 0);
    spine_batch_unref(got);
    xchg_stats st;
    xchg_stats_get(x, &st);
    assert_true(st.full >= 1);
    assert_true(st.max_queued <= CAP);
    xchg_free(x);
}

/* A sender that has flushed may start its next step before the receiver
 * has collected: what follows the marker waits for the next collect. */
static void test_xchg_marker_separates_steps(void **state)
{
    (void)state;
    enum { N = 2 };
    xchg *x = NULL;
    assert_int_equal(xchg_new(N, 0, &x), IVM_OK);
    int64_t k = key_owned_by(N, 0, 0);
    assert_int_equal(xchg_send_take(x, 1, batch_of(&k, 1, 1, 1), no_waker), IVM_OK);
    assert_int_equal(xchg_flush(x, 1, no_waker), IVM_OK);
    assert_int_equal(xchg_send_take(x, 1, batch_of(&k, 1, 2, 5), no_waker), IVM_OK);
    assert_int_equal(xchg_flush(x, 0, no_waker), IVM_OK);
    spine_batch *got = NULL;
    assert_int_equal(xchg_collect(x, 0, no_waker, &got), IVM_OK);
    assert_int_equal(got->n, 1);
    assert_int_equal(got->w[0], 1);
    spine_batch_unref(got);
    assert_int_equal(xchg_collect(x, 1, no_waker, &got), IVM_OK);
    spine_batch_unref(got);
    /* Step 2. */
    assert_int_equal(xchg_flush(x, 0, no_waker), IVM_OK);
    assert_int_equal(xchg_collect(x, 0, no_waker, &got), IVM_PENDING);
    assert_int_equal(xchg_flush(x, 1, no_waker), IVM_OK);
    assert_int_equal(xchg_collect(x, 0, no_waker, &got), IVM_OK);
    assert_int_equal(got->n, 1);
    assert_int_equal(got->w[0], 5);
    spine_batch_unref(got);
    xchg_free(x);
}

static void test_xchg_reset_drops_in_flight(void **state)
{
    (void)state;
    enum { N = 2 };
    xchg *x = NULL;
    assert_int_equal(xchg_new(N, 2, &x), IVM_OK);
    int64_t keys[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int i = 0; i < 3; i++)
        (void)xchg_send_take(x, 0, batch_of(keys, 8, i * 10, 1), no_waker);
    assert_int_equal(xchg_flush(x, 1, no_waker), IVM_OK);
    spine_batch *got = NULL;
    assert_int_equal(xchg_collect(x, 0, no_waker, &got), IVM_PENDING);
    xchg_reset(x);
    /* A clean step after the reset sees nothing of the dropped one. */
    for (uint32_t from = 0; from < N; from++)
        assert_int_equal(xchg_flush(x, from, no_waker), IVM_OK);
    for (uint32_t to = 0; to < N; to++) {
        assert_int_equal(xchg_collect(x, to, no_waker, &got), IVM_OK);
        assert_int_equal(got->n, 0);
        spine_batch_unref(got);
    }
    xchg_free(x);
}

static void test_xchg_rejects_misuse(void **state)
{
    (void)state;
    xchg *x = NULL;
    assert_int_equal(xchg_new(0, 0, &x), IVM_INVALID);
    assert_int_equal(xchg_new(2, 1, &x), IVM_INVALID);
    assert_int_equal(xchg_new(2, 0, &x), IVM_OK);
    int64_t k = 1;
    assert_int_equal(xchg_send_take(x, 2, batch_of(&k, 1, 0, 1), no_waker), IVM_INVALID);
    assert_int_equal(xchg_send_take(x, 0, NULL, no_waker), IVM_INVALID);
    assert_int_equal(xchg_flush(x, 5, no_waker), IVM_INVALID);
    spine_batch *got = NULL;
    assert_int_equal(xchg_collect(x, 9, no_waker, &got), IVM_INVALID);
    xchg_free(x);
    xchg_free(NULL);
}

/* ---- On worker threads ------------------------------------------------------ */

enum { STEPS = 12, BATCHES = 40, ROWS = 64, KEYS = 97 };

/* Counts the step's jobs that have made their last exchange call.  A
 * worker's call can still wake another worker's task after that task is
 * done (a wake decided just before its owner found room on its own), and
 * joining frees a task, so the joins wait for every job first: the
 * protocol dbsp's circuit follows (D14, exchange/README.md X8). */
typedef struct wdone {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t n;
} wdone;

/* One worker's job in one step: send BATCHES batches, flush, collect.  The
 * poll resumes where it stopped. */
typedef struct wjob {
    xchg *x;
    uint32_t me, n;
    uint32_t step;
    uint32_t sent;
    int phase;                /* 0 send, 1 poll outbox, 2 flush, 3 collect, 4 done */
    bool slow;
    int64_t got_rows, got_weight;
    bool owned_ok;
    wdone *done;
} wjob;

/* Ends a job: counted once its last exchange call has returned. */
static rt_poll job_done(wjob *j)
{
    pthread_mutex_lock(&j->done->mu);
    j->done->n++;
    pthread_cond_signal(&j->done->cv);
    pthread_mutex_unlock(&j->done->mu);
    return RT_DONE;
}

static spine_batch *job_batch(const wjob *j, uint32_t i)
{
    int64_t keys[ROWS];
    uint64_t s = (uint64_t)j->step * 7919 + j->me * 104729 + i * 31 + 1;
    for (int r = 0; r < ROWS; r++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        keys[r] = (int64_t)((s >> 33) % KEYS);
    }
    /* Distinct values per (step, sender, batch, row): nothing consolidates
     * away, so the row count is exact. */
    return batch_of(keys, ROWS, ((int64_t)j->step << 40) | ((int64_t)j->me << 24) | (i << 8), 1);
}

static rt_poll job_poll(void *arg, rt_task *self)
{
    wjob *j = arg;
    rt_waker wk = rt_task_waker(self);
    ivm_rc rc;
    for (;;) {
        switch (j->phase) {
        case 0:
            if (j->sent == BATCHES) {
                j->phase = 2;
                continue;
            }
            if (j->slow) {
                struct timespec ts = {0, 200 * 1000};
                nanosleep(&ts, NULL);
            }
            rc = xchg_send_take(j->x, j->me, job_batch(j, j->sent), wk);
            j->sent++;
            if (rc == IVM_PENDING) {
                j->phase = 1;
                return RT_PENDING;
            }
            if (rc != IVM_OK)
                return job_done(j); /* phase stays: the step fails */
            /* Yield now and then, so that workers interleave. */
            if (j->sent % 8 == 0)
                return RT_PROGRESS;
            continue;
        case 1:
            if (xchg_send_poll(j->x, j->me, wk) == IVM_PENDING)
                return RT_PENDING;
            j->phase = 0;
            continue;
        case 2:
            if (xchg_flush(j->x, j->me, wk) == IVM_PENDING)
                return RT_PENDING;
            j->phase = 3;
            continue;
        case 3: {
            spine_batch *got = NULL;
            rc = xchg_collect(j->x, j->me, wk, &got);
            if (rc == IVM_PENDING)
                return RT_PENDING;
            if (rc == IVM_OK) {
                j->got_rows = (int64_t)got->n;
                j->got_weight = weight_sum(got);
                j->owned_ok = spine_batch_check(got) == IVM_OK;
                for (size_t i = 0; i < got->n && j->owned_ok; i++) {
                    size_t klen;
                    const uint8_t *k = spine_batch_key(got, i, &klen);
                    j->owned_ok = xchg_owner(j->n, k, klen) == j->me;
                }
                spine_batch_unref(got);
            }
            j->phase = 4;
            return job_done(j);
        }
        default:
            return RT_DONE;
        }
    }
}

static void run_threaded(uint32_t n, uint32_t cap, bool slow_one)
{
    rt_sched *s = NULL;
    assert_int_equal(rt_sched_start(n, "xt", &s), IVM_OK);
    xchg *x = NULL;
    assert_int_equal(xchg_new(n, cap, &x), IVM_OK);
    wjob jobs[8];
    rt_task *tasks[8];
    wdone done = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (uint32_t step = 0; step < STEPS; step++) {
        done.n = 0; /* no job runs: ordered before them by the spawns */
        for (uint32_t w = 0; w < n; w++) {
            jobs[w] = (wjob){.x = x, .me = w, .n = n, .step = step,
                             .slow = slow_one && w == n - 1, .done = &done};
            assert_int_equal(rt_task_spawn(s, w, job_poll, &jobs[w], &tasks[w]), IVM_OK);
        }
        pthread_mutex_lock(&done.mu);
        while (done.n < n)
            pthread_cond_wait(&done.cv, &done.mu);
        pthread_mutex_unlock(&done.mu);
        for (uint32_t w = 0; w < n; w++)
            rt_task_join(tasks[w]);
        int64_t rows = 0, weight = 0;
        for (uint32_t w = 0; w < n; w++) {
            assert_int_equal(jobs[w].phase, 4);
            assert_true(jobs[w].owned_ok);
            rows += jobs[w].got_rows;
            weight += jobs[w].got_weight;
        }
        assert_int_equal(rows, (int64_t)n * BATCHES * ROWS);
        assert_int_equal(weight, (int64_t)n * BATCHES * ROWS);
        xchg_disarm_all(x);
    }
    xchg_stats st;
    xchg_stats_get(x, &st);
    assert_true(st.max_queued <= cap);
    assert_int_equal(st.rows, (uint64_t)STEPS * n * BATCHES * ROWS);
    xchg_free(x);
    pthread_cond_destroy(&done.cv);
    pthread_mutex_destroy(&done.mu);
    rt_sched_stop(s);
}

static void test_xchg_threads(void **state)
{
    (void)state;
    static const uint32_t counts[] = {1, 2, 4, 7};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        run_threaded(counts[c], 2, false);
}

static void test_xchg_threads_slow_worker(void **state)
{
    (void)state;
    run_threaded(3, 2, true);
    run_threaded(4, 3, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xchg_partitions_by_owner),
        cmocka_unit_test(test_xchg_consolidates_across_senders),
        cmocka_unit_test(test_xchg_collect_waits_for_markers),
        cmocka_unit_test(test_xchg_full_queue_pushes_back),
        cmocka_unit_test(test_xchg_marker_separates_steps),
        cmocka_unit_test(test_xchg_reset_drops_in_flight),
        cmocka_unit_test(test_xchg_rejects_misuse),
        cmocka_unit_test(test_xchg_threads),
        cmocka_unit_test(test_xchg_threads_slow_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
