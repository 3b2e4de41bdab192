/*
 * spine.c: ingest and lookup cost of a spine on the process-wide merger.
 *
 *   spine [ROWS [BATCH_ROWS]]      (defaults 10000000 and 1000)
 *
 * spine_ingest: ROWS rows (key a random 64-bit INT, value an INT) are built
 * into batches of BATCH_ROWS with a spine_builder and inserted into one
 * spine, the producer honouring spine_ready (sleeping on a condition
 * variable until the waker runs); then spine_wait_idle, and every row is
 * read back through a cursor.  ns_per_row is the wall time of all of that
 * per row.  sort_ns_per_row is the time to push the same rows into one
 * spine_builder and finish it (one sort of the whole array), the yardstick.
 * spine_lookup: random seeks of keys present, through one cursor over the
 * spine at rest; spine_seek_fixed: the same over four batches made
 * directly (seek_fixed); spine_seek_batched: exact seeks over such batches
 * in sorted groups of 10 through a new cursor each, with and without
 * spine_cursor_prefetch_exact first, random keys and dense ones
 * (seek_batched).  The *cpu* fields are process CPU time (all threads) over
 * the same spans.  Prints JSON lines; never decides pass or fail.
 */
#include "spine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CPU time of the whole process (every thread, the merger's included), so
 * that a loaded machine shows up as wall time above CPU time. */
static uint64_t cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng_state = 42;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void die(const char *what)
{
    fprintf(stderr, "bench spine: %s\n", what);
    exit(1);
}

/* Pushes row i (key keys[i], value i) into the builder. */
static void push_row(spine_builder *b, const int64_t *keys, size_t i)
{
    ivm_value k = ivm_value_int(keys[i]), v = ivm_value_int((int64_t)i);
    uint8_t *p = spine_builder_reserve(b, 18);
    if (p == NULL)
        die("out of memory");
    size_t kl = spine_value_encode(&k, p);
    size_t vl = spine_value_encode(&v, p + kl);
    if (spine_builder_commit(b, kl, kl + vl, 1) != IVM_OK)
        die("commit failed");
}

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

