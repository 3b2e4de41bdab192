/*
 * prop_spine.c: spines against a sorted-array model under random
 * interleavings of inserts and merge work, the long version of
 * tests/spine/test_spine_model.c.  Each case draws its shape (how many
 * spines share one manual merger, the key domain, batch sizes, merge
 * budgets, max_pending) from the seed, then runs random steps: insert a
 * batch of insertions and retractions, run merge slices of a random budget,
 * compact, wait for a spine to be idle, free a spine with merges in
 * progress and rebuild it, ask spine_ready, or keep a cursor for later.
 * After every step each spine is read in full, by random seeks and by a
 * walk of mostly ascending seeks mixed with steps, and compared with its
 * model, spine_check runs, the statistics are checked
 * against each other, and every kept cursor must still read its snapshot.
 * A failure prints the seed, case and step, which replay with
 * --seed S --cases C+1 (cases are drawn in sequence from the seed).
 *
 *   prop_spine [--seed S] [--cases N] [--steps M] [--seconds T]
 */
#include "spine.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- Random numbers (splitmix64: reproducible from the seed alone) -------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static size_t below(size_t n) { return (size_t)(rnd() % n); }

/* ---- Failure reporting ---------------------------------------------------------- */

static uint64_t cur_seed;
static int cur_case, cur_step;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fail_at(__LINE__, #cond);                                                      \
    } while (0)

static void fail_at(int line, const char *what)
{
    fprintf(stderr, "prop_spine: FAILED seed %llu case %d step %d: %s (line %d)\n"
                    "replay: prop_spine --seed %llu --cases %d\n",
            (unsigned long long)cur_seed, cur_case, cur_step, what, line,
            (unsigned long long)cur_seed, cur_case + 1);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "prop_spine: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- The model: a sorted, consolidated array of entries ------------------------ */

typedef struct ent {
    uint8_t *e; /* key bytes then value bytes */
    size_t len;
    uint32_t klen;
    int64_t w;
} ent;

typedef struct elist {
    ent *v;
    size_t n, cap;
} elist;

static void el_push(elist *l, const uint8_t *e, size_t len, uint32_t klen, int64_t w)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        ent *v = realloc(l->v, l->cap * sizeof *v);
        if (v == NULL)
            fail_at(__LINE__, "out of memory");
        l->v = v;
    }
    ent *t = &l->v[l->n++];
    t->e = xmalloc(len);
    memcpy(t->e, e, len);
    t->len = len;
    t->klen = klen;
    t->w = w;
}

static void el_free(elist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].e);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int ent_cmp(const void *a, const void *b)
{
    const ent *x = a, *y = b;
    int c = spine_row_cmp(x->e, x->len, y->e, y->len);
    return c != 0 ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static void el_consolidate(elist *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof *l->v, ent_cmp);
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (o > 0 && ent_cmp(&l->v[o - 1], &l->v[i]) == 0) {
            l->v[o - 1].w += l->v[i].w;
            free(l->v[i].e);
            continue;
        }
        if (o > 0 && l->v[o - 1].w == 0) {
            free(l->v[o - 1].e);
            o--;
        }
        l->v[o++] = l->v[i];
    }
    if (o > 0 && l->v[o - 1].w == 0) {
        free(l->v[o - 1].e);
        o--;
    }
    l->n = o;
}

static void el_add(elist *dst, const elist *src, int64_t sign)
{
    for (size_t i = 0; i < src->n; i++)
        el_push(dst, src->v[i].e, src->v[i].len, src->v[i].klen, sign * src->v[i].w);
}

static spine_batch *el_build(const elist *l, bool promise)
{
    spine_builder bld;
    spine_batch *b = NULL;
    spine_builder_init(&bld);
    (void)promise; /* builders notice order themselves */
    /* Batches with and without key filters (S18): exact seeks must find
     * keys either way. */
    spine_builder_set_filters(&bld, below(2) == 0);
    for (size_t i = 0; i < l->n; i++) {
        const ent *t = &l->v[i];
        CHECK(spine_builder_push(&bld, t->e, t->klen, t->e + t->klen, t->len - t->klen, t->w) ==
              IVM_OK);
    }
    CHECK(spine_builder_finish(&bld, &b) == IVM_OK);
    spine_builder_fini(&bld);
    return b;
}

/* ---- Domains ------------------------------------------------------------------------ */

