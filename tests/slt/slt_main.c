/*
 * slt_main.c: ivm-slt, the sqllogictest runner's command line.
 *
 *   ivm-slt [--mode adhoc|view|both] [--max-records N] [--verbose] [--quiet]
 *           [--trace] [--workers N] [--timeout SECONDS] [--failures N]
 *           [--counts FILE] [--expect FILE] [--no-fork] FILE|DIR...
 *
 * A directory stands for every *.test file below it (sorted, named relative
 * to the directory).  Each file is parsed once; each mode then runs in a
 * child process of its own (fork) with a fresh ivm_db and a time limit, so
 * that a crash, a hang or a broken engine state in one pass disturbs nothing
 * else: the child keeps its counts in shared memory as it goes, and the
 * parent reports a crash or a timeout with the counts so far.  Prints one
 * summary line per file and mode, the first failures, and a total per mode.
 * The exit status is 0 unless the runner itself failed (2: unreadable or
 * malformed file, bad option, runner error) or, with --expect, the counts
 * differ from the expected ones (1).  See tests/slt/README.md.
 */
#include "slt.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAIL_TEXT_MAX (48 * 1024)

/* What a child pass shares with the parent. */
typedef struct shared {
    slt_counts counts;
    bool runner_failed;
    char runner_err[256];
    uint32_t nfailures;       /* failures reported */
    uint32_t nshown;          /* of them, written to text */
    size_t ntext;
    char text[FAIL_TEXT_MAX];
} shared;

typedef struct options {
    bool modes[2];
    uint32_t max_records;
    bool verbose;
    bool quiet;               /* per-file lines only for crashes, timeouts, errors */
    bool trace;               /* print every statement sent to ivm */
    uint32_t workers;
    double timeout;
    uint32_t max_failures;
    const char *counts_path;
    const char *expect_path;
    bool no_fork;
} options;

typedef struct file_ent {
    char *path;               /* to open */
    char *name;               /* to print */
} file_ent;

typedef struct totals {
    uint64_t q_passed, q_failed, q_unsupported, q_unchecked;
    uint64_t s_ok, s_failed;
    uint32_t files, crashed, timed_out, errors;
    double seconds;
} totals;

static options opt;
static totals tot[2];
static bool harness_error;

/* ---- Files ------------------------------------------------------------------- */

static file_ent *files;
static size_t nfiles, capfiles;

static void die_nomem(void)
{
    fprintf(stderr, "ivm-slt: out of memory\n");
    exit(2);
}

static char *dup_str(const char *s)
{
    char *p = ivm_strndup(s, strlen(s));
    if (p == NULL)
        die_nomem();
    return p;
}

static void add_file(const char *path, const char *name)
{
    if (ivm_grow((void **)&files, &capfiles, nfiles + 1, sizeof *files) != IVM_OK)
        die_nomem();
    files[nfiles].path = dup_str(path);
    files[nfiles].name = dup_str(name);
    nfiles++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every *.test file below dir (rel: its name relative to the root). */
static bool scan_dir(const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "ivm-slt: cannot read directory %s: %s\n", dir, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (ivm_grow((void **)&names, &cap, n + 1, sizeof *names) != IVM_OK)
            die_nomem();
        names[n++] = dup_str(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        size_t lp = strlen(dir) + strlen(names[i]) + 2;
        size_t lr = strlen(rel) + strlen(names[i]) + 2;
        char *path = ivm_malloc(lp), *name = ivm_malloc(lr);
        if (path == NULL || name == NULL)
            die_nomem();
        snprintf(path, lp, "%s/%s", dir, names[i]);
        snprintf(name, lr, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        struct stat st;
        if (stat(path, &st) != 0) {
            fprintf(stderr, "ivm-slt: cannot stat %s: %s\n", path, strerror(errno));
            ok = false;
        } else if (S_ISDIR(st.st_mode)) {
            ok = scan_dir(path, name) && ok;
        } else if (S_ISREG(st.st_mode)) {
            size_t l = strlen(names[i]);
            if (l > 5 && strcmp(names[i] + l - 5, ".test") == 0)
                add_file(path, name);
        }
        ivm_free(path);
        ivm_free(name);
        ivm_free(names[i]);
    }
    ivm_free(names);
    return ok;
}

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "ivm-slt: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (ivm_grow((void **)&buf, &cap, n + 65536, 1) != IVM_OK)
            die_nomem();
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "ivm-slt: cannot read %s\n", path);
        ivm_free(buf);
        return NULL;
    }
    *len_out = n;
    return buf;
}

