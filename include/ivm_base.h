/*
 * ivm_base.h: project-wide basics shared by every module: status codes, the
 * error context that carries messages for people, allocation wrappers, typed
 * values and a byte hash.  Nothing here knows about SQL, circuits or threads;
 * it is implemented in runtime/base.c, the lowest module.
 */
#ifndef IVM_BASE_H
#define IVM_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Status codes.  A function that can fail returns one of these and writes its
 * outputs only on IVM_OK. */
typedef enum ivm_rc {
    IVM_OK = 0,
    IVM_NOMEM,       /* an allocation failed */
    IVM_INVALID,     /* bad argument or bad input value */
    IVM_SYNTAX,      /* SQL text does not parse */
    IVM_SCHEMA,      /* unknown, ambiguous or duplicate name; type mismatch */
    IVM_UNSUPPORTED, /* valid SQL that ivm does not maintain (yet) */
    IVM_CONSTRAINT,  /* PRIMARY KEY, UNIQUE or NOT NULL violated */
    IVM_IO,          /* a file or pipe failed */
    IVM_CORRUPT,     /* stored state is inconsistent */
    IVM_BUSY,        /* the object is in use (for example a transaction is open) */
    IVM_INTERNAL,    /* a broken invariant: a bug in ivm */
    IVM_PENDING,     /* cooperative: cannot progress now, a waker is registered */
    IVM_RC_COUNT
} ivm_rc;

/* Static name of a status code, for example "IVM_SYNTAX" -> "syntax error". */
const char *ivm_rc_str(ivm_rc rc);

/* An error context: the first failure of an operation, with a message for
 * people.  line and col are 1-based positions in SQL text, 0 when unknown.
 * Not thread-safe: one context per thread of control. */
#define IVM_ERR_MSG_MAX 512
typedef struct ivm_err {
    ivm_rc rc;
    uint32_t line, col;
    char msg[IVM_ERR_MSG_MAX];
} ivm_err;

/* Clears the context to IVM_OK with an empty message. */
void ivm_err_clear(ivm_err *err);
/* Records rc with a printf-style message and returns rc.  err may be NULL.
 * An error already recorded is kept (the first failure is the one reported). */
ivm_rc ivm_err_set(ivm_err *err, ivm_rc rc, uint32_t line, uint32_t col,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Like ivm_err_set but replaces an existing error. */
ivm_rc ivm_err_reset(ivm_err *err, ivm_rc rc, uint32_t line, uint32_t col,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Allocation wrappers.  jemalloc is linked as the process allocator, so these
 * are thin; they never abort: callers handle NULL as IVM_NOMEM.  A fault
 * injection point may make them fail in tests. */
void *ivm_malloc(size_t n);
void *ivm_calloc(size_t count, size_t size);
void *ivm_realloc(void *p, size_t n);
void ivm_free(void *p);
char *ivm_strndup(const char *s, size_t n);

/* Grows *buf (of *cap elements of elem bytes) to hold at least need elements,
 * doubling.  Returns IVM_NOMEM and leaves *buf untouched on failure. */
ivm_rc ivm_grow(void **buf, size_t *cap, size_t need, size_t elem);
/* The capacity ivm_grow moves to from cap (doubling from at least 8) to
 * hold need elements of elem bytes; false if its byte size would overflow.
 * For growers that allocate their own way (runtime/mem.c). */
bool ivm_grow_cap(size_t cap, size_t need, size_t elem, size_t *ncap_out);

#ifdef NDEBUG
#define IVM_ASSERT(cond) ((void)0)
#else
/* Prints the failed assertion and aborts: it never returns, which lets the
 * compiler drop tests that an assertion has already made (a check of the
 * same condition right after one, as input paths keep for NDEBUG). */
_Noreturn void ivm_assert_fail(const char *expr, const char *file, int line);
#define IVM_ASSERT(cond) \
    ((cond) ? (void)0 : ivm_assert_fail(#cond, __FILE__, __LINE__))
#endif

/* Invariant checks that cost time in proportion to the data (scanning a
 * value's bytes) on paths taken per row: only in builds that define
 * IVM_SLOW_CHECKS (`make asan`, `make tsan`).  IVM_ASSERT's constant-time
 * checks stay on in every build without NDEBUG. */
#if defined(IVM_SLOW_CHECKS) && !defined(NDEBUG)
#define IVM_ASSERT_SLOW(cond) IVM_ASSERT(cond)
#else
#define IVM_ASSERT_SLOW(cond) ((void)0)
#endif

#define IVM_UNUSED(x) ((void)(x))
#define IVM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IVM_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Storage classes of values, as SQLite has them.  A column's declared type
 * (INTEGER, BIGINT, BOOLEAN -> INT; REAL, DOUBLE, FLOAT -> REAL; TEXT,
 * VARCHAR -> TEXT) fixes the class of its non-NULL values. */
typedef enum ivm_type {
    IVM_TNULL = 0,
    IVM_TINT = 1,
    IVM_TREAL = 2,
    IVM_TTEXT = 3
} ivm_type;

/* A typed value.  Text is a borrowed byte slice (not NUL-terminated, never
 * containing a NUL byte); its lifetime is stated by whoever hands it out. */
typedef struct ivm_value {
    ivm_type type;
    union {
        int64_t i;
        double r;
        struct {
            const char *p;
            uint32_t n;
        } s;
    } u;
} ivm_value;

static inline ivm_value ivm_value_null(void)
{
    ivm_value v;
    v.type = IVM_TNULL;
    v.u.i = 0;
    return v;
}
static inline ivm_value ivm_value_int(int64_t i)
{
    ivm_value v;
    v.type = IVM_TINT;
    v.u.i = i;
    return v;
}
static inline ivm_value ivm_value_real(double r)
{
    ivm_value v;
    v.type = IVM_TREAL;
    v.u.r = r;
    return v;
}
static inline ivm_value ivm_value_text(const char *p, uint32_t n)
{
    ivm_value v;
    v.type = IVM_TTEXT;
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

/* Formats a REAL as SQLite prints it ("%!.15g": 2.0, 0.1, 1.0e+20, Inf) into
 * buf (at least 32 bytes); returns the length. */
size_t ivm_format_real(double r, char *buf, size_t cap);

/* 64-bit hash of a byte string: fast, allocation-free, good avalanche.  Used
 * to shard keys across workers and for hash tables; stable across runs. */
static inline uint64_t ivm_hash_mix(uint64_t a, uint64_t b)
{
    __uint128_t m = (__uint128_t)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}
static inline uint64_t ivm_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = (const uint8_t *)data;
    const uint64_t k0 = 0x9e3779b97f4a7c15ULL, k1 = 0xbf58476d1ce4e5b9ULL;
    uint64_t h = seed ^ (n * k0);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = ivm_hash_mix(h ^ w, k1);
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = ivm_hash_mix(h ^ w ^ ((uint64_t)n << 56), k1);
    }
    return ivm_hash_mix(h, k0);
}

#endif /* IVM_BASE_H */