/* small: keys (INT of 9, TEXT of 5) x values (INT-or-NULL of 4, REAL of 3):
 * streams collide and cancel all the time.  wide: INT keys 0..keys-1 and
 * INT values 0..3, so that batches reach higher levels. */
typedef struct domain {
    bool small;
    size_t keys;
} domain;

static size_t gen_key(const domain *d, uint8_t *k, bool probe)
{
    static const int64_t ints[] = {INT64_MIN, -3, -2, -1, 0, 1, 2, 3, INT64_MAX, -4, 4, 100};
    static const char *texts[] = {"", "a", "ab", "b", "ba", "aa", "c"};
    if (!d->small) {
        ivm_value v = ivm_value_int(probe ? (int64_t)below(d->keys + 20) - 10 : (int64_t)below(d->keys));
        return spine_row_encode(&v, 1, k);
    }
    const char *t = texts[below(probe ? 7 : 5)];
    ivm_value key[2] = {ivm_value_int(ints[below(probe ? 12 : 9)]),
                        ivm_value_text(t, (uint32_t)strlen(t))};
    return spine_row_encode(key, probe && below(5) == 0 ? 1 : 2, k);
}

static void gen_entry(const domain *d, elist *l, int64_t w)
{
    static const double reals[] = {-0.5, 0.0, 2.5};
    uint8_t e[256];
    size_t kl = gen_key(d, e, false), vl;
    if (d->small) {
        size_t c = below(4);
        ivm_value val[2] = {c == 0 ? ivm_value_null() : ivm_value_int(c == 1 ? -1 : c == 2 ? 0 : 7),
                            ivm_value_real(reals[below(3)])};
        vl = spine_row_encode(val, 2, e + kl);
    } else {
        ivm_value v = ivm_value_int((int64_t)below(4));
        vl = spine_row_encode(&v, 1, e + kl);
    }
    el_push(l, e, kl + vl, (uint32_t)kl, w);
}

/* A batch for a stream whose sum is model: random entries with small
 * weights (zero included), retractions of part of the model, rarely the
 * retraction of all of it. */
static void gen_batch(const domain *d, elist *batch, const elist *model, size_t maxn)
{
    size_t kind = below(100);
    if (kind < 3) {
        el_add(batch, model, -1);
        return;
    }
    size_t n = below(4) == 0 ? below(maxn + 1) : below(12);
    for (size_t i = 0; i < n; i++) {
        if (kind < 35 && model->n > 0) {
            const ent *t = &model->v[below(model->n)];
            el_push(batch, t->e, t->len, t->klen, below(2) ? -t->w : -1);
        } else {
            gen_entry(d, batch, (int64_t)below(6) - 2);
        }
    }
}

/* ---- Checks ----------------------------------------------------------------------- */

static bool same_key(const ent *a, const ent *b)
{
    return a->klen == b->klen && memcmp(a->e, b->e, a->klen) == 0;
}

static void check_cursor(spine_cursor *c, const elist *m)
{
    size_t i = 0;
    for (spine_cursor_rewind(c); spine_cursor_key_valid(c); spine_cursor_step_key(c)) {
        CHECK(i < m->n);
        size_t klen;
        const uint8_t *k = spine_cursor_key(c, &klen);
        CHECK(klen == m->v[i].klen && memcmp(k, m->v[i].e, klen) == 0);
        size_t first = i;
        bool rewound = below(6) != 0;
        while (spine_cursor_val_valid(c)) {
            CHECK(i < m->n && same_key(&m->v[i], &m->v[first]));
            size_t vlen;
            const uint8_t *v = spine_cursor_val(c, &vlen);
            CHECK(vlen == m->v[i].len - m->v[i].klen);
            CHECK(vlen == 0 || memcmp(v, m->v[i].e + klen, vlen) == 0);
            CHECK(spine_cursor_weight(c) == m->v[i].w);
            i++;
            if (!rewound && i == first + 1) {
                /* Once in a while, back to the key's first value. */
                spine_cursor_rewind_vals(c);
                i = first;
                rewound = true;
            } else {
                spine_cursor_step_val(c);
            }
        }
        CHECK(i == m->n || !same_key(&m->v[i], &m->v[first]));
    }
    CHECK(i == m->n);
}