/* ---- Reporting ------------------------------------------------------------------- */

/* Appends printf output to the shared failure text, as far as it fits. */
static void text_add(shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(shared *sh, const char *fmt, ...)
{
    if (sh->ntext + 1 >= sizeof sh->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sh->text + sh->ntext, sizeof sh->text - sh->ntext, fmt, ap);
    va_end(ap);
    if (n > 0)
        sh->ntext = IVM_MIN(sh->ntext + (size_t)n, sizeof sh->text - 1);
}

/* The SQL on one line (runs of white space become one space), cut with
 * "..." to fit out[0..max), max >= 8. */
static void flat_sql(const char *sql, char *out, size_t max)
{
    size_t k = 0, limit = max - 4; /* room for "..." and the NUL */
    bool space = false, cut = false;
    for (const char *p = sql; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
            space = k > 0;
            continue;
        }
        if (k + (space ? 2 : 1) > limit) {
            cut = true;
            break;
        }
        if (space)
            out[k++] = ' ';
        space = false;
        out[k++] = *p;
    }
    if (cut)
        memcpy(out + k, "...", 3), k += 3;
    out[k] = '\0';
}

static void on_event(void *arg, const slt_event *ev)
{
    shared *sh = arg;
    if (ev->failure)
        sh->nfailures++;
    char sql[400];
    flat_sql(ev->sql ? ev->sql : "", sql, sizeof sql);
    if (opt.verbose) {
        printf("  %s:%u: [%s] %s\n      %s\n      %s\n", ev->file, ev->line,
               slt_mode_name(ev->mode), ev->what, sql, ev->detail);
        return;
    }
    if (!ev->failure || sh->nshown >= opt.max_failures)
        return;
    sh->nshown++;
    text_add(sh, "  %s:%u: [%s] %s\n      %s\n      %s\n", ev->file, ev->line,
             slt_mode_name(ev->mode), ev->what, sql, ev->detail);
}

/* ---- Running a pass -------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void child_pass(const slt_script *s, const file_ent *f, slt_mode mode, shared *sh)
{
    slt_run_opts o = {
        .file = f->name,
        .mode = mode,
        .max_records = opt.max_records,
        .workers = opt.workers,
        .trace = opt.trace ? stdout : NULL,
        .report = on_event,
        .report_arg = sh,
    };
    if (!slt_run(s, &o, &sh->counts, sh->runner_err, sizeof sh->runner_err))
        sh->runner_failed = true;
}

typedef enum outcome { OUT_OK, OUT_CRASH, OUT_TIMEOUT, OUT_ERROR } outcome;

/* Runs one pass in a child process with the time limit; the child's counts
 * and failures are in *sh whatever happens.  *why_out describes a crash. */
