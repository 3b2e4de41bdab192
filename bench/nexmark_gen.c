/*
 * nexmark_gen.c: the Nexmark event generator (rules: bench/README.md,
 * "Nexmark generator", after the benchmark's specification).  Each event
 * is a pure function of its number and the configuration: it seeds its own
 * splitmix64 stream from them, and its ids follow from the number alone
 * (the last person and auction created before it are known arithmetically),
 * so ranges generate independently and identically on any thread.  It does
 * not feed any engine; the benchmark programs do.
 */
#include "nexmark_gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROPORTION 50        /* events per epoch: 1 person, 3 auctions, 46 bids */
#define FIRST_ID 1000        /* stored ids add this */
#define HOT_RATIO 100        /* people / auctions per hot block */
#define RECENT_PEOPLE 1000
#define RECENT_AUCTIONS 100
#define PERSON_BYTES 200     /* extra pads each kind to about this size */
#define AUCTION_BYTES 500
#define BID_BYTES 100
#define MAX_EXPIRY_MS 33320

static const char *const first_names[] = {"Peter", "Paul",  "Luke",   "John",   "Saul",  "Vicky",
                                          "Kate",  "Julie", "Sarah",  "Deiter", "Walter"};
static const char *const last_names[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                         "Walton", "Smith",  "Jones",   "Noris"};
static const char *const cities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise",
                                     "Portland", "Bend",       "Redmond",       "Seattle",
                                     "Kent",     "Cheyenne"};
static const char *const states[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
static const char *const channels[] = {"Google", "Facebook", "Baidu", "Apple"};
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

const char nx_person_header[] = "id,name,emailAddress,creditCard,city,state,date_time,extra";
const char nx_auction_header[] =
    "id,itemName,description,initialBid,reserve,date_time,expires,seller,category,extra";
const char nx_bid_header[] = "auction,bidder,price,channel,url,date_time,extra";

nx_config nx_config_default(void)
{
    nx_config c = {.seed = 0, .base_ms = 0, .interval_ms = 10};
    return c;
}

/* ---- The per-event random stream ------------------------------------------------ */

typedef struct stream {
    uint64_t s;
} stream;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t next(stream *r)
{
    return mix64(r->s += 0x9e3779b97f4a7c15ULL);
}

static stream stream_for(const nx_config *cfg, uint64_t n)
{
    stream r = {mix64(n ^ mix64(cfg->seed + 0x6a09e667f3bcc909ULL))};
    return r;
}

/* Uniform in [0, m), m > 0 (Lemire's multiply; the bias is below 2^-40 for
 * the small m used here). */
static uint64_t below(stream *r, uint64_t m)
{
    return (uint64_t)(((__uint128_t)next(r) * m) >> 64);
}

static double unit(stream *r)
{
    return (double)(next(r) >> 11) * 0x1p-53;
}

/* ceil(10^(6u) * 100): log-uniform prices of 100 .. 10^8 cents. */
static int64_t price(stream *r)
{
    return (int64_t)ceil(pow(10.0, unit(r) * 6.0) * 100.0);
}

/* ---- Text ------------------------------------------------------------------------- */

static bool reserve(nx_events *ev, size_t more)
{
    if (ev->ntext + more <= ev->text_cap)
        return true;
    size_t cap = ev->text_cap ? ev->text_cap : 1 << 16;
    while (cap < ev->ntext + more)
        cap *= 2;
    char *p = realloc(ev->text, cap);
    if (p == NULL)
        return false;
    ev->text = p;
    ev->text_cap = cap;
    return true;
}

/* Text is built by appending pieces at the end of the buffer; a string is
 * the bytes appended since its start (room is reserved per event first). */
static void put(nx_events *ev, const char *s, size_t n)
{
    memcpy(ev->text + ev->ntext, s, n);
    ev->ntext += n;
}

static void put_str(nx_events *ev, const char *s)
{
    put(ev, s, strlen(s));
}

static void put_random(nx_events *ev, stream *r, size_t n)
{
    char *p = ev->text + ev->ntext;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t x = next(r);
        for (size_t j = i; j < n && j < i + 8; j++, x >>= 8)
            p[j] = (char)('a' + (x & 0xff) % 26);
    }
    ev->ntext += n;
}

