/*
 * exchange.c: what the exchange costs and what it buys.
 *
 *   {"bench":"exchange", ...}          shuffling rows among workers: every
 *                                      worker sends its share in batches,
 *                                      flushes and collects its shard;
 *   {"bench":"join_agg_scaling", ...}  a join + GROUP BY circuit fed rows in
 *                                      transactions, for 1 and 2 workers.
 *
 * Usage: exchange [rows_shuffle [rows_join]]; defaults 10,000,000 and
 * 1,000,000.  Input batches are built before the clock starts.  JSON lines
 * on standard output; nothing here decides pass or fail.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "dbsp.h"
#include "exchange.h"
#include "runtime.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Rows (k, v) with nkey key columns (0 or 1), weight 1. */
static spine_batch *make_batch(size_t n, uint64_t kmod, uint32_t nkey)
{
    spine_builder b;
    spine_builder_init(&b);
    for (size_t i = 0; i < n; i++) {
        ivm_value row[2] = {ivm_value_int((int64_t)(rng() % kmod)),
                            ivm_value_int((int64_t)(rng() % 1000))};
        uint8_t buf[32];
        size_t len = spine_row_encode(row, 2, buf);
        size_t klen = nkey ? spine_row_size(row, 1) : 0;
        if (spine_builder_push(&b, buf, klen, buf + klen, len - klen, 1) != IVM_OK)
            abort();
    }
    spine_batch *out = NULL;
    if (spine_builder_finish(&b, &out) != IVM_OK)
        abort();
    spine_builder_fini(&b);
    return out;
}

/* ---- Shuffle ----------------------------------------------------------------- */

/* Jobs that have made their last exchange call: another worker's call can
 * still wake a task that is done, and joining frees it, so the joins wait
 * for every job (dbsp/README.md D14). */
typedef struct shuffle_done {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t n;
} shuffle_done;

typedef struct shuffle_job {
    xchg *x;
    shuffle_done *done;
    uint32_t me;
    spine_batch **batches;
    size_t nbatches, next;
    int phase;
    size_t got;
} shuffle_job;

static rt_poll shuffle_poll(void *arg, rt_task *self)
{
    shuffle_job *j = arg;
    rt_waker wk = rt_task_waker(self);
    for (;;) {
        if (j->phase == 0) {
            if (j->next == j->nbatches) {
                j->phase = 2;
                continue;
            }
            ivm_rc rc = xchg_send_take(j->x, j->me, j->batches[j->next++], wk);
            if (rc == IVM_PENDING) {
                j->phase = 1;
                return RT_PENDING;
            }
            if (j->next % 16 == 0)
                return RT_PROGRESS; /* let this worker's receiver drain */
        } else if (j->phase == 1) {
            if (xchg_send_poll(j->x, j->me, wk) == IVM_PENDING)
                return RT_PENDING;
            j->phase = 0;
        } else if (j->phase == 2) {
            if (xchg_flush(j->x, j->me, wk) == IVM_PENDING)
                return RT_PENDING;
            j->phase = 3;
        } else {
            spine_batch *got = NULL;
            ivm_rc rc = xchg_collect(j->x, j->me, wk, &got);
            if (rc == IVM_PENDING)
                return RT_PENDING;
            if (rc == IVM_OK) {
                j->got = got->n;
                spine_batch_unref(got);
            }
            pthread_mutex_lock(&j->done->mu);
            j->done->n++;
            pthread_cond_signal(&j->done->cv);
            pthread_mutex_unlock(&j->done->mu);
            return RT_DONE;
        }
    }
}

static void bench_shuffle(uint32_t workers, size_t rows)
{
    enum { BATCH = 1000 };
    rt_sched *s = NULL;
    xchg *x = NULL;
    if (rt_sched_start(workers, "xb", &s) != IVM_OK || xchg_new(workers, 0, &x) != IVM_OK)
        abort();
    shuffle_job jobs[16];
    shuffle_done done = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    size_t per = rows / workers / BATCH;
    for (uint32_t w = 0; w < workers; w++) {
        jobs[w] = (shuffle_job){.x = x, .done = &done, .me = w, .nbatches = per};
        jobs[w].batches = malloc(sizeof(spine_batch *) * per);
        for (size_t i = 0; i < per; i++)
            jobs[w].batches[i] = make_batch(BATCH, 1u << 30, 1);
    }
    rt_task *tasks[16];
    uint64_t t0 = rt_now_ns();
    for (uint32_t w = 0; w < workers; w++)
        if (rt_task_spawn(s, w, shuffle_poll, &jobs[w], &tasks[w]) != IVM_OK)
            abort();
    pthread_mutex_lock(&done.mu);
    while (done.n < workers)
        pthread_cond_wait(&done.cv, &done.mu);
    pthread_mutex_unlock(&done.mu);
    for (uint32_t w = 0; w < workers; w++)
        rt_task_join(tasks[w]);
    uint64_t t1 = rt_now_ns();
    size_t got = 0;
    for (uint32_t w = 0; w < workers; w++) {
        got += jobs[w].got;
        free(jobs[w].batches);
    }
    xchg_stats st;
    xchg_stats_get(x, &st);
    double secs = (double)(t1 - t0) / 1e9;
    printf("{\"bench\":\"exchange\",\"workers\":%u,\"rows\":%zu,\"seconds\":%.3f,"
           "\"rows_per_s\":%.0f,\"queue_cap\":%u,\"max_queued\":%u,\"full\":%llu}\n",
           workers, got, secs, (double)got / secs, st.queue_cap, st.max_queued,
           (unsigned long long)st.full);
    xchg_free(x);
    rt_sched_stop(s);
}