static outcome forked_pass(const slt_script *s, const file_ent *f, slt_mode mode, shared *sh,
                           char *why, size_t whycap)
{
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(why, whycap, "pipe: %s", strerror(errno));
        return OUT_ERROR;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whycap, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return OUT_ERROR;
    }
    if (pid == 0) {
        /* The write end stays open until the child ends: the parent waits
         * for its end of file, with a timeout, instead of polling waitpid. */
        close(fds[0]);
        child_pass(s, f, mode, sh);
        /* exit, not _exit: under sanitizers the leak check runs at exit and
         * reports through the exit status. */
        exit(sh->runner_failed ? 3 : 0);
    }
    close(fds[1]);
    double deadline = now() + opt.timeout;
    bool timed_out = false;
    for (;;) {
        double left = deadline - now();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int r = poll(&p, 1, (int)IVM_MIN(left * 1000 + 1, 3600e3));
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0) {
            char c;
            ssize_t k = read(fds[0], &c, 1);
            if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
                break; /* end of file: the child is gone */
        }
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        snprintf(why, whycap, "timed out after %.0f s", opt.timeout);
        return OUT_TIMEOUT;
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, whycap, "crashed: signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
        return OUT_CRASH;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && sh->counts.finished)
        return OUT_OK;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3 && sh->runner_failed) {
        snprintf(why, whycap, "runner error: %s", sh->runner_err);
        return OUT_ERROR;
    }
    snprintf(why, whycap, "crashed: exit status %d%s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
             sh->counts.finished ? " after the pass finished (a sanitizer's report?)" : "");
    return OUT_CRASH;
}

static outcome inline_pass(const slt_script *s, const file_ent *f, slt_mode mode, shared *sh,
                           char *why, size_t whycap)
{
    child_pass(s, f, mode, sh);
    if (sh->runner_failed) {
        snprintf(why, whycap, "runner error: %s", sh->runner_err);
        return OUT_ERROR;
    }
    return OUT_OK;
}

/* ---- Counts for the regression guard ----------------------------------------- */

static char *counts_text;
static size_t ncounts, capcounts;

static void counts_add(const char *line)
{
    size_t n = strlen(line);
    if (ivm_grow((void **)&counts_text, &capcounts, ncounts + n + 1, 1) != IVM_OK)
        die_nomem();
    memcpy(counts_text + ncounts, line, n + 1);
    ncounts += n;
}

static const char *outcome_word(outcome o)
{
    switch (o) {
    case OUT_OK:
        return "ok";
    case OUT_CRASH:
        return "crashed";
    case OUT_TIMEOUT:
        return "timeout";
    default:
        return "error";
    }
}

/* Compares the counts lines with the file; prints the differences. */
static int expect_counts(const char *path)
{
    size_t len;
    char *want = read_file(path, &len);
    if (want == NULL)
        return 2;
    /* Lines starting with '#' are comments. */
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(want + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - want) + 1 : len;
        if (want[i] != '#') {
            memmove(want + k, want + i, end - i);
            k += end - i;
        }
        i = end;
    }
    len = k;
    bool same = len == ncounts && memcmp(want, counts_text ? counts_text : "", len) == 0;
    if (!same) {
        printf("slt: the counts differ from %s (lines with - are expected, + are now):\n", path);
        /* Both are sorted the same way (files, then modes): a line-by-line
         * walk shows what changed. */
        const char *a = want, *ae = want + len, *b = counts_text ? counts_text : "",
                   *be = b + ncounts;
        while (a < ae || b < be) {
            const char *an = a < ae ? memchr(a, '\n', (size_t)(ae - a)) : NULL;
            const char *bn = b < be ? memchr(b, '\n', (size_t)(be - b)) : NULL;
            size_t la = a < ae ? (an ? (size_t)(an - a) : (size_t)(ae - a)) : 0;
            size_t lb = b < be ? (bn ? (size_t)(bn - b) : (size_t)(be - b)) : 0;
            if (a < ae && b < be && la == lb && memcmp(a, b, la) == 0) {
                /* equal */
            } else {
                if (a < ae)
                    printf("  - %.*s\n", (int)la, a);
                if (b < be)
                    printf("  + %.*s\n", (int)lb, b);
            }
            a = a < ae ? a + la + 1 : a;
            b = b < be ? b + lb + 1 : b;
        }
        printf("slt: if the change is intended, update %s (see tests/slt/README.md)\n", path);
    }
    ivm_free(want);
    return same ? 0 : 1;
}