static nx_str end_str(const nx_events *ev, uint64_t start)
{
    nx_str s = {start, (uint32_t)(ev->ntext - start)};
    return s;
}

static nx_str random_str(nx_events *ev, stream *r, size_t n)
{
    uint64_t start = ev->ntext;
    put_random(ev, r, n);
    return end_str(ev, start);
}

/* Random characters that bring an event of `size` bytes to about `target`. */
static nx_str extra(nx_events *ev, stream *r, size_t size, size_t target)
{
    return random_str(ev, r, size < target ? target - size : 0);
}

/* ---- Ids ----------------------------------------------------------------------------- */

/* Base-0 id of the last person created by event n (included). */
static int64_t last_person(uint64_t n)
{
    return (int64_t)(n / PROPORTION);
}

/* Base-0 id of the last auction created by event n (included); 0 before
 * the first. */
static int64_t last_auction(uint64_t n)
{
    int64_t epoch = (int64_t)(n / PROPORTION), off = (int64_t)(n % PROPORTION);
    if (off == 0)
        return epoch > 0 ? 3 * epoch - 1 : 0;
    if (off <= 3)
        return 3 * epoch + off - 1;
    return 3 * epoch + 2;
}

static int64_t recent_person(stream *r, uint64_t n)
{
    int64_t last = last_person(n);
    uint64_t span = (uint64_t)last + 1 < RECENT_PEOPLE ? (uint64_t)last + 1 : RECENT_PEOPLE;
    return last - (int64_t)below(r, span) + FIRST_ID;
}

static int64_t recent_auction(stream *r, uint64_t n)
{
    int64_t last = last_auction(n);
    uint64_t span = (uint64_t)last + 1 < RECENT_AUCTIONS ? (uint64_t)last + 1 : RECENT_AUCTIONS;
    return last - (int64_t)below(r, span) + FIRST_ID;
}

/* ---- Events -------------------------------------------------------------------------- */

nx_kind nx_event_kind(uint64_t n)
{
    uint64_t off = n % PROPORTION;
    return off == 0 ? NX_PERSON : off <= 3 ? NX_AUCTION : NX_BID;
}

uint64_t nx_kind_count(nx_kind k, uint64_t n)
{
    uint64_t full = n / PROPORTION, rem = n % PROPORTION;
    switch (k) {
    case NX_PERSON:
        return full + (rem > 0);
    case NX_AUCTION:
        return 3 * full + (rem <= 1 ? 0 : rem - 1 < 3 ? rem - 1 : 3);
    case NX_BID:
        return 46 * full + (rem > 4 ? rem - 4 : 0);
    }
    return 0;
}

static void gen_person(const nx_config *cfg, uint64_t n, stream *r, nx_events *ev)
{
    nx_person *p = &ev->person[ev->nperson++];
    p->id = last_person(n) + FIRST_ID;
    uint64_t start = ev->ntext;
    put_str(ev, first_names[below(r, COUNT_OF(first_names))]);
    put(ev, " ", 1);
    put_str(ev, last_names[below(r, COUNT_OF(last_names))]);
    p->name = end_str(ev, start);
    start = ev->ntext;
    put_random(ev, r, 7);
    put(ev, "@", 1);
    put_random(ev, r, 5);
    put(ev, ".com", 4);
    p->email = end_str(ev, start);
    start = ev->ntext;
    for (int i = 0; i < 4; i++) {
        unsigned g = (unsigned)below(r, 10000);
        char buf[6] = {(char)('0' + g / 1000), (char)('0' + g / 100 % 10),
                       (char)('0' + g / 10 % 10), (char)('0' + g % 10), ' '};
        put(ev, buf, i < 3 ? 5 : 4);
    }
    p->credit_card = end_str(ev, start);
    start = ev->ntext;
    put_str(ev, cities[below(r, COUNT_OF(cities))]);
    p->city = end_str(ev, start);
    start = ev->ntext;
    put_str(ev, states[below(r, COUNT_OF(states))]);
    p->state = end_str(ev, start);
    p->date_time = cfg->base_ms + cfg->interval_ms * (int64_t)n;
    size_t size = 2 * 8 + p->name.len + p->email.len + p->credit_card.len + p->city.len +
                  p->state.len;
    p->extra = extra(ev, r, size, PERSON_BYTES);
}

