/*
 * test_spine_fault.c: the process-wide merger under injected faults.  With
 * IVM_FAULT's test equivalent rt_fault_set("merger:fail@2/12"), the merger
 * thread fails before its 2nd merge and every 12th after: it drops the
 * merges in progress, reports a failed exit, and the root supervisor
 * restarts it.  Several spines, fed large batches so that merges span
 * several slices (and some are in progress when a fault hits), still hold
 * exactly their model once idle: no data is lost, the work is taken up
 * again, and the supervisor's records show the failures and restarts.
 */
#include "spine_testlib.h"

enum { NSP = 3, KEYS = 60000, INSERTS = 240, BATCH = 2000 };

static size_t enc_int(int64_t i, uint8_t *buf)
{
    ivm_value v = ivm_value_int(i);
    return spine_row_encode(&v, 1, buf);
}

static void assert_spine_is(const spine *s, const int64_t *w)
{
    spine_cursor *c;
    const spine *const arr[1] = {s};
    assert_int_equal(spine_cursor_new(arr, 1, NULL, 0, &c), IVM_OK);
    size_t at = 0;
    for (; spine_cursor_key_valid(c); spine_cursor_step_key(c)) {
        size_t klen;
        ivm_value kv;
        const uint8_t *k = spine_cursor_key(c, &klen);
        assert_int_equal(spine_row_decode(k, klen, &kv, 1), 1);
        size_t key = (size_t)kv.u.i;
        assert_true(key < KEYS && key >= at);
        for (; at < key; at++)
            assert_int_equal(w[at], 0);
        assert_true(spine_cursor_val_valid(c));
        assert_int_equal(spine_cursor_weight(c), w[key]);
        spine_cursor_step_val(c);
        assert_false(spine_cursor_val_valid(c));
        at++;
    }
    for (; at < KEYS; at++)
        assert_int_equal(w[at], 0);
    spine_cursor_free(c);
}

typedef struct merger_info {
    bool found;
    rt_proc_info info;
} merger_info;

static void find_merger(void *arg, const rt_proc_info *info)
{
    merger_info *mi = arg;
    if (strcmp(info->name, "root/merger") == 0) {
        mi->found = true;
        mi->info = *info;
    }
}

typedef struct log_scan {
    int exits, restarts;
} log_scan;

static void scan_log(void *arg, const char *line)
{
    log_scan *ls = arg;
    if (strstr(line, "root/merger") != NULL && strstr(line, "injected fault") != NULL)
        ls->exits++;
    if (strncmp(line, "restart root/merger", 19) == 0)
        ls->restarts++;
}

static void test_spine_merger_fault_loses_nothing(void **state)
{
    (void)state;
    assert_int_equal(rt_fault_set("merger:fail@2/12"), IVM_OK);
    spine *s[NSP];
    int64_t *w = calloc((size_t)NSP * KEYS, sizeof *w);
    assert_non_null(w);
    for (int i = 0; i < NSP; i++) {
        s[i] = spine_new();
        assert_non_null(s[i]);
    }
    rng_seed(77);
    spine_builder bld;
    spine_builder_init(&bld);
    for (int n = 0; n < INSERTS; n++) {
        int i = n % NSP;
        int64_t *wi = w + (size_t)i * KEYS;
        for (int e = 0; e < BATCH; e++) {
            size_t key = rng_below(KEYS);
            /* A quarter retracts what the model holds there. */
            int64_t dw = wi[key] != 0 && rng_below(4) == 0 ? -wi[key] : 1;
            uint8_t kb[16];
            assert_int_equal(spine_builder_push(&bld, kb, enc_int((int64_t)key, kb), NULL, 0, dw),
                             IVM_OK);
            wi[key] += dw;
        }
        spine_batch *b;
        assert_int_equal(spine_builder_finish(&bld, &b), IVM_OK);
        assert_int_equal(spine_insert_take(s[i], b), IVM_OK);
    }
    spine_builder_fini(&bld);
    size_t merges = 0;
    for (int i = 0; i < NSP; i++) {
        spine_wait_idle(s[i]);
        spine_stats st;
        spine_stats_get(s[i], &st);
        assert_int_equal(st.pending, 0);
        assert_int_equal(spine_check(s[i]), IVM_OK);
        assert_spine_is(s[i], w + (size_t)i * KEYS);
        merges += st.merges;
    }
    /* The 240 batches of level 5 (2000 entries, less cancellation) can
     * only leave it 16 at a time, but for 3 per spine: at least 15 merges,
     * hence at least 15 calls of the fault point, and faults on the 2nd
     * and the 14th.  At most about 80 merges (4 at a time), so at most 7
     * faults: within the root's 10 restarts in 10 s. */
    assert_true(merges >= 15);

    /* The supervisor saw the failures and restarted the merger each time. */
    merger_info mi = {0};
    rt_proc_list(NULL, find_merger, &mi);
    assert_true(mi.found);
    assert_true(mi.info.failures >= 2);
    assert_true(mi.info.restarts >= 2);
    assert_int_equal(mi.info.state, RT_PROC_RUNNING);
    log_scan ls = {0};
    rt_log_dump(scan_log, &ls);
    assert_true(ls.exits >= 2);
    assert_true(ls.restarts >= 2);

    /* Without faults the restarted merger goes on merging. */
    assert_int_equal(rt_fault_set(NULL), IVM_OK);
    for (int i = 0; i < NSP; i++) {
        assert_int_equal(spine_compact(s[i]), IVM_OK);
        assert_spine_is(s[i], w + (size_t)i * KEYS);
        spine_free(s[i]);
    }
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spine_merger_fault_loses_nothing),
    };
    return cmocka_run_group_tests_name("spine/fault", tests, NULL, NULL);
}