/* ---- One file -------------------------------------------------------------------- */

static void run_file(const file_ent *f, shared *sh)
{
    size_t len;
    char *text = read_file(f->path, &len);
    if (text == NULL) {
        harness_error = true;
        return;
    }
    slt_script s;
    char err[256];
    if (!slt_script_parse(text, len, "sqlite", &s, err, sizeof err)) {
        fprintf(stderr, "ivm-slt: %s: %s\n", f->path, err);
        harness_error = true;
        ivm_free(text);
        return;
    }
    ivm_free(text);
    for (int m = 0; m < 2; m++) {
        if (!opt.modes[m])
            continue;
        memset(sh, 0, sizeof *sh);
        char why[300] = "";
        double t0 = now();
        outcome oc = opt.no_fork ? inline_pass(&s, f, (slt_mode)m, sh, why, sizeof why)
                                 : forked_pass(&s, f, (slt_mode)m, sh, why, sizeof why);
        double secs = now() - t0;
        const slt_counts *c = &sh->counts;
        totals *t = &tot[m];
        t->files++;
        t->q_passed += c->q_passed;
        t->q_failed += c->q_failed;
        t->q_unsupported += c->q_unsupported;
        t->q_unchecked += c->q_unchecked;
        t->s_ok += c->s_ok;
        t->s_failed += c->s_failed;
        t->seconds += secs;
        if (!opt.quiet || oc != OUT_OK) {
            printf("%s %-5s queries %u passed, %u failed, %u unsupported", f->name,
                   slt_mode_name((slt_mode)m), c->q_passed, c->q_failed, c->q_unsupported);
            if (c->q_unchecked)
                printf(", %u unchecked", c->q_unchecked);
            printf("; statements %u ok, %u failed", c->s_ok, c->s_failed);
            if (c->s_failed_unsupported)
                printf(" (%u unsupported)", c->s_failed_unsupported);
            if (c->skipped)
                printf("; %u records skipped", c->skipped);
            printf("; %.1f s\n", secs);
        }
        if (oc != OUT_OK) {
            printf("  %s: %s", f->name, why);
            if (c->current_line)
                printf(" %s line %u", c->creating_view ? "creating the view of the query at"
                                                       : "at the record of",
                       c->current_line);
            printf("\n");
            if (oc == OUT_CRASH)
                t->crashed++;
            else if (oc == OUT_TIMEOUT)
                t->timed_out++;
            else {
                t->errors++;
                harness_error = true;
            }
        }
        if (sh->ntext > 0)
            fwrite(sh->text, 1, sh->ntext, stdout);
        if (sh->nfailures > sh->nshown && !opt.verbose && !opt.quiet)
            printf("  ... and %u more failures (--verbose shows all)\n",
                   sh->nfailures - sh->nshown);
        fflush(stdout);
        char line[512];
        snprintf(line, sizeof line, "%s %s queries %u %u %u %u statements %u %u %s\n", f->name,
                 slt_mode_name((slt_mode)m), c->q_passed, c->q_failed, c->q_unsupported,
                 c->q_unchecked, c->s_ok, c->s_failed, outcome_word(oc));
        counts_add(line);
    }
    slt_script_fini(&s);
}

