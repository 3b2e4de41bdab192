/*
 * fault.c: fault injection.  A specification ("merger:fail@3,catalog:load@1/2")
 * names points where rt_fault returns true on purpose so that tests can make
 * processes fail and watch their supervisors.  The specification comes from
 * IVM_FAULT, read once on first use, or from rt_fault_set.  Each entry keeps
 * its own hit counter for as long as the specification is in force, so the
 * count goes on across restarts of the process that calls rt_fault.  When
 * nothing is configured rt_fault is one relaxed atomic load; otherwise it
 * takes a read lock, so a specification is never freed under a reader.  What
 * happens after a fault (the process reports a failure) is up to the caller.
 * Syntax and invariant R10 in runtime/README.md.
 */
#include "runtime.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

typedef struct fault_point {
    const char *proc;          /* into the spec's text copy */
    const char *point;
    uint64_t first;            /* N: the first hit that fires */
    uint64_t every;            /* M: then every M hits; 0 = only once */
    _Atomic uint64_t hits;     /* rt_fault calls that matched so far */
} fault_point;

typedef struct fault_spec {
    uint32_t n;
    char *text;                /* NUL-separated names live here */
    fault_point points[];
} fault_spec;

/* What rt_fault sees: NULL when nothing is configured.  Until IVM_FAULT has
 * been read it holds &unread, so the first caller goes the slow way and
 * reads it.  Written only under `lock` (write side); see rt_fault for the
 * readers. */
static fault_spec unread;
static _Atomic(fault_spec *) active = &unread;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void spec_free(fault_spec *s)
{
    if (s == NULL || s == &unread)
        return;
    ivm_free(s->text);
    ivm_free(s);
}

static bool is_name_char(char c)
{
    return c != '\0' && c != ':' && c != '@' && c != ',' && c != '/' &&
           !isspace((unsigned char)c);
}

/* Reads a decimal number >= 1 at *p; advances *p. */
static bool parse_count(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s)) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        s++;
    }
    if (v == 0)
        return false;
    *p = s;
    *out = v;
    return true;
}

/* Parses text into a new spec; NULL text or one of only blanks gives an
 * empty spec (*out = NULL).  On a syntax error returns IVM_INVALID with a
 * reason in why. */
static ivm_rc spec_parse(const char *text, fault_spec **out, char *why, size_t whycap)
{
    *out = NULL;
    if (text == NULL)
        return IVM_OK;
    size_t len = strlen(text);
    uint32_t entries = 1;
    bool blank = true;
    for (size_t i = 0; i < len; i++) {
        entries += text[i] == ',';
        blank = blank && isspace((unsigned char)text[i]);
    }
    if (blank)
        return IVM_OK;

    fault_spec *s = ivm_calloc(1, sizeof *s + entries * sizeof s->points[0]);
    char *copy = ivm_malloc(len + 1);
    if (s == NULL || copy == NULL) {
        ivm_free(s);
        ivm_free(copy);
        snprintf(why, whycap, "out of memory");
        return IVM_NOMEM;
    }
    s->text = copy;
    /* Names are copied into copy, each followed by a NUL, in order. */
    char *dst = copy;
    const char *p = text;
    for (uint32_t e = 0; e < entries; e++) {
        fault_point *fp = &s->points[e];
        while (isspace((unsigned char)*p))
            p++;
        const char *proc = p;
        while (is_name_char(*p))
            p++;
        size_t plen = (size_t)(p - proc);
        if (plen == 0 || *p != ':') {
            snprintf(why, whycap, "entry %u: expected a process name and ':'", e + 1);
            goto bad;
        }
        p++;
        const char *point = p;
        while (is_name_char(*p))
            p++;
        size_t qlen = (size_t)(p - point);
        if (qlen == 0 || *p != '@') {
            snprintf(why, whycap, "entry %u: expected a point name and '@'", e + 1);
            goto bad;
        }
        p++;
        if (!parse_count(&p, &fp->first)) {
            snprintf(why, whycap, "entry %u: expected a count N >= 1 after '@'", e + 1);
            goto bad;
        }
        if (*p == '/') {
            p++;
            if (!parse_count(&p, &fp->every)) {
                snprintf(why, whycap, "entry %u: expected a period M >= 1 after '/'", e + 1);
                goto bad;
            }
        }
        while (isspace((unsigned char)*p))
            p++;
        if (*p != (e + 1 < entries ? ',' : '\0')) {
            snprintf(why, whycap, "entry %u: unexpected '%c'", e + 1, *p);
            goto bad;
        }
        if (*p == ',')
            p++;
        memcpy(dst, proc, plen);
        dst[plen] = '\0';
        fp->proc = dst;
        dst += plen + 1;
        memcpy(dst, point, qlen);
        dst[qlen] = '\0';
        fp->point = dst;
        dst += qlen + 1;
        atomic_init(&fp->hits, 0);
    }
    s->n = entries;
    *out = s;
    return IVM_OK;

bad:
    spec_free(s);
    return IVM_INVALID;
}

