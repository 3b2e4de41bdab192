/*
 * prop_views.c: the view property tester's driver.  Generates random cases
 * (gen.c), runs each through ivm with every worker count and through SQLite
 * (run.c), and on a failure prints the seed and the case, shrinks it
 * (shrink.c) and prints a small script that reproduces it with build/ivm and
 * sqlite3.  It also replays the regression scripts of proptests/regressions
 * through the same comparison, and can test itself by hiding a statement
 * from SQLite.  One summary line per run.  Usage: proptests/README.md.
 */
#include "prop_int.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

static void usage(void)
{
    fputs("usage: prop_views [options]\n"
          "  --seed S            first seed (default: the time, printed)\n"
          "  --cases N           run N cases (default 20 unless --seconds)\n"
          "  --seconds T         run cases for T seconds\n"
          "  --case K            run only case K of the seed\n"
          "  --steps M           statements per case, about (default 40)\n"
          "  --views V           at most V views per case (default 8)\n"
          "  --workers LIST      worker counts, e.g. 1,3 (default 1,3)\n"
          "  --unsupported PCT   share of views using constructs ivm refuses (default 25)\n"
          "  --avoid LIST        constructs not to generate on purpose, e.g. like,mixed-types\n"
          "  --edge PCT          share of edge values (integers near 2^53, 1e20) (default 1)\n"
          "  --keep-going        go on after a failure\n"
          "  --no-shrink         print failures without shrinking them\n"
          "  --shrink-seconds T  time budget of one shrink (default 120)\n"
          "  --timeout T         seconds one case may take before it counts as a hang (default 120)\n"
          "  --no-fork           run cases in this process (for a debugger)\n"
          "  --save DIR          write each shrunk script to DIR/fail-SEED-CASE.sql\n"
          "  --verbose           print per-construct counts and refusal reasons\n"
          "  --print             print every case's script before running it\n"
          "  --replay PATH...    replay regression scripts (files or directories)\n"
          "  --self-test         check that a hidden change is caught and shrunk\n",
          stderr);
    exit(2);
}

typedef struct opts {
    uint64_t seed;
    bool seed_given;
    int cases;
    double seconds;
    int only_case;
    pgen_opts gen;
    prun_opts run;
    bool keep_going, shrink, verbose, self_test, print;
    double shrink_seconds;
    const char *save_dir;
    const char **replay;
    int nreplay;
} opts;

static bool parse_workers(const char *s, prun_opts *r)
{
    r->nworkers = 0;
    while (*s) {
        char *end;
        long w = strtol(s, &end, 10);
        if (end == s || w < 1 || w > 64 || r->nworkers == PT_MAX_WORKERS)
            return false;
        r->workers[r->nworkers++] = (uint32_t)w;
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return false;
    }
    return r->nworkers > 0;
}

static bool parse_cons(const char *s, uint64_t *out)
{
    *out = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        int k = 0;
        while (k < PC_COUNT && (strlen(pt_cons_names[k]) != n ||
                                strncmp(pt_cons_names[k], s, n) != 0))
            k++;
        if (k == PC_COUNT) {
            fprintf(stderr, "prop_views: unknown construct %.*s; known:", (int)n, s);
            for (int i = 0; i < PC_COUNT; i++)
                fprintf(stderr, " %s", pt_cons_names[i]);
            fputc('\n', stderr);
            return false;
        }
        *out |= 1ull << k;
        s += n;
        if (*s == ',')
            s++;
    }
    return true;
}

