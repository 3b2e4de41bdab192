/*
 * bench_util.c: clock, memory, JSON and result checksums for the
 * benchmark programs (bench_util.h).  Nothing here is timed itself.
 */
#include "bench_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double bench_max_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_maxrss / 1024.0;
}

double bench_rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    unsigned long size = 0, resident = 0;
    int k = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (k != 2)
        return 0;
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

void bench_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t value_hash(const ivm_value *v)
{
    switch (v->type) {
    case IVM_TNULL:
        return mix(1);
    case IVM_TINT:
        return mix((uint64_t)v->u.i ^ 0x5555);
    case IVM_TREAL: {
        double r = v->u.r;
        if (r == floor(r) && fabs(r) < 9e15)
            return mix((uint64_t)(int64_t)r ^ 0x5555);
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%.12g", r);
        return ivm_hash_bytes(buf, (size_t)n, 2);
    }
    case IVM_TTEXT:
        return ivm_hash_bytes(v->u.s.p, v->u.s.n, 3);
    }
    return 0;
}

void bench_sum_row(bench_sum *s, const ivm_value *vals, uint32_t ncols)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (uint32_t i = 0; i < ncols; i++)
        h = mix(h * 0x100000001b3ULL + value_hash(&vals[i]));
    s->rows++;
    s->hash += h;
}

/* Column i of the current row of st as an ivm value (text borrowed). */
static ivm_value sqlite_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return ivm_value_int(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return ivm_value_real(sqlite3_column_double(st, i));
    case SQLITE_NULL:
        return ivm_value_null();
    default: {
        const char *p = (const char *)sqlite3_column_text(st, i);
        return ivm_value_text(p, (uint32_t)sqlite3_column_bytes(st, i));
    }
    }
}

void bench_sum_sqlite_cols(bench_sum *s, sqlite3_stmt *st, const uint32_t *idx, uint32_t n)
{
    ivm_value vals[64];
    int ncols = sqlite3_column_count(st);
    if (n > 64)
        n = 64;
    for (uint32_t k = 0; k < n; k++)
        vals[k] = (int)idx[k] < ncols ? sqlite_value(st, (int)idx[k]) : ivm_value_null();
    bench_sum_row(s, vals, n);
}

void bench_sum_sqlite_row(bench_sum *s, sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st);
    ivm_value vals[64];
    if (n > 64)
        n = 64;
    for (int i = 0; i < n; i++) {
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            vals[i] = ivm_value_int(sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            vals[i] = ivm_value_real(sqlite3_column_double(st, i));
            break;
        case SQLITE_NULL:
            vals[i] = ivm_value_null();
            break;
        default: {
            const char *p = (const char *)sqlite3_column_text(st, i);
            vals[i] = ivm_value_text(p, (uint32_t)sqlite3_column_bytes(st, i));
        }
        }
    }
    bench_sum_row(s, vals, (uint32_t)n);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

double bench_quantile_us(uint64_t *ns, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(ns, n, sizeof *ns, cmp_u64);
    size_t i = (size_t)(q * (double)n);
    if (i >= n)
        i = n - 1;
    return (double)ns[i] / 1e3;
}