static void gen_auction(const nx_config *cfg, uint64_t n, stream *r, nx_events *ev)
{
    nx_auction *a = &ev->auction[ev->nauction++];
    a->id = last_auction(n) + FIRST_ID;
    a->item_name = random_str(ev, r, 1 + below(r, 20));
    a->description = random_str(ev, r, 1 + below(r, 100));
    a->initial_bid = price(r);
    a->reserve = a->initial_bid + price(r);
    a->date_time = cfg->base_ms + cfg->interval_ms * (int64_t)n;
    a->expires = a->date_time + 1 + (int64_t)below(r, MAX_EXPIRY_MS);
    if (below(r, 4) < 3)
        a->seller = last_person(n) / HOT_RATIO * HOT_RATIO + FIRST_ID;
    else
        a->seller = recent_person(r, n);
    a->category = 10 + (int64_t)below(r, 5);
    size_t size = 7 * 8 + a->item_name.len + a->description.len;
    a->extra = extra(ev, r, size, AUCTION_BYTES);
}

static void gen_bid(const nx_config *cfg, uint64_t n, stream *r, nx_events *ev)
{
    nx_bid *b = &ev->bid[ev->nbid++];
    if (below(r, 2) == 0)
        b->auction = last_auction(n) / HOT_RATIO * HOT_RATIO + FIRST_ID;
    else
        b->auction = recent_auction(r, n);
    if (below(r, 4) < 3)
        b->bidder = last_person(n) / HOT_RATIO * HOT_RATIO + 1 + FIRST_ID;
    else
        b->bidder = recent_person(r, n);
    b->price = price(r);
    long k = -1;
    uint64_t start = ev->ntext;
    if (below(r, 100) < 99) {
        put_str(ev, channels[below(r, COUNT_OF(channels))]);
    } else {
        k = (long)below(r, 10000);
        char buf[32];
        int m = snprintf(buf, sizeof buf, "channel-%ld", k);
        put(ev, buf, (size_t)m);
    }
    b->channel = end_str(ev, start);
    start = ev->ntext;
    put_str(ev, "https://www.nexmark.com/");
    for (int i = 0; i < 3; i++) {
        put_random(ev, r, 5);
        put(ev, "/", 1);
    }
    put_str(ev, "item.htm?query=1");
    if (k >= 0) {
        char buf[32];
        int m = snprintf(buf, sizeof buf, "&channel_id=%ld", k);
        put(ev, buf, (size_t)m);
    }
    b->url = end_str(ev, start);
    b->date_time = cfg->base_ms + cfg->interval_ms * (int64_t)n;
    size_t size = 4 * 8 + b->channel.len + b->url.len;
    b->extra = extra(ev, r, size, BID_BYTES);
}

bool nx_gen_range(const nx_config *cfg, uint64_t a, uint64_t b, nx_events *out)
{
    memset(out, 0, sizeof *out);
    if (b < a)
        b = a;
    out->first = a;
    out->count = b - a;
    size_t np = nx_kind_count(NX_PERSON, b) - nx_kind_count(NX_PERSON, a);
    size_t na = nx_kind_count(NX_AUCTION, b) - nx_kind_count(NX_AUCTION, a);
    size_t nb = nx_kind_count(NX_BID, b) - nx_kind_count(NX_BID, a);
    out->person = malloc((np ? np : 1) * sizeof *out->person);
    out->auction = malloc((na ? na : 1) * sizeof *out->auction);
    out->bid = malloc((nb ? nb : 1) * sizeof *out->bid);
    if (out->person == NULL || out->auction == NULL || out->bid == NULL ||
        !reserve(out, (np * PERSON_BYTES + na * AUCTION_BYTES + nb * BID_BYTES) / 2 + 1))
        goto fail;
    for (uint64_t n = a; n < b; n++) {
        /* No event has more than AUCTION_BYTES + 200 bytes of text. */
        if (!reserve(out, AUCTION_BYTES + 200))
            goto fail;
        stream r = stream_for(cfg, n);
        switch (nx_event_kind(n)) {
        case NX_PERSON:
            gen_person(cfg, n, &r, out);
            break;
        case NX_AUCTION:
            gen_auction(cfg, n, &r, out);
            break;
        case NX_BID:
            gen_bid(cfg, n, &r, out);
            break;
        }
    }
    return true;
fail:
    nx_events_fini(out);
    return false;
}