/* ---- Main ------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: ivm-slt [--mode adhoc|view|both] [--max-records N] [--verbose] [--quiet]\n"
            "               [--trace]\n"
            "               [--workers N] [--timeout SECONDS] [--failures N]\n"
            "               [--counts FILE] [--expect FILE] [--no-fork] FILE|DIR...\n");
    exit(2);
}

static uint32_t num_arg(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > UINT32_MAX) {
        fprintf(stderr, "ivm-slt: not a number: %s\n", s);
        usage();
    }
    return (uint32_t)v;
}

int main(int argc, char **argv)
{
    opt.modes[SLT_MODE_ADHOC] = opt.modes[SLT_MODE_VIEW] = true;
    opt.timeout = 900;
    opt.max_failures = 5;
    opt.workers = 1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--verbose") == 0) {
            opt.verbose = true;
        } else if (strcmp(a, "--trace") == 0) {
            opt.trace = true;
        } else if (strcmp(a, "--quiet") == 0) {
            opt.quiet = true;
        } else if (strcmp(a, "--no-fork") == 0) {
            opt.no_fork = true;
        } else if (!has_val) {
            usage();
        } else if (strcmp(a, "--mode") == 0) {
            const char *m = argv[++i];
            opt.modes[SLT_MODE_ADHOC] = strcmp(m, "adhoc") == 0 || strcmp(m, "both") == 0;
            opt.modes[SLT_MODE_VIEW] = strcmp(m, "view") == 0 || strcmp(m, "both") == 0;
            if (!opt.modes[0] && !opt.modes[1])
                usage();
        } else if (strcmp(a, "--max-records") == 0) {
            opt.max_records = num_arg(argv[++i]);
        } else if (strcmp(a, "--workers") == 0) {
            opt.workers = num_arg(argv[++i]);
        } else if (strcmp(a, "--timeout") == 0) {
            opt.timeout = num_arg(argv[++i]);
        } else if (strcmp(a, "--failures") == 0) {
            opt.max_failures = num_arg(argv[++i]);
        } else if (strcmp(a, "--counts") == 0) {
            opt.counts_path = argv[++i];
        } else if (strcmp(a, "--expect") == 0) {
            opt.expect_path = argv[++i];
        } else {
            usage();
        }
    }
    if (i >= argc)
        usage();
    for (; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "ivm-slt: %s: %s\n", argv[i], strerror(errno));
            harness_error = true;
        } else if (S_ISDIR(st.st_mode)) {
            size_t n = strlen(argv[i]);
            char *dir = dup_str(argv[i]);
            while (n > 1 && dir[n - 1] == '/')
                dir[--n] = '\0';
            if (!scan_dir(dir, ""))
                harness_error = true;
            ivm_free(dir);
        } else {
            add_file(argv[i], argv[i]);
        }
    }
    /* The pass's shared state: anonymous shared memory survives the child. */
    shared *sh = mmap(NULL, sizeof(shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                      -1, 0);
    if (sh == MAP_FAILED) {
        fprintf(stderr, "ivm-slt: mmap: %s\n", strerror(errno));
        return 2;
    }
    for (size_t k = 0; k < nfiles; k++)
        run_file(&files[k], sh);
    for (int m = 0; m < 2; m++) {
        if (!opt.modes[m])
            continue;
        const totals *t = &tot[m];
        printf("slt: %s %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " unsupported",
               slt_mode_name((slt_mode)m), t->q_passed, t->q_failed, t->q_unsupported);
        if (t->q_unchecked)
            printf(", %" PRIu64 " unchecked", t->q_unchecked);
        printf("; statements %" PRIu64 " ok, %" PRIu64 " failed; %u files", t->s_ok, t->s_failed,
               t->files);
        printf(", %u crashed, %u timed out", t->crashed, t->timed_out);
        if (t->errors)
            printf(", %u runner errors", t->errors);
        printf("; %.1f s\n", t->seconds);
    }
    int status = harness_error ? 2 : 0;
    if (opt.counts_path) {
        FILE *cf = fopen(opt.counts_path, "w");
        if (cf == NULL || fwrite(counts_text ? counts_text : "", 1, ncounts, cf) != ncounts ||
            fclose(cf) != 0) {
            fprintf(stderr, "ivm-slt: cannot write %s\n", opt.counts_path);
            status = 2;
        }
    }
    if (opt.expect_path && status == 0)
        status = expect_counts(opt.expect_path);
    munmap(sh, sizeof(shared));
    for (size_t k = 0; k < nfiles; k++) {
        ivm_free(files[k].path);
        ivm_free(files[k].name);
    }
    ivm_free(files);
    ivm_free(counts_text);
    return status;
}
