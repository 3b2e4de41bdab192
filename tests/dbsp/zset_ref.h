/*
 * zset_ref.h: the reference model the dbsp tests compare circuits against: a
 * Z-set as a plain array of (encoded row, weight), consolidated by sorting,
 * plus a deterministic random generator and helpers to feed a host and read
 * its outputs into this model.  Deliberately simple and slow: it shares no
 * code with the operators but the row encoding.
 */
#ifndef ZSET_REF_H
#define ZSET_REF_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "dbsp.h"

/* ---- Random numbers (xorshift64*), fixed seeds ----------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t rng_next(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n). */
static inline uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

/* ---- Z-sets ------------------------------------------------------------------ */

typedef struct zrow {
    uint8_t *b;
    size_t len;
    uint32_t klen;
    int64_t w;
} zrow;

typedef struct zset {
    zrow *r;
    size_t n, cap;
} zset;

static inline void zset_init(zset *z)
{
    z->r = NULL;
    z->n = z->cap = 0;
}

static inline void zset_clear(zset *z)
{
    for (size_t i = 0; i < z->n; i++)
        free(z->r[i].b);
    z->n = 0;
}

static inline void zset_free(zset *z)
{
    zset_clear(z);
    free(z->r);
    zset_init(z);
}

static inline void zset_add_bytes(zset *z, const uint8_t *b, size_t len, uint32_t klen, int64_t w)
{
    if (z->n == z->cap) {
        z->cap = z->cap ? 2 * z->cap : 16;
        z->r = realloc(z->r, z->cap * sizeof *z->r);
        assert_non_null(z->r);
    }
    zrow *r = &z->r[z->n++];
    r->b = malloc(len ? len : 1);
    assert_non_null(r->b);
    if (len)
        memcpy(r->b, b, len);
    r->len = len;
    r->klen = klen;
    r->w = w;
}

static inline void zset_add_vals(zset *z, const ivm_value *vals, uint32_t ncols, uint32_t nkey,
                                 int64_t w)
{
    uint8_t buf[1024];
    size_t len = spine_row_size(vals, ncols);
    assert_true(len <= sizeof buf);
    spine_row_encode(vals, ncols, buf);
    zset_add_bytes(z, buf, len, (uint32_t)spine_row_size(vals, nkey), w);
}

static inline int zrow_cmp(const void *a, const void *b)
{
    const zrow *x = a, *y = b;
    return spine_row_cmp(x->b, x->len, y->b, y->len);
}

/* Sorts by row bytes (which is (key, value) order), sums equal rows and
 * drops zero weights. */
static inline void zset_consolidate(zset *z)
{
    if (z->n == 0)
        return;
    qsort(z->r, z->n, sizeof *z->r, zrow_cmp);
    size_t m = 0;
    for (size_t i = 0; i < z->n; i++) {
        if (m > 0 && zrow_cmp(&z->r[m - 1], &z->r[i]) == 0) {
            z->r[m - 1].w += z->r[i].w;
            free(z->r[i].b);
            continue;
        }
        z->r[m++] = z->r[i];
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (z->r[i].w == 0)
            free(z->r[i].b);
        else
            z->r[k++] = z->r[i];
    }
    z->n = k;
}

/* z += sign * o, consolidated. */
static inline void zset_add_zset(zset *z, const zset *o, int64_t sign)
{
    for (size_t i = 0; i < o->n; i++)
        zset_add_bytes(z, o->r[i].b, o->r[i].len, o->r[i].klen, sign * o->r[i].w);
    zset_consolidate(z);
}

static inline void zset_copy(zset *dst, const zset *src)
{
    zset_clear(dst);
    zset_add_zset(dst, src, 1);
}

static inline void zset_from_batch(zset *z, const spine_batch *b)
{
    zset_clear(z);
    for (size_t i = 0; i < b->n; i++) {
        size_t len;
        const uint8_t *row = spine_batch_row(b, i, &len);
        zset_add_bytes(z, row, len, b->klen[i], b->w[i]);
    }
}

static inline void zset_from_cursor(zset *z, spine_cursor *c)
{
    zset_clear(z);
    uint8_t buf[2048];
    for (spine_cursor_rewind(c); spine_cursor_key_valid(c); spine_cursor_step_key(c)) {
        size_t klen;
        const uint8_t *k = spine_cursor_key(c, &klen);
        memcpy(buf, k, klen);
        for (; spine_cursor_val_valid(c); spine_cursor_step_val(c)) {
            size_t vlen;
            const uint8_t *v = spine_cursor_val(c, &vlen);
            assert_true(klen + vlen <= sizeof buf);
            memcpy(buf + klen, v, vlen);
            zset_add_bytes(z, buf, klen + vlen, (uint32_t)klen, spine_cursor_weight(c));
        }
    }
}

/* A batch holding z (through an unsorted builder, so in any order). */
static inline spine_batch *zset_to_batch(const zset *z)
{
    spine_builder b;
    spine_builder_init(&b);
    for (size_t i = z->n; i-- > 0;)
        assert_int_equal(spine_builder_push(&b, z->r[i].b, z->r[i].klen, z->r[i].b + z->r[i].klen,
                                            z->r[i].len - z->r[i].klen, z->r[i].w),
                         IVM_OK);
    spine_batch *out = NULL;
    assert_int_equal(spine_builder_finish(&b, &out), IVM_OK);
    spine_builder_fini(&b);
    return out;
}

static inline int zrow_decode(const zrow *r, ivm_value *vals, uint32_t max)
{
    return spine_row_decode(r->b, r->len, vals, max);
}

static inline void zset_print(const char *name, const zset *z)
{
    fprintf(stderr, "%s (%zu rows):\n", name, z->n);
    for (size_t i = 0; i < z->n; i++) {
        ivm_value v[32];
        int nv = zrow_decode(&z->r[i], v, 32);
        fprintf(stderr, "  w=%lld klen=%u (", (long long)z->r[i].w, z->r[i].klen);
        for (int k = 0; k < nv; k++) {
            if (k)
                fprintf(stderr, ", ");
            switch (v[k].type) {
            case IVM_TNULL:
                fprintf(stderr, "NULL");
                break;
            case IVM_TINT:
                fprintf(stderr, "%lld", (long long)v[k].u.i);
                break;
            case IVM_TREAL:
                fprintf(stderr, "%.17g", v[k].u.r);
                break;
            default:
                fprintf(stderr, "'%.*s'", (int)v[k].u.s.n, v[k].u.s.p);
                break;
            }
        }
        fprintf(stderr, ")\n");
    }
}

static inline bool zset_equal(const zset *a, const zset *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (zrow_cmp(&a->r[i], &b->r[i]) != 0 || a->r[i].w != b->r[i].w ||
            a->r[i].klen != b->r[i].klen)
            return false;
    return true;
}

/* Fails the test with both sides printed and the coordinates of the case. */
static inline void zset_expect(const char *what, const zset *got, const zset *want,
                               uint32_t nworkers, uint64_t seed, int step)
{
    if (zset_equal(got, want))
        return;
    fprintf(stderr, "%s differs: workers=%u seed=%llu step=%d\n", what, (unsigned)nworkers,
            (unsigned long long)seed, step);
    zset_print("got", got);
    zset_print("want", want);
    fail();
}

#endif /* ZSET_REF_H */