void nx_events_fini(nx_events *ev)
{
    free(ev->person);
    free(ev->auction);
    free(ev->bid);
    free(ev->text);
    memset(ev, 0, sizeof *ev);
}

void nx_events_slice(const nx_events *ev, nx_kind k, uint64_t a, uint64_t b, size_t *lo,
                     size_t *hi)
{
    uint64_t end = ev->first + ev->count;
    a = a < ev->first ? ev->first : a > end ? end : a;
    b = b < a ? a : b > end ? end : b;
    uint64_t base = nx_kind_count(k, ev->first);
    *lo = (size_t)(nx_kind_count(k, a) - base);
    *hi = (size_t)(nx_kind_count(k, b) - base);
}

/* ---- CSV ------------------------------------------------------------------------------ */

static void csv_text(FILE *f, const nx_events *ev, nx_str s)
{
    const char *p = nx_text(ev, s);
    if (memchr(p, ',', s.len) == NULL && memchr(p, '"', s.len) == NULL &&
        memchr(p, '\n', s.len) == NULL) {
        fwrite(p, 1, s.len, f);
        return;
    }
    fputc('"', f);
    for (uint32_t i = 0; i < s.len; i++) {
        if (p[i] == '"')
            fputc('"', f);
        fputc(p[i], f);
    }
    fputc('"', f);
}

static void csv_int(FILE *f, int64_t v, bool last)
{
    fprintf(f, last ? "%lld\n" : "%lld,", (long long)v);
}

static void csv_str(FILE *f, const nx_events *ev, nx_str s, bool last)
{
    csv_text(f, ev, s);
    fputc(last ? '\n' : ',', f);
}

bool nx_write_csv(const nx_events *ev, FILE *person, FILE *auction, FILE *bid)
{
    for (size_t i = 0; i < ev->nperson; i++) {
        const nx_person *p = &ev->person[i];
        csv_int(person, p->id, false);
        csv_str(person, ev, p->name, false);
        csv_str(person, ev, p->email, false);
        csv_str(person, ev, p->credit_card, false);
        csv_str(person, ev, p->city, false);
        csv_str(person, ev, p->state, false);
        csv_int(person, p->date_time, false);
        csv_str(person, ev, p->extra, true);
    }
    for (size_t i = 0; i < ev->nauction; i++) {
        const nx_auction *a = &ev->auction[i];
        csv_int(auction, a->id, false);
        csv_str(auction, ev, a->item_name, false);
        csv_str(auction, ev, a->description, false);
        csv_int(auction, a->initial_bid, false);
        csv_int(auction, a->reserve, false);
        csv_int(auction, a->date_time, false);
        csv_int(auction, a->expires, false);
        csv_int(auction, a->seller, false);
        csv_int(auction, a->category, false);
        csv_str(auction, ev, a->extra, true);
    }
    for (size_t i = 0; i < ev->nbid; i++) {
        const nx_bid *b = &ev->bid[i];
        csv_int(bid, b->auction, false);
        csv_int(bid, b->bidder, false);
        csv_int(bid, b->price, false);
        csv_str(bid, ev, b->channel, false);
        csv_str(bid, ev, b->url, false);
        csv_int(bid, b->date_time, false);
        csv_str(bid, ev, b->extra, true);
    }
    return !ferror(person) && !ferror(auction) && !ferror(bid);
}
