/*
 * test_xchg.c: shard_accumulate.  Rows reach the worker that owns their key
 * and nothing else moves or changes (the sum over receivers is the sum over
 * senders); collect waits for every sender's flush; protocol misuse is
 * refused; and senders on different threads within one rt_pool_run stage,
 * then receivers in the next, are race-free (run under TSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

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

/* Sum of weights and count of entries of b owned by worker `to`. */
static void check_owned(const spine_batch *b, uint32_t nworkers, uint32_t to)
{
    assert_int_equal(spine_batch_check(b), IVM_OK);
    for (size_t i = 0; i < b->n; i++) {
        size_t klen;
        const uint8_t *k = spine_batch_key(b, i, &klen);
        assert_int_equal(xchg_owner(nworkers, k, klen), to);
    }
}

static void test_xchg_partitions_by_owner(void **state)
{
    (void)state;
    enum { N = 3 };
    xchg *x = NULL;
    assert_int_equal(xchg_new(N, &x), IVM_OK);
    assert_int_equal(xchg_workers(x), N);
    int64_t keys[40];
    for (int i = 0; i < 40; i++)
        keys[i] = i % 13;
    /* Each sender sends two batches; every (k, v) pair is distinct. */
    for (uint32_t from = 0; from < N; from++) {
        assert_int_equal(xchg_send_take(x, from, batch_of(keys, 40, 1000 * from, 1)), IVM_OK);
        assert_int_equal(xchg_send_take(x, from, batch_of(keys, 20, 1000 * from + 500, 2)), IVM_OK);
        assert_int_equal(xchg_flush(x, from), IVM_OK);
    }
    size_t total = 0;
    int64_t wsum = 0;
    for (uint32_t to = 0; to < N; to++) {
        spine_batch *b = NULL;
        assert_int_equal(xchg_collect(x, to, &b), IVM_OK);
        check_owned(b, N, to);
        total += b->n;
        for (size_t i = 0; i < b->n; i++)
            wsum += b->w[i];
        spine_batch_unref(b);
    }
    assert_int_equal(total, N * 60);
    assert_int_equal(wsum, N * (40 + 2 * 20));
    xchg_free(x);
}