static void check_seek(spine_cursor *c, const elist *m, const domain *d)
{
    uint8_t k[256];
    size_t kl = gen_key(d, k, true);
    spine_cursor_seek_key(c, k, kl);
    size_t i = 0;
    while (i < m->n && spine_row_cmp(m->v[i].e, m->v[i].klen, k, kl) < 0)
        i++;
    if (i == m->n) {
        CHECK(!spine_cursor_key_valid(c));
        return;
    }
    CHECK(spine_cursor_key_valid(c));
    size_t klen, vlen;
    const uint8_t *ck = spine_cursor_key(c, &klen);
    CHECK(klen == m->v[i].klen && memcmp(ck, m->v[i].e, klen) == 0);
    const uint8_t *cv = spine_cursor_val(c, &vlen);
    CHECK(vlen == m->v[i].len - klen && (vlen == 0 || memcmp(cv, m->v[i].e + klen, vlen) == 0));
    CHECK(spine_cursor_weight(c) == m->v[i].w);
}

/* The model's cursor: the entry a cursor stands on (m->n past the end),
 * the first entry of its key, and whether it stands on a value. */
typedef struct mcur {
    size_t i, first;
    bool val;
} mcur;

static void check_same(spine_cursor *c, const elist *m, const mcur *mc)
{
    if (mc->first == m->n) {
        CHECK(!spine_cursor_key_valid(c) && !spine_cursor_val_valid(c));
        return;
    }
    CHECK(spine_cursor_key_valid(c));
    size_t klen;
    const uint8_t *ck = spine_cursor_key(c, &klen);
    const ent *f = &m->v[mc->first];
    CHECK(klen == f->klen && memcmp(ck, f->e, klen) == 0);
    CHECK(spine_cursor_val_valid(c) == mc->val);
    if (!mc->val) {
        CHECK(spine_cursor_weight(c) == 0);
        return;
    }
    const ent *e = &m->v[mc->i];
    size_t vlen;
    const uint8_t *cv = spine_cursor_val(c, &vlen);
    CHECK(vlen == e->len - klen && (vlen == 0 || memcmp(cv, e->e + klen, vlen) == 0));
    CHECK(spine_cursor_weight(c) == e->w);
}

static int ent_key_cmp(const ent *e, const uint8_t *k, size_t kl)
{
    return spine_row_cmp(e->e, e->klen, k, kl);
}

static int cmp_probe(const void *a, const void *b)
{
    const uint8_t *x = a, *y = b; /* length byte, then the key */
    return spine_row_cmp(x + 1, x[0], y + 1, y[0]);
}

/* A walk of seeks in mostly ascending order, as joins and aggregates probe
 * (the cursor's forward path), half of them exact, mixed with seeks back,
 * to the current key, past the end, and with stepping over values and
 * keys, each compared with a search of the sorted model. */