static void parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->cases = -1;
    o->only_case = -1;
    o->gen.steps = 40;
    o->gen.max_views = 8;
    o->gen.unsupported_pct = 25;
    o->gen.edge_pct = 1;
    o->run.workers[0] = 1;
    o->run.workers[1] = 3;
    o->run.nworkers = 2;
    o->run.fork = true;
    o->run.timeout = 120;
    o->run.stop_after = -1;
    o->run.fault_step = -1;
    o->shrink = true;
    o->shrink_seconds = 120;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED() do { if (v == NULL) usage(); i++; } while (0)
        if (strcmp(a, "--seed") == 0) {
            NEED();
            o->seed = strtoull(v, NULL, 10);
            o->seed_given = true;
        } else if (strcmp(a, "--cases") == 0) {
            NEED();
            o->cases = atoi(v);
        } else if (strcmp(a, "--seconds") == 0) {
            NEED();
            o->seconds = atof(v);
        } else if (strcmp(a, "--case") == 0) {
            NEED();
            o->only_case = atoi(v);
        } else if (strcmp(a, "--steps") == 0) {
            NEED();
            o->gen.steps = atoi(v);
        } else if (strcmp(a, "--views") == 0) {
            NEED();
            o->gen.max_views = atoi(v);
        } else if (strcmp(a, "--workers") == 0) {
            NEED();
            if (!parse_workers(v, &o->run))
                usage();
        } else if (strcmp(a, "--unsupported") == 0) {
            NEED();
            o->gen.unsupported_pct = atoi(v);
        } else if (strcmp(a, "--edge") == 0) {
            NEED();
            o->gen.edge_pct = atoi(v);
        } else if (strcmp(a, "--avoid") == 0) {
            NEED();
            if (!parse_cons(v, &o->gen.avoid))
                exit(2);
        } else if (strcmp(a, "--keep-going") == 0) {
            o->keep_going = true;
        } else if (strcmp(a, "--no-shrink") == 0) {
            o->shrink = false;
        } else if (strcmp(a, "--shrink-seconds") == 0) {
            NEED();
            o->shrink_seconds = atof(v);
        } else if (strcmp(a, "--timeout") == 0) {
            NEED();
            o->run.timeout = atoi(v);
        } else if (strcmp(a, "--no-fork") == 0) {
            o->run.fork = false;
        } else if (strcmp(a, "--save") == 0) {
            NEED();
            o->save_dir = v;
        } else if (strcmp(a, "--print") == 0) {
            o->print = true;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--self-test") == 0) {
            o->self_test = true;
        } else if (strcmp(a, "--replay") == 0) {
            o->replay = (const char **)&argv[i + 1];
            o->nreplay = argc - i - 1;
            break;
        } else {
            usage();
        }
#undef NEED
    }
    if (o->gen.steps < 1 || o->gen.max_views < 1)
        usage();
    if (o->cases < 0)
        o->cases = o->seconds > 0 ? 0 : 20;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t case_seed(uint64_t seed, int k)
{
    prng r = {seed * 0x9e3779b97f4a7c15ULL + (uint64_t)k};
    return pt_rnd(&r);
}

static void workers_str(const prun_opts *r, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->nworkers && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ",%u" : "%u", r->workers[i]);
}

/* ---- Reports ---------------------------------------------------------------------- */