/* Equal rows from different senders meet and consolidate, cancelling. */
static void test_xchg_collect_consolidates(void **state)
{
    (void)state;
    xchg *x = NULL;
    assert_int_equal(xchg_new(2, &x), IVM_OK);
    int64_t keys[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(xchg_send_take(x, 0, batch_of(keys, 8, 0, 1)), IVM_OK);
    assert_int_equal(xchg_send_take(x, 1, batch_of(keys, 8, 0, -1)), IVM_OK);
    assert_int_equal(xchg_send_take(x, 1, batch_of(keys, 2, 0, 3)), IVM_OK);
    assert_int_equal(xchg_flush(x, 0), IVM_OK);
    assert_int_equal(xchg_flush(x, 1), IVM_OK);
    size_t total = 0;
    for (uint32_t to = 0; to < 2; to++) {
        spine_batch *b = NULL;
        assert_int_equal(xchg_collect(x, to, &b), IVM_OK);
        check_owned(b, 2, to);
        for (size_t i = 0; i < b->n; i++)
            assert_int_equal(b->w[i], 3);
        total += b->n;
        spine_batch_unref(b);
    }
    assert_int_equal(total, 2);
    xchg_free(x);
}

static void test_xchg_collect_pending_until_all_flushed(void **state)
{
    (void)state;
    xchg *x = NULL;
    assert_int_equal(xchg_new(3, &x), IVM_OK);
    int64_t keys[4] = {1, 2, 3, 4};
    spine_batch *b = NULL;
    assert_int_equal(xchg_send_take(x, 0, batch_of(keys, 4, 0, 1)), IVM_OK);
    assert_int_equal(xchg_flush(x, 0), IVM_OK);
    assert_int_equal(xchg_collect(x, 1, &b), IVM_PENDING);
    assert_int_equal(xchg_flush(x, 2), IVM_OK);
    assert_int_equal(xchg_collect(x, 1, &b), IVM_PENDING);
    assert_null(b);
    assert_int_equal(xchg_flush(x, 1), IVM_OK);
    size_t total = 0;
    for (uint32_t to = 0; to < 3; to++) {
        assert_int_equal(xchg_collect(x, to, &b), IVM_OK);
        total += b->n;
        spine_batch_unref(b);
        b = NULL;
    }
    assert_int_equal(total, 4);
    /* The receivers were reset: the next step starts empty and pending. */
    assert_int_equal(xchg_collect(x, 0, &b), IVM_PENDING);
    for (uint32_t from = 0; from < 3; from++)
        assert_int_equal(xchg_flush(x, from), IVM_OK);
    for (uint32_t to = 0; to < 3; to++) {
        assert_int_equal(xchg_collect(x, to, &b), IVM_OK);
        assert_int_equal(b->n, 0);
        spine_batch_unref(b);
    }
    xchg_free(x);
}

static void test_xchg_refuses_misuse(void **state)
{
    (void)state;
    xchg *x = NULL;
    assert_int_equal(xchg_new(0, &x), IVM_INVALID);
    assert_int_equal(xchg_new(2, &x), IVM_OK);
    int64_t keys[2] = {1, 2};
    spine_batch *b = NULL;
    assert_int_equal(xchg_send_take(x, 2, batch_of(keys, 2, 0, 1)), IVM_INVALID);
    assert_int_equal(xchg_send_take(x, 0, NULL), IVM_INVALID);
    assert_int_equal(xchg_flush(x, 5), IVM_INVALID);
    assert_int_equal(xchg_collect(x, 5, &b), IVM_INVALID);
    assert_int_equal(xchg_flush(x, 0), IVM_OK);
    /* X3: until the receivers collect, the sender may neither flush again
     * nor send the next step's rows. */
    assert_int_equal(xchg_flush(x, 0), IVM_BUSY);
    assert_int_equal(xchg_send_take(x, 0, batch_of(keys, 2, 0, 1)), IVM_BUSY);
    assert_int_equal(xchg_flush(x, 1), IVM_OK);
    for (uint32_t to = 0; to < 2; to++) {
        assert_int_equal(xchg_collect(x, to, &b), IVM_OK);
        spine_batch_unref(b);
    }
    assert_int_equal(xchg_send_take(x, 0, batch_of(keys, 2, 0, 1)), IVM_OK);
    xchg_free(x); /* frees the pieces still waiting */
    xchg_free(NULL);
}

/* One worker, or every key owned by one worker: the batch moves as it is. */
static void test_xchg_whole_batch_moves_without_copy(void **state)
{
    (void)state;
    xchg *x = NULL;
    assert_int_equal(xchg_new(1, &x), IVM_OK);
    int64_t keys[3] = {1, 2, 3};
    spine_batch *in = batch_of(keys, 3, 0, 1), *out = NULL;
    assert_int_equal(xchg_send_take(x, 0, spine_batch_ref(in)), IVM_OK);
    assert_int_equal(xchg_flush(x, 0), IVM_OK);
    assert_int_equal(xchg_collect(x, 0, &out), IVM_OK);
    assert_ptr_equal(in, out);
    spine_batch_unref(out);
    spine_batch_unref(in);
    xchg_free(x);

    /* Rows with an empty key (a global aggregate's) all go to one owner. */
    assert_int_equal(xchg_new(4, &x), IVM_OK);
    spine_builder b;
    spine_builder_init(&b);
    for (int i = 0; i < 5; i++) {
        ivm_value v = ivm_value_int(i);
        uint8_t buf[16];
        size_t len = spine_row_encode(&v, 1, buf);
        assert_int_equal(spine_builder_push(&b, buf, 0, buf, len, 1), IVM_OK);
    }
    assert_int_equal(spine_builder_finish(&b, &in), IVM_OK);
    spine_builder_fini(&b);
    assert_int_equal(xchg_send_take(x, 2, spine_batch_ref(in)), IVM_OK);
    for (uint32_t from = 0; from < 4; from++)
        assert_int_equal(xchg_flush(x, from), IVM_OK);
    static const uint8_t none[1];
    uint32_t owner = xchg_owner(4, none, 0);
    for (uint32_t to = 0; to < 4; to++) {
        assert_int_equal(xchg_collect(x, to, &out), IVM_OK);
        if (to == owner)
            assert_ptr_equal(out, in);
        else
            assert_int_equal(out->n, 0);
        spine_batch_unref(out);
    }
    spine_batch_unref(in);
    xchg_free(x);
}

/* ---- Concurrent senders ------------------------------------------------------- */

typedef struct run_ctx {
    xchg *x;
    uint32_t n;
    int step;
    size_t got[8];
    int64_t wsum[8];
} run_ctx;

static ivm_rc send_stage(void *arg, uint32_t w)
{
    run_ctx *r = arg;
    int64_t keys[64];
    for (int i = 0; i < 64; i++)
        keys[i] = (i * 7 + r->step + (int)w) % 29;
    for (int k = 0; k < 3; k++) {
        ivm_rc rc = xchg_send_take(r->x, w, batch_of(keys, 64 - 16 * (size_t)k,
                                                     100000 * w + 1000 * k, 1));
        if (rc != IVM_OK)
            return rc;
    }
    return xchg_flush(r->x, w);
}

static ivm_rc collect_stage(void *arg, uint32_t w)
{
    run_ctx *r = arg;
    spine_batch *b = NULL;
    ivm_rc rc = xchg_collect(r->x, w, &b);
    if (rc != IVM_OK)
        return rc;
    r->got[w] = b->n;
    r->wsum[w] = 0;
    for (size_t i = 0; i < b->n; i++) {
        size_t klen;
        const uint8_t *k = spine_batch_key(b, i, &klen);
        if (xchg_owner(r->n, k, klen) != w)
            rc = IVM_CORRUPT;
        r->wsum[w] += b->w[i];
    }
    spine_batch_unref(b);
    return rc;
}

/* Stage 1: every worker sends and flushes at once; rt_pool_run's return is
 * the barrier; stage 2: every worker collects at once.  Several steps. */
static void test_xchg_concurrent_senders_then_receivers(void **state)
{
    (void)state;
    const uint32_t counts[] = {2, 4, 7};
    for (size_t c = 0; c < 3; c++) {
        rt_pool *pool = NULL;
        assert_int_equal(rt_pool_start(counts[c], &pool), IVM_OK);
        run_ctx r;
        memset(&r, 0, sizeof r);
        r.n = counts[c];
        assert_int_equal(xchg_new(r.n, &r.x), IVM_OK);
        for (r.step = 0; r.step < 20; r.step++) {
            assert_int_equal(rt_pool_run(pool, send_stage, &r), IVM_OK);
            assert_int_equal(rt_pool_run(pool, collect_stage, &r), IVM_OK);
            size_t total = 0;
            int64_t wsum = 0;
            for (uint32_t w = 0; w < r.n; w++) {
                total += r.got[w];
                wsum += r.wsum[w];
            }
            /* Every (k, v) is distinct across senders and batches. */
            assert_int_equal(total, r.n * (64 + 48 + 32));
            assert_int_equal(wsum, (int64_t)total);
        }
        xchg_free(r.x);
        rt_pool_stop(pool);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xchg_partitions_by_owner),
        cmocka_unit_test(test_xchg_collect_consolidates),
        cmocka_unit_test(test_xchg_collect_pending_until_all_flushed),
        cmocka_unit_test(test_xchg_refuses_misuse),
        cmocka_unit_test(test_xchg_whole_batch_moves_without_copy),
        cmocka_unit_test(test_xchg_concurrent_senders_then_receivers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
