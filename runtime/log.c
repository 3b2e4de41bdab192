/*
 * log.c: the supervision log.  rt_log formats one line into a ring of the
 * last LOG_LINES lines kept in memory (rt_log_dump reads them back, oldest
 * first) and, when IVM_LOG=1 is set in the environment, also writes it to
 * standard error.  It is meant for rare events (starts, exits, restarts,
 * injected faults), not for per-row tracing: every line takes one mutex.
 * Invariant R17 in runtime/README.md.
 */
#include "runtime.h"

#include <pthread.h>
#include <stdio.h>

enum { LOG_LINES = 256, LOG_LINE_MAX = 160 };

static struct {
    pthread_mutex_t mu;           /* guards lines, next and count */
    char lines[LOG_LINES][LOG_LINE_MAX];
    uint32_t next;                /* slot the next line goes to */
    uint32_t count;               /* lines held, <= LOG_LINES */
} ring = {.mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static bool to_stderr;

static void read_env(void)
{
    const char *v = getenv("IVM_LOG");
    to_stderr = v != NULL && strcmp(v, "1") == 0;
}

void rt_log(const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* pthread_once orders the write of to_stderr before every reader. */
    pthread_once(&env_once, read_env);

    pthread_mutex_lock(&ring.mu);
    memcpy(ring.lines[ring.next], line, sizeof line);
    ring.next = (ring.next + 1) % LOG_LINES;
    if (ring.count < LOG_LINES)
        ring.count++;
    pthread_mutex_unlock(&ring.mu);

    if (to_stderr)
        fprintf(stderr, "ivm: %s\n", line);
}

void rt_log_dump(void (*fn)(void *arg, const char *line), void *arg)
{
    /* fn runs on a copy, outside the lock, so it may log or take its time. */
    char(*copy)[LOG_LINE_MAX] = ivm_malloc(sizeof ring.lines);
    if (copy == NULL)
        return;
    pthread_mutex_lock(&ring.mu);
    uint32_t n = ring.count;
    uint32_t first = (ring.next + LOG_LINES - n) % LOG_LINES;
    for (uint32_t i = 0; i < n; i++)
        memcpy(copy[i], ring.lines[(first + i) % LOG_LINES], LOG_LINE_MAX);
    pthread_mutex_unlock(&ring.mu);
    for (uint32_t i = 0; i < n; i++)
        fn(arg, copy[i]);
    ivm_free(copy);
}