static void print_summary(const char *what, const opts *o, const pstats *st, int failures,
                          double secs)
{
    char w[64];
    workers_str(&o->run, w, sizeof w);
    printf("%s: seed %llu, workers %s: %llu cases, %llu statements (%llu failed in both), "
           "%llu views (%llu refused, %llu skipped), %llu view checks, %llu table checks, ",
           what, (unsigned long long)o->seed, w, (unsigned long long)st->cases,
           (unsigned long long)st->statements, (unsigned long long)st->stmt_failed,
           (unsigned long long)st->views, (unsigned long long)st->refused,
           (unsigned long long)st->skipped, (unsigned long long)st->checks,
           (unsigned long long)st->table_checks);
    printf("refused by construct [");
    bool first = true;
    for (int c = 0; c < PC_COUNT; c++) {
        if (st->cons_refused[c] == 0)
            continue;
        printf("%s%s %llu/%llu", first ? "" : ", ", pt_cons_names[c],
               (unsigned long long)st->cons_refused[c], (unsigned long long)st->cons_seen[c]);
        first = false;
    }
    printf("], ");
    if (st->oracle_errors)
        printf("%llu oracle errors, ", (unsigned long long)st->oracle_errors);
    if (st->unflattened)
        printf("%llu prepared unflattened, ", (unsigned long long)st->unflattened);
    if (st->given_up)
        printf("%llu cases given up (SQLite too slow), ", (unsigned long long)st->given_up);
    if (st->count_checks)
        printf("%llu checks by count, ", (unsigned long long)st->count_checks);
    if (st->known_diffs)
        printf("%llu known differences (typed columns), ", (unsigned long long)st->known_diffs);
    printf("%d failures, %.1f s, %.0f cases/min\n", failures, secs,
           secs > 0 ? (double)st->cases * 60.0 / secs : 0.0);
    if (o->verbose) {
        printf("  construct          views  refused\n");
        for (int c = 0; c < PC_COUNT; c++)
            printf("  %-18s %6llu %8llu\n", pt_cons_names[c], (unsigned long long)st->cons_seen[c],
                   (unsigned long long)st->cons_refused[c]);
        printf("  refusal reasons:\n");
        for (int i = 0; i < st->nreasons; i++)
            printf("  %8llu  %s\n", (unsigned long long)st->reasons[i].n, st->reasons[i].text);
    }
    fflush(stdout);
}