/* ---- Join + GROUP BY ----------------------------------------------------------- */

/* SELECT r.k, COUNT(*), SUM(r.v + s.w) FROM r JOIN s ON r.k = s.k GROUP BY r.k,
 * built the way the planner lowers it: map to the key, exchange, integrate,
 * join, map, exchange, integrate, aggregate, output. */
static dbsp_plan *join_agg_plan(dbsp_node *in_r, dbsp_node *in_s)
{
    dbsp_plan *p = dbsp_plan_new();
    dbsp_node side[2];
    for (int t = 0; t < 2; t++) {
        dbsp_node in, m, x, i;
        dbsp_expr *ex[2] = {dbsp_expr_col(0, IVM_TINT), dbsp_expr_col(1, IVM_TINT)};
        if (dbsp_plan_input(p, 2, 0, &in) != IVM_OK || dbsp_plan_map(p, in, 2, ex, 1, &m) != IVM_OK ||
            dbsp_plan_exchange(p, m, &x) != IVM_OK || dbsp_plan_integrate(p, x, &i) != IVM_OK)
            abort();
        side[t] = i;
        *(t == 0 ? in_r : in_s) = in;
    }
    dbsp_node j, m, x, i, a, o;
    if (dbsp_plan_join(p, side[0], side[1], &j) != IVM_OK)
        abort();
    dbsp_expr *sum_args[2] = {dbsp_expr_col(1, IVM_TINT), dbsp_expr_col(2, IVM_TINT)};
    dbsp_expr *ex[2] = {dbsp_expr_col(0, IVM_TINT), dbsp_expr_op(DBSP_X_ADD, IVM_TINT, 2, sum_args)};
    dbsp_agg aggs[2] = {{.kind = DBSP_AGG_COUNT_STAR, .type = IVM_TINT},
                        {.kind = DBSP_AGG_SUM, .type = IVM_TINT, .col = 1}};
    if (dbsp_plan_map(p, j, 2, ex, 1, &m) != IVM_OK || dbsp_plan_exchange(p, m, &x) != IVM_OK ||
        dbsp_plan_integrate(p, x, &i) != IVM_OK || dbsp_plan_aggregate(p, i, 2, aggs, &a) != IVM_OK ||
        dbsp_plan_output(p, a, &o) != IVM_OK)
        abort();
    return p;
}

static void bench_join_agg(uint32_t workers, size_t rows, size_t txn)
{
    enum { S_ROWS = 100000, KEYS = 100000 };
    rt_sched *s = NULL;
    if (rt_sched_start(workers, "jb", &s) != IVM_OK)
        abort();
    dbsp_node in_r = 0, in_s = 0;
    dbsp_plan *p = join_agg_plan(&in_r, &in_s);
    dbsp_host *h = NULL;
    if (dbsp_host_new(p, s, &h) != IVM_OK)
        abort();
    ivm_err err;
    ivm_err_clear(&err);
    rng_state = 0x1234567;
    /* S is loaded first, as a dimension table, outside the measurement. */
    for (size_t done = 0; done < S_ROWS; done += 10000) {
        for (uint32_t w = 0; w < workers; w++)
            dbsp_host_feed_take(h, in_s, make_batch(10000 / workers, KEYS, 0));
        if (dbsp_host_step(h, &err) != IVM_OK)
            abort();
    }
    /* Each transaction arrives as one batch per worker (input spread). */
    size_t ntx = rows / txn;
    spine_batch **bs = malloc(sizeof *bs * ntx * workers);
    for (size_t t = 0; t < ntx * workers; t++)
        bs[t] = make_batch(txn / workers, KEYS, 0);
    uint64_t t0 = rt_now_ns();
    for (size_t t = 0; t < ntx; t++) {
        for (uint32_t w = 0; w < workers; w++)
            dbsp_host_feed_take(h, in_r, bs[t * workers + w]);
        if (dbsp_host_step(h, &err) != IVM_OK) {
            fprintf(stderr, "exchange: step: %s\n", err.msg);
            abort();
        }
    }
    uint64_t t1 = rt_now_ns();
    double secs = (double)(t1 - t0) / 1e9;
    printf("{\"bench\":\"join_agg_scaling\",\"workers\":%u,\"rows\":%zu,\"txn_rows\":%zu,"
           "\"seconds\":%.3f,\"rows_per_s\":%.0f}\n",
           workers, ntx * txn, txn, secs, (double)(ntx * txn) / secs);
    free(bs);
    dbsp_host_free(h);
    dbsp_plan_free(p);
    rt_sched_stop(s);
}

int main(int argc, char **argv)
{
    size_t shuffle_rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    size_t join_rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    static const uint32_t counts[] = {1, 2};
    for (size_t c = 0; c < 2; c++)
        bench_shuffle(counts[c], shuffle_rows);
    for (size_t c = 0; c < 2; c++)
        bench_join_agg(counts[c], join_rows, 10000);
    return 0;
}
