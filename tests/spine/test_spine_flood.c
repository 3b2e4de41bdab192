/*
 * test_spine_flood.c: spines on the process-wide merger thread.
 *
 * Flood: producer threads insert large prebuilt batches much faster than
 * the merger thread can merge them, each into its own spine, asking
 * spine_ready before every insert and sleeping on a condition variable that
 * the waker signals.  The spine's pending count never exceeds the bound the
 * README gives for such a producer (max_pending + 1), the producers did
 * have to wait, and nothing is lost: after spine_wait_idle, and at points
 * along the way while merges run, the contents read through a cursor equal
 * the model.
 *
 * Many spines: threads own several spines each and insert, read through
 * cursors, compact, free and recreate them while the one merger thread
 * merges all of them; every read equals the owner's model.
 *
 * Wakes: bursts of inserts that give the merger thread work; it is
 * signalled at most once per sleep (S20), however many notifies arrive
 * while it is awake, napping or already signalled; idle, it sleeps.
 *
 * Threads other than the main one do not call cmocka: they record the first
 * failure, which the main thread asserts on.  The models are dense weight
 * arrays over a small key domain, so that retractions meet insertions.
 */
#include "spine_testlib.h"

#include <pthread.h>
#include <unistd.h>

/* Keys 0 .. KEYS-1, each with values 0 .. VALS-1: the model is w[k * VALS + v]. */
enum { KEYS = 3000, VALS = 3 };

typedef struct model {
    int64_t w[KEYS * VALS];
} model;

typedef struct trng {
    uint64_t s;
} trng;

static uint64_t trng_next(trng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t trng_below(trng *r, size_t n)
{
    return (size_t)(trng_next(r) % n);
}

/* First failure seen by any thread (the main thread asserts it is NULL). */
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *fail_what;
static int fail_line;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            pthread_mutex_lock(&fail_mu);                                                  \
            if (fail_what == NULL) {                                                       \
                fail_what = #cond;                                                         \
                fail_line = __LINE__;                                                      \
            }                                                                              \
            pthread_mutex_unlock(&fail_mu);                                                \
            return false;                                                                  \
        }                                                                                  \
    } while (0)

static void assert_no_failure(void)
{
    if (fail_what != NULL)
        fprintf(stderr, "thread check failed at line %d: %s\n", fail_line, fail_what);
    assert_null(fail_what);
}

static size_t enc_int(int64_t i, uint8_t *buf)
{
    ivm_value v = ivm_value_int(i);
    return spine_row_encode(&v, 1, buf);
}

/* A random batch of n entries: insertions, and retractions of what the
 * model holds (when it holds something at the chosen place).  The model
 * is updated as the batch is built. */
static spine_batch *gen_batch(trng *r, spine_builder *bld, model *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = trng_below(r, KEYS), v = trng_below(r, VALS);
        int64_t *w = &m->w[k * VALS + v];
        int64_t dw = *w > 0 && trng_below(r, 3) == 0 ? -*w : (int64_t)trng_below(r, 3) + 1;
        uint8_t kb[16], vb[16];
        size_t kl = enc_int((int64_t)k, kb), vl = enc_int((int64_t)v, vb);
        if (spine_builder_push(bld, kb, kl, vb, vl, dw) != IVM_OK)
            return NULL;
        *w += dw;
    }
    spine_batch *b = NULL;
    if (spine_builder_finish(bld, &b) != IVM_OK)
        return NULL;
    return b;
}

/* True if the cursor reads exactly the model (keys and values in order,
 * weights summed, nothing with weight 0). */
static bool cursor_is_model(spine_cursor *c, const model *m)
{
    size_t at = 0; /* next model slot */
    for (spine_cursor_rewind(c); spine_cursor_key_valid(c); spine_cursor_step_key(c)) {
        size_t klen;
        ivm_value kv;
        const uint8_t *k = spine_cursor_key(c, &klen);
        CHECK(spine_row_decode(k, klen, &kv, 1) == 1 && kv.type == IVM_TINT);
        for (; spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
            size_t vlen;
            ivm_value vv;
            const uint8_t *v = spine_cursor_val(c, &vlen);
            CHECK(spine_row_decode(v, vlen, &vv, 1) == 1 && vv.type == IVM_TINT);
            size_t slot = (size_t)kv.u.i * VALS + (size_t)vv.u.i;
            CHECK(slot < KEYS * VALS && slot >= at);
            for (; at < slot; at++)
                CHECK(m->w[at] == 0);
            CHECK(spine_cursor_weight(c) == m->w[slot]);
            at++;
        }
    }
    for (; at < KEYS * VALS; at++)
        CHECK(m->w[at] == 0);
    return true;
}