static void print_msg_commented(FILE *f, const char *msg)
{
    const char *p = msg;
    while (*p) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "-- %.*s\n", (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}

static void header(ptext *h, const opts *o, int k, const poutcome *out, const char *what)
{
    pt_printf(h, "-- prop_views %s: seed %llu, case %d: %s (after statement %d)\n", what,
              (unsigned long long)o->seed, k, pt_fail_names[out->kind], out->stmt + 1);
    const char *p = out->msg;
    while (*p) {
        size_t n = strcspn(p, "\n");
        pt_printf(h, "-- %.*s\n", (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
    uint32_t w = out->workers ? out->workers : 1;
    pt_printf(h, "-- reproduce: build/ivm --workers %u FILE > ivm.out; sqlite3 < FILE > "
                 "sqlite.out; diff ivm.out sqlite.out\n", w);
}

/* Shrinks a failing case and prints (and saves) the small script. */
static void report_failure(const opts *o, int k, pcase *c, poutcome *out)
{
    pscript sc = {0};
    pt_render(c, &sc);
    fprintf(stderr, "prop_views: FAILED seed %llu case %d: %s\n", (unsigned long long)o->seed, k,
            pt_fail_names[out->kind]);
    print_msg_commented(stderr, out->msg);
    fprintf(stderr, "-- the case, up to the failing statement:\n");
    pt_print_repro(stderr, &sc, out, NULL);
    fprintf(stderr, "-- rerun: build/proptests/prop_views --seed %llu --case %d\n",
            (unsigned long long)o->seed, k);
    pt_script_free(&sc);
    if (!o->shrink)
        return;
    pshrink_opts so;
    memset(&so, 0, sizeof so);
    so.run = o->run;
    so.run.quiet = true;
    if (out->workers != 0 && out->kind != F_WORKERS) {
        so.run.workers[0] = out->workers;
        so.run.nworkers = 1;
    }
    so.seconds = o->shrink_seconds;
    double t0 = now();
    int tries = pt_shrink(c, &so, out);
    pt_render(c, &sc);
    ptext h = {0};
    header(&h, o, k, out, "shrunk");
    fprintf(stderr, "prop_views: shrunk in %d runs, %.1f s, to %d statements:\n", tries,
            now() - t0, out->stmt + 1);
    pt_print_repro(stderr, &sc, out, h.p);
    if (o->save_dir != NULL) {
        char path[512];
        snprintf(path, sizeof path, "%s/fail-%llu-%d.sql", o->save_dir,
                 (unsigned long long)o->seed, k);
        FILE *f = fopen(path, "w");
        if (f != NULL) {
            pt_print_repro(f, &sc, out, h.p);
            fclose(f);
            fprintf(stderr, "prop_views: saved %s\n", path);
        }
    }
    pt_text_free(&h);
    pt_script_free(&sc);
}

/* ---- Random runs ---------------------------------------------------------------------- */

static int run_random(opts *o)
{
    if (!o->seed_given)
        o->seed = (uint64_t)time(NULL);
    char w[64];
    workers_str(&o->run, w, sizeof w);
    printf("prop_views: seed %llu, workers %s\n", (unsigned long long)o->seed, w);
    fflush(stdout);
    pstats st;
    memset(&st, 0, sizeof st);
    int failures = 0;
    double t0 = now();
    for (int k = o->only_case >= 0 ? o->only_case : 0;; k++) {
        if (o->only_case >= 0 && k > o->only_case)
            break;
        if (o->only_case < 0) {
            if (o->seconds > 0 && now() - t0 > o->seconds)
                break;
            if (o->seconds <= 0 && k >= o->cases)
                break;
            if (o->seconds > 0 && o->cases > 0 && k >= o->cases)
                break;
        }
        pcase c;
        pt_generate(&c, case_seed(o->seed, k), &o->gen);
        pscript sc = {0};
        pt_render(&c, &sc);
        if (o->print) {
            printf("-- seed %llu, case %d\n", (unsigned long long)o->seed, k);
            for (int i = 0; i < sc.n; i++)
                printf("%s;\n", sc.s[i].sql);
        }
        poutcome out;
        pt_run(&sc, &o->run, &out, &st);
        pt_script_free(&sc);
        if (out.kind != F_NONE) {
            failures++;
            report_failure(o, k, &c, &out);
        }
        pt_case_free(&c);
        if (failures > 0 && !o->keep_going)
            break;
    }
    print_summary("prop_views", o, &st, failures, now() - t0);
    return failures ? 1 : 0;
}

/* ---- Regression replay ---------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    ptext t = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        pt_put(&t, buf, n);
    fclose(f);
    if (t.p == NULL)
        pt_put(&t, "", 0);
    return t.p;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands directories into their *.sql files, sorted. */
static void collect(const char *path, char ***files, int *n, int *cap)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d == NULL)
            return;
        struct dirent *de;
        int start = *n;
        while ((de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l < 5 || strcmp(de->d_name + l - 4, ".sql") != 0)
                continue;
            ptext p = {0};
            pt_printf(&p, "%s/%s", path, de->d_name);
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 32;
                *files = realloc(*files, sizeof **files * (size_t)*cap);
                if (*files == NULL)
                    pt_oom();
            }
            (*files)[(*n)++] = p.p;
        }
        closedir(d);
        qsort(*files + start, (size_t)(*n - start), sizeof **files, name_cmp);
        return;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *files = realloc(*files, sizeof **files * (size_t)*cap);
        if (*files == NULL)
            pt_oom();
    }
    (*files)[(*n)++] = pt_xstrdup(path);
}