static void report_bad(const char *source, const char *text, const char *why)
{
    fprintf(stderr,
            "ivm: %s: bad fault specification \"%s\": %s (expected "
            "proc:point@N or proc:point@N/M, comma separated); ignored\n",
            source, text, why);
}

/* Replaces the active spec; the old one is freed once no reader holds it. */
static void install(fault_spec *s)
{
    pthread_rwlock_wrlock(&lock);
    fault_spec *old = atomic_load_explicit(&active, memory_order_relaxed);
    /* Relaxed is enough: readers that see non-NULL take the read lock, which
     * orders the spec's contents; a reader that sees a stale NULL only
     * misses a fault that is being configured at that very moment. */
    atomic_store_explicit(&active, s, memory_order_relaxed);
    pthread_rwlock_unlock(&lock);
    spec_free(old);
}

/* Reads IVM_FAULT once.  A bad value is reported once and ignored. */
static void load_env(void)
{
    const char *text = getenv("IVM_FAULT");
    char why[128];
    fault_spec *s = NULL;
    if (spec_parse(text, &s, why, sizeof why) != IVM_OK) {
        report_bad("IVM_FAULT", text, why);
        s = NULL;
    }
    install(s);
}

ivm_rc rt_fault_set(const char *spec)
{
    /* The environment is read first, so it can never replace a spec set
     * here later on. */
    pthread_once(&env_once, load_env);
    char why[128];
    fault_spec *s = NULL;
    ivm_rc rc = spec_parse(spec, &s, why, sizeof why);
    if (rc != IVM_OK) {
        report_bad("rt_fault_set", spec, why);
        return rc;
    }
    install(s);
    return IVM_OK;
}

static bool fires(uint64_t hit, const fault_point *fp)
{
    if (hit == fp->first)
        return true;
    return fp->every != 0 && hit > fp->first && (hit - fp->first) % fp->every == 0;
}

bool rt_fault(const char *proc, const char *point)
{
    /* Keeps R10: nothing configured costs this one relaxed load.  It orders
     * nothing; the slow path below rereads under the lock. */
    if (atomic_load_explicit(&active, memory_order_relaxed) == NULL)
        return false;
    pthread_once(&env_once, load_env);

    bool fire = false;
    uint64_t hit = 0, fired_hit = 0;
    pthread_rwlock_rdlock(&lock);
    fault_spec *s = atomic_load_explicit(&active, memory_order_relaxed);
    for (uint32_t i = 0; s != NULL && i < s->n; i++) {
        fault_point *fp = &s->points[i];
        if (strcmp(fp->proc, proc) != 0 || strcmp(fp->point, point) != 0)
            continue;
        /* Relaxed: each hit only needs its own number; two callers can
         * never get the same one. */
        hit = atomic_fetch_add_explicit(&fp->hits, 1, memory_order_relaxed) + 1;
        /* Every matching entry counts this call, whether or not another
         * one fires. */
        if (fires(hit, fp) && !fire) {
            fire = true;
            fired_hit = hit;
        }
    }
    pthread_rwlock_unlock(&lock);
    if (fire)
        rt_log("fault %s:%s@%llu", proc, point, (unsigned long long)fired_hit);
    return fire;
}
