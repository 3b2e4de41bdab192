/*
 * test_nexmark_gen.c: the Nexmark generator of the benchmarks
 * (bench/nexmark_gen.c): ranges generate the same events however the
 * events are split, kinds come in the specified proportions, ids, times
 * and prices follow the rules of bench/README.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../bench/nexmark_gen.h"

#define N 20000

static bool same_str(const nx_events *a, nx_str x, const nx_events *b, nx_str y)
{
    return x.len == y.len && memcmp(nx_text(a, x), nx_text(b, y), x.len) == 0;
}

/* Row i of kind k in a equals row j of kind k in b, text included. */
static bool same_row(const nx_events *a, size_t i, const nx_events *b, size_t j, nx_kind k)
{
    switch (k) {
    case NX_PERSON: {
        const nx_person *x = &a->person[i], *y = &b->person[j];
        return x->id == y->id && x->date_time == y->date_time &&
               same_str(a, x->name, b, y->name) && same_str(a, x->email, b, y->email) &&
               same_str(a, x->credit_card, b, y->credit_card) &&
               same_str(a, x->city, b, y->city) && same_str(a, x->state, b, y->state) &&
               same_str(a, x->extra, b, y->extra);
    }
    case NX_AUCTION: {
        const nx_auction *x = &a->auction[i], *y = &b->auction[j];
        return x->id == y->id && x->initial_bid == y->initial_bid &&
               x->reserve == y->reserve && x->date_time == y->date_time &&
               x->expires == y->expires && x->seller == y->seller &&
               x->category == y->category && same_str(a, x->item_name, b, y->item_name) &&
               same_str(a, x->description, b, y->description) &&
               same_str(a, x->extra, b, y->extra);
    }
    case NX_BID: {
        const nx_bid *x = &a->bid[i], *y = &b->bid[j];
        return x->auction == y->auction && x->bidder == y->bidder && x->price == y->price &&
               x->date_time == y->date_time && same_str(a, x->channel, b, y->channel) &&
               same_str(a, x->url, b, y->url) && same_str(a, x->extra, b, y->extra);
    }
    }
    return false;
}

static size_t kind_rows(const nx_events *ev, nx_kind k)
{
    return k == NX_PERSON ? ev->nperson : k == NX_AUCTION ? ev->nauction : ev->nbid;
}

static void test_nx_gen_ranges_identical(void **state)
{
    (void)state;
    nx_config cfg = nx_config_default();
    nx_events whole;
    assert_true(nx_gen_range(&cfg, 0, N, &whole));
    /* Uneven cut points, in reverse order, one of them empty. */
    uint64_t cuts[] = {0, 1, 49, 50, 777, 777, 5003, 12345, N};
    size_t ncuts = sizeof cuts / sizeof cuts[0];
    size_t seen[3] = {0, 0, 0};
    for (size_t c = ncuts - 1; c > 0; c--) {
        nx_events part;
        assert_true(nx_gen_range(&cfg, cuts[c - 1], cuts[c], &part));
        for (nx_kind k = NX_PERSON; k <= NX_BID; k++) {
            size_t lo, hi;
            nx_events_slice(&whole, k, cuts[c - 1], cuts[c], &lo, &hi);
            assert_int_equal(hi - lo, kind_rows(&part, k));
            for (size_t i = lo; i < hi; i++)
                assert_true(same_row(&whole, i, &part, i - lo, k));
            seen[k] += hi - lo;
        }
        nx_events_fini(&part);
    }
    assert_int_equal(seen[NX_PERSON], whole.nperson);
    assert_int_equal(seen[NX_AUCTION], whole.nauction);
    assert_int_equal(seen[NX_BID], whole.nbid);
    /* Another seed gives other events. */
    nx_config other = cfg;
    other.seed = 7;
    nx_events o;
    assert_true(nx_gen_range(&other, 0, 100, &o));
    assert_false(same_row(&whole, 10, &o, 10, NX_BID));
    nx_events_fini(&o);
    nx_events_fini(&whole);
}

static void test_nx_gen_kinds_and_ids(void **state)
{
    (void)state;
    nx_config cfg = nx_config_default();
    nx_events ev;
    assert_true(nx_gen_range(&cfg, 0, N, &ev));
    /* 2% / 6% / 92%. */
    assert_int_equal(ev.nperson, N / 50);
    assert_int_equal(ev.nauction, N / 50 * 3);
    assert_int_equal(ev.nbid, N / 50 * 46);
    for (uint64_t n = 0; n <= N; n += 7) {
        uint64_t total = 0;
        for (nx_kind k = NX_PERSON; k <= NX_BID; k++)
            total += nx_kind_count(k, n);
        assert_int_equal(total, n);
    }
    size_t ip = 0, ia = 0, ib = 0;
    int hot_bids = 0, channel_k = 0;
    for (uint64_t n = 0; n < N; n++) {
        int64_t t = 10 * (int64_t)n;
        int64_t epoch = (int64_t)(n / 50);
        int64_t last_person = epoch + 1000;
        switch (nx_event_kind(n)) {
        case NX_PERSON: {
            const nx_person *p = &ev.person[ip++];
            assert_int_equal(p->id, epoch + 1000);
            assert_int_equal(p->date_time, t);
            assert_true(p->state.len == 2);
            break;
        }
        case NX_AUCTION: {
            const nx_auction *a = &ev.auction[ia];
            assert_int_equal(a->id, (int64_t)ia + 1000); /* consecutive from 1000 */
            ia++;
            assert_int_equal(a->date_time, t);
            assert_true(a->expires - t >= 1 && a->expires - t <= 33320);
            assert_true(a->category >= 10 && a->category <= 14);
            assert_true(a->initial_bid >= 100 && a->initial_bid <= 100000000);
            assert_true(a->reserve > a->initial_bid);
            assert_true(a->seller <= last_person && a->seller > last_person - 1000);
            assert_true(a->item_name.len >= 1 && a->item_name.len <= 20);
            assert_true(a->description.len >= 1 && a->description.len <= 100);
            break;
        }
        case NX_BID: {
            const nx_bid *b = &ev.bid[ib++];
            int64_t last_auction = 3 * epoch + 2 + 1000;
            assert_int_equal(b->date_time, t);
            assert_true(b->auction <= last_auction && b->auction > last_auction - 100);
            int64_t hot = (last_auction - 1000) / 100 * 100 + 1000;
            hot_bids += b->auction == hot;
            /* A recent person, or the hot bidder (the second of the block,
             * which may be one ahead of the newest person). */
            assert_true(b->bidder <= last_person + 1 && b->bidder > last_person - 1000);
            assert_true(b->price >= 100 && b->price <= 100000000);
            channel_k += b->channel.len > 8 && memcmp(nx_text(&ev, b->channel), "channel-", 8) == 0;
            break;
        }
        }
    }
    /* Half of the bids go to the hot auction (a few more by chance). */
    assert_true(hot_bids > (int)ev.nbid * 45 / 100 && hot_bids < (int)ev.nbid * 60 / 100);
    /* About 1% of channels are "channel-<k>". */
    assert_true(channel_k > 0 && channel_k < (int)ev.nbid * 3 / 100);
    nx_events_fini(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nx_gen_ranges_identical),
        cmocka_unit_test(test_nx_gen_kinds_and_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