static void wait_ready(spine *s, gate *g)
{
    rt_waker w = {gate_wake, g};
    for (;;) {
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

/* Random seeks of keys present, through one cursor over FIXED_BATCHES
 * batches of rows / FIXED_BATCHES keys each, made directly (no merger): a
 * shape that does not depend on the merger's timing, so that runs compare
 * the search itself.  exact: the batches carry key filters and the seeks
 * are exact ones (spine_cursor_seek_exact, as joins and aggregates probe:
 * every filter is asked, one batch searched); otherwise plain seeks
 * (spine_cursor_seek_key) search every batch. */
#define FIXED_BATCHES 4
static void seek_fixed(const int64_t *keys, size_t rows, bool exact)
{
    spine_batch *b[FIXED_BATCHES];
    spine_builder bld;
    spine_builder_init(&bld);
    spine_builder_set_filters(&bld, exact);
    for (size_t j = 0; j < FIXED_BATCHES; j++) {
        for (size_t i = j; i < rows; i += FIXED_BATCHES)
            push_row(&bld, keys, i);
        if (spine_builder_finish(&bld, &b[j]) != IVM_OK)
            die("build failed");
    }
    spine_builder_fini(&bld);
    spine_cursor *c;
    if (spine_cursor_new(NULL, 0, b, FIXED_BATCHES, &c) != IVM_OK)
        die("cursor failed");
    size_t seeks = rows < 1000000 ? rows : 1000000;
    int64_t found = 0;
    uint64_t t0 = rt_now_ns();
    for (size_t q = 0; q < seeks; q++) {
        uint8_t kb[16];
        ivm_value k = ivm_value_int(keys[rnd() % rows]);
        size_t kl = spine_value_encode(&k, kb);
        if (exact)
            found += spine_cursor_seek_exact(c, kb, kl) ? spine_cursor_weight(c) : 0;
        else {
            spine_cursor_seek_key(c, kb, kl);
            found += spine_cursor_key_valid(c) ? spine_cursor_weight(c) : 0;
        }
    }
    uint64_t t1 = rt_now_ns();
    if (found != (int64_t)seeks)
        die("a seek missed a key that is there");
    printf("{\"bench\":\"spine_seek_fixed\",\"rows\":%zu,\"batches\":%d,\"exact\":%s,"
           "\"seeks\":%zu,\"ns_per_seek\":%.1f}\n",
           rows, FIXED_BATCHES, exact ? "true" : "false", seeks, (double)(t1 - t0) / (double)seeks);
    spine_cursor_free(c);
    for (size_t j = 0; j < FIXED_BATCHES; j++)
        spine_batch_unref(b[j]);
}

/* Exact seeks as an operator makes them for a small delta: groups of
 * DELTA_KEYS keys present, drawn at random and sorted, each group through
 * a new cursor over FIXED_BATCHES batches (as an operator's step makes
 * one), in ascending order; prefetch: spine_cursor_prefetch_exact over the
 * group first, so that the seeks' cache misses overlap.  Keys are the
 * random ones, or dense (0 .. rows - 1, as join_agg's S and its groups:
 * interpolation finds them in one round).  ns_per_seek includes the
 * cursor and the prefetch (prefetch_ns_per_seek); the groups' key batches
 * are built before the clock starts, and the two variants take turns
 * group by group, so that both meet the same load from the rest of the
 * machine. */
#define DELTA_KEYS 10
#define DELTA_GROUPS 20000
static void seek_batched(const int64_t *random_keys, size_t rows, bool dense)
{
    int64_t *keys = malloc(rows * sizeof *keys);
    spine_batch **d = malloc(DELTA_GROUPS * sizeof *d);
    if (keys == NULL || d == NULL)
        die("out of memory");
    for (size_t i = 0; i < rows; i++)
        keys[i] = dense ? (int64_t)i : random_keys[i];
    spine_batch *b[FIXED_BATCHES];
    spine_builder bld;
    spine_builder_init(&bld);
    spine_builder_set_filters(&bld, true);
    for (size_t j = 0; j < FIXED_BATCHES; j++) {
        for (size_t i = j; i < rows; i += FIXED_BATCHES)
            push_row(&bld, keys, i);
        if (spine_builder_finish(&bld, &b[j]) != IVM_OK)
            die("build failed");
    }
    spine_builder_set_filters(&bld, false);
    for (size_t g = 0; g < DELTA_GROUPS; g++) {
        for (size_t q = 0; q < DELTA_KEYS; q++)
            push_row(&bld, keys, rnd() % rows);
        if (spine_builder_finish(&bld, &d[g]) != IVM_OK)
            die("build failed");
    }
    spine_builder_fini(&bld);
    uint64_t ns[2] = {0, 0}, pf_ns[2] = {0, 0};
    size_t seeks[2] = {0, 0};
    for (size_t round = 0; round < 4; round++) {
        for (size_t g = 0; g < DELTA_GROUPS; g++) {
            int pf = (int)((g + round) & 1);
            uint64_t t0 = rt_now_ns();
            spine_cursor *c;
            if (spine_cursor_new(NULL, 0, b, FIXED_BATCHES, &c) != IVM_OK)
                die("cursor failed");
            if (pf) {
                uint64_t tp = rt_now_ns();
                spine_cursor_prefetch_exact(c, d[g], 0);
                pf_ns[pf] += rt_now_ns() - tp;
            }
            for (size_t i = 0; i < d[g]->n; i = spine_batch_key_end(d[g], i)) {
                size_t kl;
                const uint8_t *k = spine_batch_key(d[g], i, &kl);
                if (!spine_cursor_seek_exact(c, k, kl))
                    die("a seek missed a key that is there");
                seeks[pf]++;
            }
            spine_cursor_free(c);
            ns[pf] += rt_now_ns() - t0;
        }
    }
    for (int pf = 0; pf < 2; pf++)
        printf("{\"bench\":\"spine_seek_batched\",\"rows\":%zu,\"batches\":%d,\"keys\":\"%s\","
               "\"delta_keys\":%d,\"prefetch\":%s,\"seeks\":%zu,\"ns_per_seek\":%.1f,"
               "\"prefetch_ns_per_seek\":%.1f}\n",
               rows, FIXED_BATCHES, dense ? "dense" : "random", DELTA_KEYS, pf ? "true" : "false",
               seeks[pf], (double)ns[pf] / (double)seeks[pf], (double)pf_ns[pf] / (double)seeks[pf]);
    for (size_t g = 0; g < DELTA_GROUPS; g++)
        spine_batch_unref(d[g]);
    for (size_t j = 0; j < FIXED_BATCHES; j++)
        spine_batch_unref(b[j]);
    free(d);
    free(keys);
}

int main(int argc, char **argv)
{
    size_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    size_t batch_rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
    if (rows == 0 || batch_rows == 0)
        die("usage: spine [ROWS [BATCH_ROWS]]");
    int64_t *keys = malloc(rows * sizeof *keys);
    if (keys == NULL)
        die("out of memory");
    for (size_t i = 0; i < rows; i++)
        keys[i] = (int64_t)rnd();

    /* The yardstick: one builder, one sort of everything. */
    spine_builder bld;
    spine_builder_init(&bld);
    spine_builder_set_filters(&bld, false);
    uint64_t t0 = rt_now_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < rows; i++)
        push_row(&bld, keys, i);
    spine_batch *all;
    if (spine_builder_finish(&bld, &all) != IVM_OK)
        die("sort failed");
    uint64_t sort_ns = rt_now_ns() - t0, sort_cpu = cpu_ns() - c0;
    size_t distinct = all->n;
    spine_batch_unref(all);
    spine_builder_fini(&bld);

    /* Ingest through the spine and its merger, then read everything.  A
     * plain spine, as a table or a view keeps: no exact seeks, so neither
     * its batches nor its merges carry key filters (spine/README.md, S18). */
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    spine_builder_init(&bld);
    spine_builder_set_filters(&bld, false);
    spine *s = spine_new();
    if (s == NULL)
        die("spine_new failed");
    t0 = rt_now_ns();
    c0 = cpu_ns();
    for (size_t i = 0; i < rows;) {
        size_t end = i + batch_rows < rows ? i + batch_rows : rows;
        for (; i < end; i++)
            push_row(&bld, keys, i);
        spine_batch *b;
        if (spine_builder_finish(&bld, &b) != IVM_OK)
            die("build failed");
        wait_ready(s, &g);
        if (spine_insert_take(s, b) != IVM_OK)
            die("insert failed");
    }
    uint64_t t_inserted = rt_now_ns();
    spine_wait_idle(s);
    uint64_t t_idle = rt_now_ns();
    spine_cursor *c;
    const spine *const arr[1] = {s};
    if (spine_cursor_new(arr, 1, NULL, 0, &c) != IVM_OK)
        die("cursor failed");
    size_t seen = 0;
    int64_t wsum = 0;
    for (; spine_cursor_key_valid(c); spine_cursor_step_key(c))
        for (; spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
            wsum += spine_cursor_weight(c);
            seen++;
        }
    uint64_t t1 = rt_now_ns(), c1 = cpu_ns();
    if (seen != distinct || wsum != (int64_t)rows)
        die("read back a different sum than was inserted");
    spine_stats st;
    spine_stats_get(s, &st);
    printf("{\"bench\":\"spine_ingest\",\"rows\":%zu,\"batch_rows\":%zu,\"ns_per_row\":%.1f,"
           "\"sort_ns_per_row\":%.1f,\"insert_ns_per_row\":%.1f,\"idle_wait_ns_per_row\":%.1f,"
           "\"read_ns_per_row\":%.1f,\"cpu_ns_per_row\":%.1f,\"sort_cpu_ns_per_row\":%.1f,"
           "\"merges\":%zu,\"merge_rows\":%zu,\"batches\":%zu,\"waits\":%zu,\"wait_ms\":%.1f}\n",
           rows, batch_rows, (double)(t1 - t0) / (double)rows, (double)sort_ns / (double)rows,
           (double)(t_inserted - t0) / (double)rows, (double)(t_idle - t_inserted) / (double)rows,
           (double)(t1 - t_idle) / (double)rows, (double)(c1 - c0) / (double)rows,
           (double)sort_cpu / (double)rows, st.merges, st.merge_rows, st.batches, st.waits,
           (double)st.wait_ns / 1e6);

    /* Random seeks of keys present. */
    size_t seeks = rows < 1000000 ? rows : 1000000;
    int64_t found = 0;
    t0 = rt_now_ns();
    for (size_t q = 0; q < seeks; q++) {
        uint8_t kb[16];
        ivm_value k = ivm_value_int(keys[rnd() % rows]);
        size_t kl = spine_value_encode(&k, kb);
        spine_cursor_seek_key(c, kb, kl);
        found += spine_cursor_key_valid(c) ? spine_cursor_weight(c) : 0;
    }
    t1 = rt_now_ns();
    if (found != (int64_t)seeks)
        die("a seek missed a key that is there");
    printf("{\"bench\":\"spine_lookup\",\"rows\":%zu,\"batches\":%zu,\"seeks\":%zu,"
           "\"ns_per_seek\":%.1f}\n",
           rows, st.batches, seeks, (double)(t1 - t0) / (double)seeks);
    spine_cursor_free(c);
    spine_free(s);
    spine_builder_fini(&bld);
    seek_fixed(keys, rows, false);
    seek_fixed(keys, rows, true);
    seek_batched(keys, rows, false);
    seek_batched(keys, rows, true);
    free(keys);
    return 0;
}