static bool spine_is_model(const spine *s, const model *m)
{
    spine_cursor *c;
    const spine *const arr[1] = {s};
    CHECK(spine_cursor_new(arr, 1, NULL, 0, &c) == IVM_OK);
    bool ok = cursor_is_model(c, m);
    spine_cursor_free(c);
    CHECK(ok);
    return true;
}

/* ---- Waiting for the waker ------------------------------------------------------------ */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool woken;
} gate;

static void gate_wake(void *arg)
{
    gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->woken = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Returns once spine_ready says yes, sleeping between a no and the wake. */
static void wait_ready(spine *s, gate *g)
{
    rt_waker w = {gate_wake, g};
    for (;;) {
        /* Cleared before asking, so that a wake between the "no" and the
         * sleep below is not lost. */
        pthread_mutex_lock(&g->mu);
        g->woken = false;
        pthread_mutex_unlock(&g->mu);
        if (spine_ready(s, w))
            return;
        pthread_mutex_lock(&g->mu);
        while (!g->woken)
            pthread_cond_wait(&g->cv, &g->mu);
        pthread_mutex_unlock(&g->mu);
    }
}

/* ---- Flood ---------------------------------------------------------------------------------- */

enum { FLOOD_PRODUCERS = 2, FLOOD_INSERTS = 800, FLOOD_DISTINCT = 48, FLOOD_MAX_PENDING = 6 };

typedef struct producer {
    uint64_t seed;
    spine *s;
    model m;
    size_t max_pending_seen;
    spine_stats st;
} producer;

static void *flood_main(void *arg)
{
    producer *p = arg;
    trng r = {p->seed};
    spine_builder bld;
    gate g;
    spine_builder_init(&bld);
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    /* A pool of prebuilt batches, each with the model of what it adds:
     * inserting one costs a reference, while merging it costs its 300
     * entries, so the producer is far faster than the merger. */
    spine_batch *pool[FLOOD_DISTINCT] = {NULL};
    model *delta = calloc(FLOOD_DISTINCT, sizeof *delta);
    model *scratch = calloc(1, sizeof *scratch);
    bool ok = delta != NULL && scratch != NULL;
    for (int i = 0; ok && i < FLOOD_DISTINCT; i++) {
        memset(scratch, 0, sizeof *scratch);
        pool[i] = gen_batch(&r, &bld, scratch, 300);
        ok = pool[i] != NULL;
        memcpy(delta[i].w, scratch->w, sizeof scratch->w);
    }
    for (int i = 0; ok && i < FLOOD_INSERTS; i++) {
        wait_ready(p->s, &g);
        size_t x = trng_below(&r, FLOOD_DISTINCT);
        if (spine_insert_take(p->s, spine_batch_ref(pool[x])) != IVM_OK) {
            ok = false;
            break;
        }
        for (size_t j = 0; j < KEYS * VALS; j++)
            p->m.w[j] += delta[x].w[j];
        spine_stats st;
        spine_stats_get(p->s, &st);
        if (st.pending > p->max_pending_seen)
            p->max_pending_seen = st.pending;
        if (i % 200 == 199 && !spine_is_model(p->s, &p->m))
            ok = false; /* a read while merges run */
        if (i % 7 == 6) {
            /* Every seventh step retracts a random part of the model in a
         * small batch, which cancels entries of the copies above. */
            for (size_t j = 0; j < 40; j++) {
                size_t slot = trng_below(&r, KEYS * VALS);
                if (p->m.w[slot] == 0)
                    continue;
                uint8_t kb[16], vb[16];
                size_t kl = enc_int((int64_t)(slot / VALS), kb);
                size_t vl = enc_int((int64_t)(slot % VALS), vb);
                ok = ok && spine_builder_push(&bld, kb, kl, vb, vl, -p->m.w[slot]) == IVM_OK;
                p->m.w[slot] = 0;
            }
            spine_batch *b = NULL;
            ok = ok && spine_builder_finish(&bld, &b) == IVM_OK;
            wait_ready(p->s, &g);
            ok = ok && spine_insert_take(p->s, b) == IVM_OK;
        }
    }
    spine_wait_idle(p->s);
    if (ok && !spine_is_model(p->s, &p->m))
        ok = false;
    spine_stats_get(p->s, &p->st);
    for (int i = 0; i < FLOOD_DISTINCT; i++)
        spine_batch_unref(pool[i]);
    free(delta);
    free(scratch);
    spine_builder_fini(&bld);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
    if (!ok) {
        pthread_mutex_lock(&fail_mu);
        if (fail_what == NULL) {
            fail_what = "flood producer";
            fail_line = __LINE__;
        }
        pthread_mutex_unlock(&fail_mu);
    }
    return NULL;
}

static void test_spine_flood_backpressure(void **state)
{
    (void)state;
    producer *p = calloc(FLOOD_PRODUCERS, sizeof *p);
    pthread_t th[FLOOD_PRODUCERS];
    assert_non_null(p);
    spine_opts o = {.merger = NULL, .max_pending = FLOOD_MAX_PENDING};
    for (int i = 0; i < FLOOD_PRODUCERS; i++) {
        p[i].seed = 100 + (uint64_t)i;
        p[i].s = spine_new_opts(&o);
        assert_non_null(p[i].s);
        assert_int_equal(pthread_create(&th[i], NULL, flood_main, &p[i]), 0);
    }
    for (int i = 0; i < FLOOD_PRODUCERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_no_failure();
    for (int i = 0; i < FLOOD_PRODUCERS; i++) {
        /* The README's bound for a producer that asks before every insert. */
        assert_true(p[i].max_pending_seen <= FLOOD_MAX_PENDING + 1);
        /* Each merge takes at least FANOUT batches: without waiting, 800
         * inserts of prebuilt batches would have outrun the merger. */
        assert_true(p[i].st.waits > 0);
        assert_int_equal(p[i].st.pending, 0);
        assert_true(p[i].st.merges > 0);
        assert_int_equal(spine_check(p[i].s), IVM_OK);
        print_message("flood %d: max pending %zu, waits %zu, wait %.1f ms, merges %zu\n", i,
                      p[i].max_pending_seen, p[i].st.waits, (double)p[i].st.wait_ns / 1e6,
                      p[i].st.merges);
        spine_free(p[i].s);
    }
    free(p);
}

/* ---- Many spines, one merger thread ------------------------------------------------------ */

enum { OWNERS = 3, PER_OWNER = 5, OWNER_STEPS = 600 };

typedef struct owner {
    uint64_t seed;
    spine *s[PER_OWNER];
    model *m; /* PER_OWNER models */
} owner;

static bool owner_steps(owner *o)
{
    trng r = {o->seed};
    spine_builder bld;
    gate g;
    spine_builder_init(&bld);
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    bool ok = true;
    for (int step = 0; step < OWNER_STEPS && ok; step++) {
        size_t i = trng_below(&r, PER_OWNER);
        size_t what = trng_below(&r, 100);
        if (what < 70) {
            size_t n = trng_below(&r, 8) == 0 ? 1 + trng_below(&r, 1000) : 1 + trng_below(&r, 60);
            spine_batch *b = gen_batch(&r, &bld, &o->m[i], n);
            CHECK(b != NULL);
            wait_ready(o->s[i], &g);
            CHECK(spine_insert_take(o->s[i], b) == IVM_OK);
        } else if (what < 90) {
            ok = spine_is_model(o->s[i], &o->m[i]);
        } else if (what < 93) {
            CHECK(spine_compact(o->s[i]) == IVM_OK);
            ok = spine_is_model(o->s[i], &o->m[i]);
        } else if (what < 95) {
            /* Free while the merger may be working on it, then rebuild
             * from the model. */
            spine_free(o->s[i]);
            o->s[i] = spine_new();
            CHECK(o->s[i] != NULL);
            for (size_t k = 0; k < KEYS; k++)
                for (size_t v = 0; v < VALS; v++) {
                    int64_t w = o->m[i].w[k * VALS + v];
                    uint8_t kb[16], vb[16];
                    size_t kl = enc_int((int64_t)k, kb), vl = enc_int((int64_t)v, vb);
                    if (w != 0)
                        CHECK(spine_builder_push(&bld, kb, kl, vb, vl, w) == IVM_OK);
                }
            spine_batch *b = NULL;
            CHECK(spine_builder_finish(&bld, &b) == IVM_OK);
            CHECK(spine_insert_take(o->s[i], b) == IVM_OK);
        } else {
            CHECK(spine_check(o->s[i]) == IVM_OK);
        }
    }
    spine_builder_fini(&bld);
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
    return ok;
}

static void *owner_main(void *arg)
{
    owner *o = arg;
    if (!owner_steps(o))
        return NULL;
    /* Half the spines are read once idle, the others freed straight away
     * (with merges likely in progress). */
    for (int i = 0; i < PER_OWNER; i++) {
        if (i % 2 == 0) {
            spine_wait_idle(o->s[i]);
            spine_stats st;
            spine_stats_get(o->s[i], &st);
            if (st.pending != 0 || spine_check(o->s[i]) != IVM_OK ||
                !spine_is_model(o->s[i], &o->m[i])) {
                pthread_mutex_lock(&fail_mu);
                if (fail_what == NULL) {
                    fail_what = "idle spine differs from its model";
                    fail_line = __LINE__;
                }
                pthread_mutex_unlock(&fail_mu);
            }
        }
        spine_free(o->s[i]);
        o->s[i] = NULL;
    }
    return NULL;
}

static void test_spine_many_spines_one_thread(void **state)
{
    (void)state;
    owner o[OWNERS];
    pthread_t th[OWNERS];
    for (int t = 0; t < OWNERS; t++) {
        o[t].seed = 200 + (uint64_t)t;
        o[t].m = calloc(PER_OWNER, sizeof *o[t].m);
        assert_non_null(o[t].m);
        for (int i = 0; i < PER_OWNER; i++) {
            o[t].s[i] = spine_new();
            assert_non_null(o[t].s[i]);
        }
    }
    for (int t = 0; t < OWNERS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, owner_main, &o[t]), 0);
    for (int t = 0; t < OWNERS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    assert_no_failure();
    for (int t = 0; t < OWNERS; t++) {
        for (int i = 0; i < PER_OWNER; i++)
            spine_free(o[t].s[i]); /* NULL unless a thread failed early */
        free(o[t].m);
    }
}

/* Bursts of level fills across many spines, each burst followed by a wait
 * for the merger to finish (so that it goes back to sleep in between):
 * every burst notifies many times, mostly while the thread is awake or
 * already signalled, and only a signal to a sleeping, unsignalled thread
 * counts as a wake.  A merger that signalled per notify counts one wake
 * per queued spine, far more than it sleeps.  The bound allows the one
 * sleep that began before the first snapshot. */
enum { WAKE_SPINES = 64, WAKE_ROUNDS = 20 };

static void test_spine_merger_wakes_once_per_sleep(void **state)
{
    (void)state;
    spine *sp[WAKE_SPINES];
    model *m = calloc(1, sizeof *m);
    spine_builder bld;
    trng r = {77};
    assert_non_null(m);
    spine_builder_init(&bld);
    for (int i = 0; i < WAKE_SPINES; i++) {
        sp[i] = spine_new();
        assert_non_null(sp[i]);
    }
    spine_merger *mg = spine_merger_global();
    spine_merger_stats s0, s1;
    spine_merger_stats_get(mg, &s0);
    for (int round = 0; round < WAKE_ROUNDS; round++) {
        /* SPINE_FANOUT = 4 one-entry batches fill level 0 of each spine. */
        for (int b = 0; b < 4; b++)
            for (int i = 0; i < WAKE_SPINES; i++) {
                memset(m, 0, sizeof *m); /* the contents are not what is tested */
                spine_batch *x = gen_batch(&r, &bld, m, 1);
                assert_non_null(x);
                assert_int_equal(spine_insert_take(sp[i], x), IVM_OK);
            }
        for (int i = 0; i < WAKE_SPINES; i++)
            spine_wait_idle(sp[i]);
    }
    spine_merger_stats_get(mg, &s1);
    uint64_t notifies = s1.notifies - s0.notifies, wakes = s1.wakes - s0.wakes;
    uint64_t sleeps = s1.sleeps - s0.sleeps;
    /* Every round fills level 0 of every spine (cancellation aside, a
     * batch of one entry holds one entry). */
    assert_true(notifies >= (uint64_t)WAKE_SPINES * WAKE_ROUNDS / 2);
    if (wakes > sleeps + 1)
        fprintf(stderr, "notifies %llu wakes %llu sleeps %llu\n", (unsigned long long)notifies,
                (unsigned long long)wakes, (unsigned long long)sleeps);
    assert_true(wakes <= sleeps + 1);
    assert_true(s1.wakes <= s1.sleeps);
    /* Idle, the thread naps a bounded number of times, then sleeps until
     * signalled, and then does not wake at all: no naps go by while it
     * sleeps.  (The bound on the wait only keeps a broken merger from
     * hanging the test; it takes a few milliseconds.) */
    spine_merger_stats s2, s3;
    for (int i = 0; i < 20000; i++) {
        spine_merger_stats_get(mg, &s2);
        if (s2.asleep)
            break;
        usleep(1000);
    }
    assert_true(s2.asleep);
    usleep(20000);
    spine_merger_stats_get(mg, &s3);
    assert_true(s3.asleep);
    assert_true(s3.naps == s2.naps);
    assert_true(s3.sleeps == s2.sleeps);
    for (int i = 0; i < WAKE_SPINES; i++) {
        assert_int_equal(spine_check(sp[i]), IVM_OK);
        spine_free(sp[i]);
    }
    spine_builder_fini(&bld);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_flood_backpressure),
        cmocka_unit_test(test_spine_many_spines_one_thread),
        cmocka_unit_test(test_spine_merger_wakes_once_per_sleep),
    };
    return cmocka_run_group_tests_name("spine/flood", tests, NULL, NULL);
}
