/*
 * progress.c: the progress line that .load and --load draw on standard
 * error while a change file loads, and the byte sizes the shell reads and
 * prints (--memory-limit, .limit, the progress line).  The line is drawn
 * only when standard error is a terminal and progress is on (.progress,
 * --no-progress), at most ten times a second and not before a load has run
 * for a fifth of a second, so short loads, tests and pipes never see it; it
 * is erased when the load ends.  It knows nothing of the engine (SH1).  See
 * shell/README.md (change streams, progress).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shell_int.h"

#define FIRST_NS  200000000ull  /* no line for loads shorter than this */
#define EVERY_NS  100000000ull  /* at most ten redraws a second */
#define BAR_WIDTH 20

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- Sizes ----------------------------------------------------------------------- */

bool shell_parse_size(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
            return false;
        v = v * 10 + d;
    }
    unsigned shift = 0;
    switch (*s) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    case 'b': case 'B': case '\0': break;
    default: return false;
    }
    if (shift > 0) {
        s++;
        if ((s[0] == 'i' || s[0] == 'I') && (s[1] == 'B' || s[1] == 'b'))
            s += 2;
        else if (s[0] == 'B' || s[0] == 'b')
            s++;
    } else if (*s == 'B' || *s == 'b') {
        s++;
    }
    if (*s != '\0' || (shift > 0 && v > (UINT64_MAX >> shift)))
        return false;
    *out = v << shift;
    return true;
}

size_t shell_format_size(uint64_t n, char *buf, size_t cap)
{
    static const char units[] = "KMGTPE";
    if (n < 1024)
        return (size_t)snprintf(buf, cap, "%llu B", (unsigned long long)n);
    double v = (double)n / 1024;
    int u = 0;
    while (v >= 1024 && units[u + 1] != '\0') {
        v /= 1024;
        u++;
    }
    return (size_t)snprintf(buf, cap, "%.1f %ciB", v, units[u]);
}

/* ---- The progress line ---------------------------------------------------------------- */

size_t shell_progress_format(char *buf, size_t cap, const char *table, uint64_t rows,
                             uint64_t bytes, uint64_t total, double secs)
{
    size_t o = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
#define PUT(...) \
    do { \
        if (o < cap) \
            o += (size_t)snprintf(buf + o, cap - o, __VA_ARGS__); \
    } while (0)
    PUT("%s: ", table);
    if (total > 0) {
        uint64_t b = bytes > total ? total : bytes;
        unsigned pct = (unsigned)(b * 100 / total);
        unsigned fill = (unsigned)(b * BAR_WIDTH / total);
        char bar[BAR_WIDTH + 1];
        for (unsigned i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        char done[32], all[32];
        shell_format_size(b, done, sizeof done);
        shell_format_size(total, all, sizeof all);
        PUT("[%s] %3u%% %llu rows, %s of %s", bar, pct, (unsigned long long)rows, done, all);
    } else {
        PUT("%llu rows", (unsigned long long)rows);
    }
    if (secs > 0)
        PUT(", %.0f rows/s", (double)rows / secs);
#undef PUT
    return o < cap ? o : cap - 1;
}

void shell_progress_begin(shell_progress *p, const shell *sh, const char *table, FILE *fp)
{
    memset(p, 0, sizeof *p);
    p->on = sh->progress && isatty(STDERR_FILENO);
    if (!p->on)
        return;
    snprintf(p->table, sizeof p->table, "%s", table);
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        p->total = (uint64_t)st.st_size;
    p->start_ns = now_ns();
    p->next_ns = p->start_ns + FIRST_NS;
}

void shell_progress_draw(shell_progress *p, uint64_t rows, FILE *fp)
{
    uint64_t t = now_ns();
    if (t < p->next_ns)
        return;
    p->next_ns = t + EVERY_NS;
    uint64_t bytes = 0;
    if (p->total > 0) {
        off_t pos = ftello(fp);
        bytes = pos > 0 ? (uint64_t)pos : 0;
    }
    char line[256];
    shell_progress_format(line, sizeof line, p->table, rows, bytes, p->total,
                          (double)(t - p->start_ns) / 1e9);
    /* Back to the line's start, the text, then erase what an older,
     * longer line left to its right. */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->drawn = true;
}

void shell_progress_end(shell_progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        /* Not back at once: a line redrawn right after every commit of
         * a load that commits often would flicker. */
        p->next_ns = now_ns() + EVERY_NS;
    }
    p->drawn = false;
}