static void check_seek_walk(spine_cursor *c, const elist *m, const domain *d)
{
    enum { NP = 48, W = 64 };
    uint8_t probes[NP][W];
    size_t np = 0;
    for (; np < NP; np++) {
        uint8_t k[256];
        size_t kl = gen_key(d, k, true);
        if (kl >= W)
            break;
        probes[np][0] = (uint8_t)kl;
        memcpy(probes[np] + 1, k, kl);
    }
    qsort(probes, np, W, cmp_probe);
    mcur mc = {0, 0, false};
    spine_cursor_rewind(c);
    mc.val = m->n > 0;
    check_same(c, m, &mc);
    size_t next = 0;
    for (int op = 0; op < 120; op++) {
        size_t what = below(20);
        const uint8_t *k = NULL;
        size_t kl = 0;
        uint8_t kbuf[W];
        if (what < 10 && next < np) {
            k = probes[next] + 1; /* the next probe up, often absent */
            kl = probes[next][0];
            next += 1 + (below(4) == 0 ? below(4) : 0);
        } else if (what < 12) {
            k = probes[below(np)] + 1; /* anywhere: often back */
            kl = k[-1];
        } else if (what < 13 && mc.first < m->n) {
            kl = m->v[mc.first].klen; /* the current key, from a copy */
            memcpy(kbuf, m->v[mc.first].e, kl < W ? kl : W);
            k = kl < W ? kbuf : NULL;
        } else if (what < 14) {
            kbuf[0] = 0x04; /* one TEXT column: above every key */
            kbuf[1] = 0x00;
            k = kbuf;
            kl = 2;
        } else if (what < 16) {
            spine_cursor_step_key(c);
            if (mc.first < m->n) {
                size_t j = mc.first;
                while (j < m->n && same_key(&m->v[j], &m->v[mc.first]))
                    j++;
                mc.i = mc.first = j;
                mc.val = j < m->n;
            }
        } else if (what < 18) {
            spine_cursor_step_val(c);
            if (mc.val) {
                mc.i++;
                mc.val = mc.i < m->n && same_key(&m->v[mc.i], &m->v[mc.first]);
            }
        } else {
            spine_cursor_rewind_vals(c);
            if (mc.first < m->n) {
                mc.i = mc.first;
                mc.val = true;
            }
        }
        if (k != NULL) {
            /* Half the seeks are exact ones, which skip batches by their
             * key filters and leave them behind until needed. */
            bool exact = below(2) == 0;
            bool found = exact ? spine_cursor_seek_exact(c, k, kl) : false;
            if (!exact)
                spine_cursor_seek_key(c, k, kl);
            size_t lo = 0, hi = m->n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (ent_key_cmp(&m->v[mid], k, kl) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            mc.i = mc.first = lo;
            mc.val = lo < m->n;
            if (exact) {
                bool has = lo < m->n && m->v[lo].klen == kl && memcmp(m->v[lo].e, k, kl) == 0;
                CHECK(found == has);
                if (!has) { /* a miss shows nothing until the next seek */
                    mc.i = mc.first = m->n;
                    mc.val = false;
                }
            }
        }
        check_same(c, m, &mc);
    }
}

static size_t rest_bound(size_t rows)
{
    size_t levels = 1;
    for (size_t r = rows; r >= 4; r /= 4)
        levels++;
    return 3 * levels;
}

/* ---- A case ----------------------------------------------------------------------- */

enum { MAXSP = 4, NKEPT = 3 };

typedef struct sp {
    spine *s;
    elist m;
    spine_stats last;
} sp;

typedef struct kcur {
    spine_cursor *c;
    elist m;
} kcur;

typedef struct world {
    spine_merger *mg;
    domain d;
    size_t nsp, maxn, maxbudget;
    uint32_t max_pending;
    sp sp[MAXSP];
    kcur kept[NKEPT];
} world;

static void sp_open(world *w, sp *p)
{
    /* Merge outputs with filters or without (spine_opts.exact_seeks). */
    spine_opts o = {.merger = w->mg, .max_pending = w->max_pending, .exact_seeks = below(2) == 0};
    p->s = spine_new_opts(&o);
    CHECK(p->s != NULL);
    memset(&p->last, 0, sizeof p->last);
}

static void check_sp(world *w, sp *p)
{
    CHECK(spine_check(p->s) == IVM_OK);
    spine_stats st;
    spine_stats_get(p->s, &st);
    size_t batches = 0, pending = 0;
    for (unsigned l = 0; l < SPINE_MAX_LEVELS; l++) {
        batches += st.level_batches[l];
        pending += st.level_batches[l] > 3 ? st.level_batches[l] - 3 : 0;
    }
    CHECK(batches == st.batches);
    CHECK(pending == st.pending);
    CHECK(st.rows >= p->m.n);
    CHECK((st.batches == 0) == (st.rows == 0));
    CHECK(st.batches <= rest_bound(st.rows) + st.pending);
    CHECK(st.merges >= p->last.merges && st.merge_rows >= p->last.merge_rows);
    CHECK(st.merge_rows - p->last.merge_rows >= 2 * (st.merges - p->last.merges));
    CHECK(st.waits >= p->last.waits && st.wait_ns >= p->last.wait_ns);
    p->last = st;
    spine_cursor *c;
    const spine *const arr[1] = {p->s};
    CHECK(spine_cursor_new(arr, 1, NULL, 0, &c) == IVM_OK);
    check_cursor(c, &p->m);
    for (int i = 0; i < 4; i++)
        check_seek(c, &p->m, &w->d);
    check_seek_walk(c, &p->m, &w->d);
    spine_cursor_free(c);
}

static void noop_wake(void *arg)
{
    (*(int *)arg)++;
}

static void step(world *w)
{
    sp *p = &w->sp[below(w->nsp)];
    size_t what = below(100);
    if (what < 45) {
        elist b = {0};
        gen_batch(&w->d, &b, &p->m, w->maxn);
        bool promise = below(3) == 0;
        if (promise)
            el_consolidate(&b);
        CHECK(spine_insert_take(p->s, el_build(&b, promise)) == IVM_OK);
        el_add(&p->m, &b, 1);
        el_consolidate(&p->m);
        el_free(&b);
    } else if (what < 82) {
        size_t r = below(10);
        size_t budget = r < 3 ? 1 + below(4) : r < 8 ? 1 + below(400) : 1 + below(w->maxbudget);
        spine_merger_work(w->mg, budget);
    } else if (what < 85) {
        CHECK(spine_compact(p->s) == IVM_OK);
        spine_stats st;
        spine_stats_get(p->s, &st);
        CHECK(st.batches <= 1 && st.pending == 0);
    } else if (what < 88) {
        spine_wait_idle(p->s);
        spine_stats st;
        spine_stats_get(p->s, &st);
        CHECK(st.pending == 0 && st.batches <= rest_bound(st.rows));
    } else if (what < 89) {
        spine_free(p->s);
        sp_open(w, p);
        elist part = {0};
        for (size_t i = 0; i < p->m.n; i++) {
            el_push(&part, p->m.v[i].e, p->m.v[i].len, p->m.v[i].klen, p->m.v[i].w);
            if (below(30) == 0 || i + 1 == p->m.n) {
                CHECK(spine_insert_take(p->s, el_build(&part, true)) == IVM_OK);
                el_free(&part);
            }
        }
        el_free(&part);
    } else if (what < 94) {
        /* spine_ready agrees with pending; a registered waker runs when
         * merges bring the spine back to its threshold, and not before. */
        static int woken;
        int before = woken;
        rt_waker wk = {noop_wake, &woken};
        spine_stats st;
        spine_stats_get(p->s, &st);
        bool ready = spine_ready(p->s, wk);
        CHECK(ready == (st.pending <= w->max_pending));
        if (!ready) {
            spine_wait_idle(p->s);
            CHECK(woken == before + 1);
        }
    } else {
        kcur *k = &w->kept[below(NKEPT)];
        spine_cursor_free(k->c);
        el_free(&k->m);
        const spine *const arr[1] = {p->s};
        CHECK(spine_cursor_new(arr, 1, NULL, 0, &k->c) == IVM_OK);
        el_add(&k->m, &p->m, 1);
        el_consolidate(&k->m);
    }
    for (size_t i = 0; i < w->nsp; i++)
        check_sp(w, &w->sp[i]);
    for (int i = 0; i < NKEPT; i++) {
        if (w->kept[i].c == NULL)
            continue;
        check_cursor(w->kept[i].c, &w->kept[i].m);
        check_seek(w->kept[i].c, &w->kept[i].m, &w->d);
        if (below(4) == 0)
            check_seek_walk(w->kept[i].c, &w->kept[i].m, &w->d);
    }
}

static void run_case(int steps)
{
    world w;
    memset(&w, 0, sizeof w);
    w.nsp = 1 + below(MAXSP);
    w.d.small = below(2) == 0;
    w.d.keys = 50 + below(5000);
    w.maxn = below(3) == 0 ? 40 : 400 + below(2000);
    w.maxbudget = 1 + below(50000);
    w.max_pending = 1 + (uint32_t)below(40);
    CHECK(spine_merger_new_manual(&w.mg) == IVM_OK);
    for (size_t i = 0; i < w.nsp; i++)
        sp_open(&w, &w.sp[i]);
    for (cur_step = 0; cur_step < steps; cur_step++)
        step(&w);
    while (spine_merger_work(w.mg, 1 + below(1000)))
        ;
    for (size_t i = 0; i < w.nsp; i++) {
        check_sp(&w, &w.sp[i]);
        CHECK(w.sp[i].last.pending == 0);
        CHECK(w.sp[i].last.batches <= rest_bound(w.sp[i].last.rows));
    }
    for (int i = 0; i < NKEPT; i++) {
        spine_cursor_free(w.kept[i].c);
        el_free(&w.kept[i].m);
    }
    for (size_t i = 0; i < w.nsp; i++) {
        spine_free(w.sp[i].s);
        el_free(&w.sp[i].m);
    }
    spine_merger_free(w.mg);
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    int cases = -1, steps = 300;
    double seconds = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--cases") == 0)
            cases = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--steps") == 0)
            steps = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: prop_spine [--seed S] [--cases N] [--steps M] [--seconds T]\n");
            return 2;
        }
    }
    if (cases < 0 && seconds < 0)
        cases = 20;
    cur_seed = seed;
    rng_state = seed;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int done = 0;
    for (cur_case = 0; cases < 0 || cur_case < cases; cur_case++) {
        if (seconds >= 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
                break;
        }
        run_case(steps);
        done++;
    }
    printf("prop_spine: seed %llu: %d cases of %d steps passed\n", (unsigned long long)seed, done,
           steps);
    return 0;
}