static int run_replay(opts *o)
{
    char **files = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < o->nreplay; i++)
        collect(o->replay[i], &files, &n, &cap);
    int passed = 0, failed = 0, known = 0, fixed = 0;
    pstats st;
    memset(&st, 0, sizeof st);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        char *text = read_file(files[i]);
        const char *base = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
        if (text == NULL) {
            printf("FAIL %s: cannot read it\n", base);
            failed++;
            continue;
        }
        bool known_failing = strncmp(text, "-- known-failing", 16) == 0;
        pscript sc = {0};
        pt_script_parse(text, &sc);
        poutcome out;
        pt_run(&sc, &o->run, &out, &st);
        if (out.kind == F_NONE && !known_failing) {
            printf("ok   %s\n", base);
            passed++;
        } else if (out.kind == F_NONE) {
            printf("FIXED? %s is marked known-failing but passes: remove the mark\n", base);
            fixed++;
        } else if (known_failing) {
            printf("known-failing %s: %s after line %u\n", base, pt_fail_names[out.kind],
                   out.stmt >= 0 && out.stmt < sc.n ? sc.s[out.stmt].line : 0);
            known++;
        } else {
            printf("FAIL %s: %s after the statement at line %u\n", base, pt_fail_names[out.kind],
                   out.stmt >= 0 && out.stmt < sc.n ? sc.s[out.stmt].line : 0);
            const char *p = out.msg;
            while (*p) {
                size_t l = strcspn(p, "\n");
                printf("  %.*s\n", (int)l, p);
                p += l;
                if (*p == '\n')
                    p++;
            }
            failed++;
        }
        pt_script_free(&sc);
        free(text);
    }
    char w[64];
    workers_str(&o->run, w, sizeof w);
    printf("regressions: workers %s: %d passed, %d failed, %d known-failing, %d marked "
           "known-failing but passing, %llu statements, %llu view checks, %llu table checks, "
           "%.1f s\n",
           w, passed, failed, known, fixed, (unsigned long long)st.statements,
           (unsigned long long)st.checks, (unsigned long long)st.table_checks, now() - t0);
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return failed ? 1 : 0;
}

/* ---- Self-test ---------------------------------------------------------------------------- */

/* Hides one INSERT from SQLite; the run must fail and shrink to a handful
 * of statements.  Once with tables compared, once with views alone. */
static int self_test_one(opts *o, bool views_only)
{
    int want = views_only ? F_VIEW_DIFF : F_TABLE_DIFF;
    for (int k = 0; k < 50; k++) {
        pcase c;
        pt_generate(&c, case_seed(o->seed, k), &o->gen);
        for (int i = 0; i < c.nsteps; i++) {
            if (c.steps[i].kind != S_INSERT)
                continue;
            pscript sc = {0};
            pt_render(&c, &sc);
            prun_opts ro = o->run;
            ro.fault_step = i;
            ro.quiet = true;
            ro.no_table_check = views_only;
            poutcome out;
            pstats st;
            memset(&st, 0, sizeof st);
            pt_run(&sc, &ro, &out, &st);
            pt_script_free(&sc);
            if (out.kind != want)
                continue;
            pshrink_opts so;
            memset(&so, 0, sizeof so);
            so.run = ro;
            so.seconds = o->shrink_seconds;
            int tries = pt_shrink(&c, &so, &out);
            pt_render(&c, &sc);
            int nstmts = out.stmt + 1;
            bool small = nstmts <= 6;
            printf("self-test: an INSERT hidden from SQLite in seed %llu case %d was caught (%s)"
                   " and shrunk in %d runs to %d statements: %s\n",
                   (unsigned long long)o->seed, k, pt_fail_names[out.kind], tries, nstmts,
                   small ? "ok" : "FAILED (expected at most 6)");
            if (!small || o->verbose)
                pt_print_repro(stdout, &sc, &out, NULL);
            pt_script_free(&sc);
            pt_case_free(&c);
            return small ? 0 : 1;
        }
        pt_case_free(&c);
    }
    printf("self-test: FAILED: no hidden INSERT was ever caught as \"%s\"\n",
           pt_fail_names[want]);
    return 1;
}

static int run_self_test(opts *o)
{
    if (!o->seed_given)
        o->seed = 1;
    int bad = self_test_one(o, false);
    bad |= self_test_one(o, true);
    return bad;
}

int main(int argc, char **argv)
{
    opts o;
    parse_args(argc, argv, &o);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (o.nreplay > 0)
        return run_replay(&o);
    if (o.self_test)
        return run_self_test(&o);
    return run_random(&o);
}
