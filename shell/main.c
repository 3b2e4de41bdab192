/*
 * main.c: the ivm shell, build/ivm.  It reads SQL from files, from standard
 * input (batch mode) or from a terminal (interactive, with libedit line
 * editing and history), splits the text into statements the way the sqlite3
 * shell does (lines accumulate until ivm_complete says a statement ended) and
 * runs each statement with ivm_exec; lines starting with '.' between
 * statements are dot commands.  Rows are printed by output.c.  It uses only
 * the public API in include/ivm.h and knows nothing of the engine's insides.
 * Usage, output format and exit status are documented in shell/README.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "shell_int.h"

#define PROMPT      "ivm> "
#define PROMPT_CONT "   ...> "
#define HISTORY_FILE ".ivm_history" /* in $HOME */
#define HISTORY_MAX 1000
#define READ_DEPTH_MAX 32          /* .read nesting */
#define OUT_BUF_SIZE (1u << 20)    /* stdout buffer: big results print fast */
#define DOT_ARGS_MAX 16

/* One source of input lines. */
typedef struct input {
    FILE *fp;          /* NULL: the terminal through readline */
    bool interactive;  /* errors omit line numbers, prompts are shown */
    uint32_t lineno;   /* lines read so far */
    char *line;        /* the current line (getline buffer or readline's) */
    size_t cap;
} input;

static void fatal_nomem(void)
{
    fflush(stdout);
    fputs("ivm: out of memory\n", stderr);
    exit(1);
}

/* Prints an error for people on stderr, after flushing the results printed
 * so far so that the two streams interleave in order (keeps SH4), and counts
 * it.  Batch
 * input names the line the failing statement or command started on. */
static void shell_error(shell *sh, const input *in, uint32_t line,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void shell_error(shell *sh, const input *in, uint32_t line,
                        const char *fmt, ...)
{
    va_list ap;
    fflush(sh->out);
    if (in != NULL && !in->interactive)
        fprintf(stderr, "Error: near line %u: ", (unsigned)line);
    else
        fputs("Error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    sh->nfail++;
}

/* ---- Timer -------------------------------------------------------------- */

typedef struct stopwatch {
    struct timespec real;
    struct rusage ru;
} stopwatch;

static void stopwatch_start(stopwatch *w)
{
    clock_gettime(CLOCK_MONOTONIC, &w->real);
    getrusage(RUSAGE_SELF, &w->ru);
}

static double tv_secs(struct timeval a, struct timeval b)
{
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_usec - a.tv_usec) * 1e-6;
}

/* step: seconds the views' circuit steps took when the statement
 * committed, else negative. */
static void stopwatch_print(shell *sh, const stopwatch *w, double step)
{
    stopwatch now;
    stopwatch_start(&now);
    double real = (double)(now.real.tv_sec - w->real.tv_sec) +
                  (double)(now.real.tv_nsec - w->real.tv_nsec) * 1e-9;
    fprintf(sh->out, "Run Time: real %.3f user %.6f sys %.6f", real,
            tv_secs(w->ru.ru_utime, now.ru.ru_utime),
            tv_secs(w->ru.ru_stime, now.ru.ru_stime));
    if (step >= 0)
        fprintf(sh->out, " step %.6f", step);
    putc('\n', sh->out);
}

/* ---- Statements --------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* Skips whitespace and SQL comments in s[pos..len), counting newlines into
 * *line; returns the position of the first other byte (len if none).  An
 * unterminated block comment is not blank: its start is returned, so that a
 * line opening a comment starts a statement as in sqlite3. */
static size_t skip_blank(const char *s, size_t pos, size_t len, uint32_t *line)
{
    while (pos < len) {
        char c = s[pos];
        if (is_space(c)) {
            if (c == '\n')
                (*line)++;
            pos++;
        } else if (c == '-' && pos + 1 < len && s[pos + 1] == '-') {
            while (pos < len && s[pos] != '\n')
                pos++;
        } else if (c == '/' && pos + 1 < len && s[pos + 1] == '*') {
            size_t p = pos + 2;
            uint32_t nl = 0;
            while (p < len && !(s[p] == '*' && p + 1 < len && s[p + 1] == '/')) {
                if (s[p] == '\n')
                    nl++;
                p++;
            }
            if (p >= len)
                break;
            *line += nl;
            pos = p + 2;
        } else {
            break;
        }
    }
    return pos;
}

static bool is_blank(const char *s, size_t len)
{
    uint32_t ignored = 0;
    return skip_blank(s, 0, len, &ignored) == len;
}

static uint32_t count_newlines(const char *s, size_t len)
{
    uint32_t n = 0;
    const char *end = s + len;
    while ((s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
        n++;
        s++;
    }
    return n;
}

/* Runs one statement, sql[0..len), which starts on line `line` (SH3). */
static void run_stmt(shell *sh, const input *in, const char *sql, size_t len,
                     uint32_t line)
{
    ivm_err err;
    stopwatch w;
    ivm_err_clear(&err);
    if (sh->timer)
        stopwatch_start(&w);
    ivm_commit_info before, after;
    ivm_last_commit(sh->db, &before);
    shell_result_begin(sh);
    ivm_rc rc = ivm_exec(sh->db, sql, len, line, shell_row, sh, &err);
    shell_result_end(sh);
    if (sh->timer) {
        ivm_last_commit(sh->db, &after);
        stopwatch_print(sh, &w, after.commit != before.commit ? (double)after.step_ns * 1e-9
                                                              : -1.0);
    }
    if (rc == IVM_OK)
        return;
    const char *msg = err.msg[0] != '\0' ? err.msg : ivm_rc_str(rc);
    /* Point at the place in the statement, unless the message already says
     * where: the column on the statement's first line, or line and column
     * further down. */
    if (err.line != 0 && err.line != line && strstr(msg, "line ") == NULL) {
        if (err.col != 0)
            shell_error(sh, in, line, "%s (line %u, column %u)", msg,
                        (unsigned)err.line, (unsigned)err.col);
        else
            shell_error(sh, in, line, "%s (line %u)", msg, (unsigned)err.line);
    } else if (err.line == line && err.col != 0 && strstr(msg, "(column") == NULL) {
        shell_error(sh, in, line, "%s (column %u)", msg, (unsigned)err.col);
    } else {
        shell_error(sh, in, line, "%s", msg);
    }
}

/* Runs the statements in sql[0..len), whose first line is `line`, one at a
 * time, so that each gets its own result header and error line and a failing
 * statement does not keep the ones after it from running.  Statement ends
 * are the semicolons after which ivm_complete says the text is complete;
 * empty statements are skipped.  Text after the last complete statement (an
 * unfinished statement at the end of input) runs as is, so the engine
 * reports it. */
static void run_sql(shell *sh, const input *in, const char *sql, size_t len,
                    uint32_t line)
{
    size_t pos = 0;
    while (!sh->quit) {
        pos = skip_blank(sql, pos, len, &line);
        if (pos >= len)
            return;
        if (sql[pos] == ';') {
            pos++;
            continue;
        }
        size_t end = pos;
        for (;;) {
            const char *semi = memchr(sql + end, ';', len - end);
            if (semi == NULL) {
                end = len;
                break;
            }
            end = (size_t)(semi - sql) + 1;
            if (ivm_complete(sql + pos, end - pos))
                break;
        }
        run_stmt(sh, in, sql + pos, end - pos, line);
        line += count_newlines(sql + pos, end - pos);
        pos = end;
    }
}

/* ---- Dot commands ------------------------------------------------------- */

/* Splits a dot command line (after the '.') into words in place.  A word is
 * bare, 'single-quoted' (taken as is) or "double-quoted" (backslash escapes
 * resolved).  quoted[i] tells whether word i was quoted.  Returns the count. */
static int split_words(char *s, char **argv, bool *quoted, int max);

static char *resolve_escapes(char *s)
{
    char *r = s, *w = s;
    while (*r != '\0') {
        if (*r != '\\' || r[1] == '\0') {
            *w++ = *r++;
            continue;
        }
        r++;
        char c = *r++;
        switch (c) {
        case 'a': *w++ = '\a'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'v': *w++ = '\v'; break;
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0';
                for (int k = 0; k < 2 && *r >= '0' && *r <= '7'; k++)
                    v = v * 8 + (*r++ - '0');
                if (v != 0) /* a NUL would end the string: drop it */
                    *w++ = (char)v;
            } else {
                *w++ = c; /* \\ \" \' and anything else: the character */
            }
            break;
        }
    }
    *w = '\0';
    return s;
}

static int split_words(char *s, char **argv, bool *quoted, int max)
{
    int argc = 0;
    while (argc < max) {
        while (is_space(*s))
            s++;
        if (*s == '\0')
            break;
        char q = *s;
        if (q == '"' || q == '\'') {
            char *start = ++s;
            while (*s != '\0' && *s != q) {
                if (q == '"' && *s == '\\' && s[1] != '\0')
                    s++;
                s++;
            }
            if (*s != '\0')
                *s++ = '\0';
            argv[argc] = q == '"' ? resolve_escapes(start) : start;
            quoted[argc++] = true;
        } else {
            argv[argc] = s;
            while (*s != '\0' && !is_space(*s))
                s++;
            if (*s != '\0')
                *s++ = '\0';
            quoted[argc++] = false;
        }
    }
    return argc;
}

typedef struct dot_ctx {
    shell *sh;
    const input *in;
    uint32_t line;
    int argc;            /* words after the command name */
    char **argv;
    bool *quoted;
} dot_ctx;

static void process_file(shell *sh, FILE *fp);

/* Parses on/off (and yes/no, true/false, 1/0); -1 if neither. */
static int parse_bool(const char *s)
{
    static const char *const on[] = {"on", "yes", "true", "1"};
    static const char *const off[] = {"off", "no", "false", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, on[i]) == 0)
            return 1;
        if (strcasecmp(s, off[i]) == 0)
            return 0;
    }
    return -1;
}

static bool dot_quit(dot_ctx *c)
{
    c->sh->quit = true;
    if (c->argc == 1) {
        char *end;
        long code = strtol(c->argv[0], &end, 10);
        if (*end != '\0' || end == c->argv[0]) {
            shell_error(c->sh, c->in, c->line, "usage: .exit ?CODE?");
            return false;
        }
        c->sh->exit_code = (int)(code & 0xff);
    }
    return true;
}

static bool dot_help(dot_ctx *c);

static bool dot_read(dot_ctx *c)
{
    shell *sh = c->sh;
    if (sh->depth >= READ_DEPTH_MAX) {
        shell_error(sh, c->in, c->line, ".read nested more than %d deep",
                    READ_DEPTH_MAX);
        return false;
    }
    FILE *fp = fopen(c->argv[0], "r");
    if (fp == NULL) {
        shell_error(sh, c->in, c->line, "cannot open \"%s\": %s", c->argv[0],
                    strerror(errno));
        return false;
    }
    sh->depth++;
    process_file(sh, fp); /* its errors are counted as they happen */
    sh->depth--;
    fclose(fp);
    return true;
}

static bool dot_headers(dot_ctx *c)
{
    int b = parse_bool(c->argv[0]);
    if (b < 0) {
        shell_error(c->sh, c->in, c->line, "usage: .headers on|off");
        return false;
    }
    c->sh->headers = b != 0;
    return true;
}

static bool dot_nullvalue(dot_ctx *c)
{
    shell *sh = c->sh;
    if (!shell_set_str(sh->nullvalue, &sh->nullvalue_len, c->argv[0])) {
        shell_error(sh, c->in, c->line, ".nullvalue: at most %d bytes",
                    SHELL_STR_MAX - 1);
        return false;
    }
    return true;
}

static bool dot_separator(dot_ctx *c)
{
    shell *sh = c->sh;
    char *col = c->argv[0], *row = c->argc > 1 ? c->argv[1] : NULL;
    /* Escapes such as \t work without quotes too, as in sqlite3. */
    if (!c->quoted[0])
        resolve_escapes(col);
    if (row != NULL && !c->quoted[1])
        resolve_escapes(row);
    if (strlen(col) >= SHELL_STR_MAX ||
        (row != NULL && strlen(row) >= SHELL_STR_MAX)) {
        shell_error(sh, c->in, c->line, ".separator: at most %d bytes",
                    SHELL_STR_MAX - 1);
        return false;
    }
    shell_set_str(sh->col_sep, &sh->col_sep_len, col);
    if (row != NULL)
        shell_set_str(sh->row_sep, &sh->row_sep_len, row);
    return true;
}

static bool dot_mode(dot_ctx *c)
{
    shell *sh = c->sh;
    if (c->argc == 0) {
        fprintf(sh->out, "current output mode: %s%s%s\n", sh->mode->name,
                sh->mode->opts != NULL ? " " : "",
                sh->mode->opts != NULL ? sh->mode->opts : "");
        return true;
    }
    const out_mode *m = shell_mode_find(c->argv[0]);
    if (m == NULL) {
        char names[256] = "";
        const out_mode *e;
        for (size_t i = 0; (e = shell_mode_at(i)) != NULL; i++) {
            if (i > 0)
                strncat(names, " ", sizeof names - strlen(names) - 1);
            strncat(names, e->name, sizeof names - strlen(names) - 1);
        }
        shell_error(sh, c->in, c->line, "unknown mode \"%s\"; modes: %s",
                    c->argv[0], names);
        return false;
    }
    shell_mode_set(sh, m);
    return true;
}

static bool dot_timer(dot_ctx *c)
{
    int b = parse_bool(c->argv[0]);
    if (b < 0) {
        shell_error(c->sh, c->in, c->line, "usage: .timer on|off");
        return false;
    }
    c->sh->timer = b != 0;
    return true;
}

/* One line per table and view: what its spines hold and what merging and
 * backpressure did (sql/README.md documents the fields). */
static void stats_line(void *arg, const ivm_rel_stats *st)
{
    FILE *out = arg;
    fprintf(out, "%s %s: rows=%llu bytes=%llu batches=%llu", st->is_view ? "view" : "table",
            st->name, (unsigned long long)st->rows, (unsigned long long)st->bytes,
            (unsigned long long)st->batches);
    const char *sep = " levels=";
    for (unsigned l = 0; l < IVM_STATS_LEVELS; l++) {
        if (st->level_batches[l] == 0)
            continue;
        fprintf(out, "%s%u:%llu", sep, l, (unsigned long long)st->level_batches[l]);
        sep = ",";
    }
    fprintf(out, " pending=%llu merges=%llu merged_rows=%llu waits=%llu wait_ms=%.3f\n",
            (unsigned long long)st->pending, (unsigned long long)st->merges,
            (unsigned long long)st->merge_rows, (unsigned long long)st->waits,
            (double)st->wait_ns / 1e6);
}

/* .tables and .schema read the catalog from the dataspace (ivm_catalog). */
typedef struct catalog_out {
    FILE *out;
    const char *like;     /* a name to match, or NULL */
    bool schema;
    int n;
} catalog_out;

static void catalog_line(void *arg, const char *kind, const char *name, const char *sql)
{
    catalog_out *co = arg;
    if (co->like != NULL && strcasecmp(co->like, name) != 0)
        return;
    if (co->schema) {
        size_t n = strlen(sql);
        while (n > 0 && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\n'))
            n--;
        fprintf(co->out, "%.*s;\n", (int)n, sql);
    } else {
        fprintf(co->out, "%s%s", co->n > 0 ? "  " : "", name);
        (void)kind;
    }
    co->n++;
}

static bool dot_catalog(dot_ctx *c, bool schema)
{
    catalog_out co = {c->sh->out, c->argc > 0 ? c->argv[0] : NULL, schema, 0};
    if (ivm_catalog(c->sh->db, catalog_line, &co) != IVM_OK) {
        shell_error(c->sh, c->in, c->line, "the catalog is not available");
        return false;
    }
    if (!schema && co.n > 0)
        fputc('\n', c->sh->out);
    return true;
}

static bool dot_tables(dot_ctx *c)
{
    return dot_catalog(c, false);
}

static bool dot_schema(dot_ctx *c)
{
    return dot_catalog(c, true);
}

static void status_line(void *arg, const ivm_proc_status *st)
{
    FILE *out = arg;
    fprintf(out, "%-28s %-8s starts=%u restarts=%u failures=%u%s%s\n", st->name, st->state,
            st->starts, st->restarts, st->failures, st->last_exit[0] ? " last: " : "",
            st->last_exit);
}

static bool dot_status(dot_ctx *c)
{
    ivm_status(c->sh->db, status_line, c->sh->out);
    return true;
}

static bool dot_stats(dot_ctx *c)
{
    if (ivm_stats(c->sh->db, stats_line, c->sh->out) != IVM_OK)
        return false;
    fprintf(c->sh->out, "memory: used=%llu limit=%llu\n",
            (unsigned long long)ivm_memory_used(c->sh->db),
            (unsigned long long)ivm_memory_limit(c->sh->db, -1));
    return true;
}

/* .limit ?memory ?SIZE??: show or set the engine's limits (one so far). */
static bool dot_limit(dot_ctx *c)
{
    shell *sh = c->sh;
    if (c->argc > 0 && strcasecmp(c->argv[0], "memory") != 0) {
        shell_error(sh, c->in, c->line, "unknown limit \"%s\"; limits: memory", c->argv[0]);
        return false;
    }
    if (c->argc == 2) {
        uint64_t v;
        if (!shell_parse_size(c->argv[1], &v) || v > (uint64_t)INT64_MAX) {
            shell_error(sh, c->in, c->line,
                        "usage: .limit memory SIZE (bytes, or with K, M, G: 64M; 0: none)");
            return false;
        }
        ivm_memory_limit(sh->db, (int64_t)v);
        return true;
    }
    uint64_t lim = ivm_memory_limit(sh->db, -1);
    char h[32];
    shell_format_size(lim, h, sizeof h);
    fprintf(sh->out, "memory %llu%s%s%s\n", (unsigned long long)lim, lim ? " (" : " (none)",
            lim ? h : "", lim ? ")" : "");
    return true;
}

static bool dot_progress(dot_ctx *c)
{
    int b = parse_bool(c->argv[0]);
    if (b < 0) {
        shell_error(c->sh, c->in, c->line, "usage: .progress on|off");
        return false;
    }
    c->sh->progress = b != 0;
    return true;
}

/* .load ?--commit N? ?--csv|--json? TABLE FILE */
static bool parse_count(const char *s, uint64_t *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool dot_load(dot_ctx *c)
{
    uint64_t every = 0;
    const char *format = NULL;
    int i = 0;
    for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1] == '-'; i++) {
        if (strcmp(c->argv[i], "--commit") == 0 && i + 1 < c->argc &&
            parse_count(c->argv[i + 1], &every)) {
            i++;
        } else if (strcmp(c->argv[i], "--csv") == 0) {
            format = "csv";
        } else if (strcmp(c->argv[i], "--json") == 0) {
            format = "json";
        } else {
            shell_error(c->sh, c->in, c->line,
                        "usage: .load ?--commit N? ?--csv|--json? TABLE FILE");
            return false;
        }
    }
    if (c->argc - i != 2) {
        shell_error(c->sh, c->in, c->line,
                    "usage: .load ?--commit N? ?--csv|--json? TABLE FILE");
        return false;
    }
    char msg[IVM_ERR_MSG_MAX + 256];
    stopwatch w;
    if (c->sh->timer)
        stopwatch_start(&w);
    bool ok = shell_load(c->sh, c->argv[i], c->argv[i + 1], every, format, msg, sizeof msg);
    if (c->sh->timer)
        stopwatch_print(c->sh, &w,
                        c->sh->load_commits > 0 ? (double)c->sh->load_step_ns * 1e-9 : -1.0);
    if (!ok)
        shell_error(c->sh, c->in, c->line, "%s", msg);
    return ok;
}

/* .watch VIEW: print every commit's changes to VIEW; no VIEW lists them. */
static bool dot_watch(dot_ctx *c)
{
    shell *sh = c->sh;
    if (c->argc == 0) {
        for (size_t i = 0; i < sh->nwatches; i++)
            fprintf(sh->out, "%s\n", sh->watches[i].name);
        return true;
    }
    const char *name = c->argv[0];
    for (size_t i = 0; i < sh->nwatches; i++)
        if (strcasecmp(sh->watches[i].name, name) == 0)
            return true; /* already watched */
    if (strlen(name) >= SHELL_STR_MAX) {
        shell_error(sh, c->in, c->line, "no such view: %s", name);
        return false;
    }
    void *p = realloc(sh->watches, (sh->nwatches + 1) * sizeof *sh->watches);
    if (p == NULL)
        fatal_nomem();
    sh->watches = p;
    ivm_err err;
    ivm_subscription *sub = NULL;
    if (ivm_subscribe(sh->db, name, shell_watch_delta, sh, &sub, &err) != IVM_OK) {
        shell_error(sh, c->in, c->line, "%s", err.msg);
        return false;
    }
    struct watched *w = &sh->watches[sh->nwatches++];
    snprintf(w->name, sizeof w->name, "%s", name);
    w->sub = sub;
    return true;
}

static bool dot_unwatch(dot_ctx *c)
{
    shell *sh = c->sh;
    for (size_t i = 0; i < sh->nwatches; i++) {
        if (strcasecmp(sh->watches[i].name, c->argv[0]) != 0)
            continue;
        ivm_unsubscribe(sh->watches[i].sub);
        sh->watches[i] = sh->watches[--sh->nwatches];
        return true;
    }
    shell_error(sh, c->in, c->line, "%s is not watched", c->argv[0]);
    return false;
}

/* .explain ?dot? VIEW ?FILE?: VIEW's circuit as text or as a Graphviz
 * digraph, to FILE or to the output.  With two words the first one is DOT
 * if it says so (a view named dot is `.explain dot dot`). */
static bool dot_explain(dot_ctx *c)
{
    bool dot = c->argc == 3 || (c->argc == 2 && !c->quoted[0] &&
                                strcasecmp(c->argv[0], "dot") == 0);
    if (c->argc == 3 && (c->quoted[0] || strcasecmp(c->argv[0], "dot") != 0)) {
        shell_error(c->sh, c->in, c->line, "usage: .explain ?dot? VIEW ?FILE?");
        return false;
    }
    const char *view = c->argv[dot ? 1 : 0];
    const char *path = c->argc > (dot ? 2 : 1) ? c->argv[dot ? 2 : 1] : NULL;
    char msg[IVM_ERR_MSG_MAX + 256];
    if (!shell_explain(c->sh, dot, view, path, msg, sizeof msg)) {
        shell_error(c->sh, c->in, c->line, "%s", msg);
        return false;
    }
    return true;
}

typedef struct dot_cmd {
    const char *name;
    const char *args;     /* usage after the name */
    const char *help;
    int min_args, max_args;
    bool (*run)(dot_ctx *c);
} dot_cmd;

static const dot_cmd dot_cmds[] = {
    {"exit", "?CODE?", "leave the shell with status CODE (default: 1 if "
     "anything failed, else 0)", 0, 1, dot_quit},
    {"explain", "?dot? VIEW ?FILE?", "show VIEW's circuit (dot: as a Graphviz "
     "digraph), to FILE or here", 1, 3, dot_explain},
    {"headers", "on|off", "print column names before each result", 1, 1,
     dot_headers},
    {"help", "", "show this message", 0, 0, dot_help},
    {"limit", "?memory ?SIZE??", "show the memory limit, or set it to SIZE "
     "(bytes, or 64K, 64M, 2G; 0: none)", 0, 2, dot_limit},
    {"load", "?--commit N? ?--csv|--json? TABLE FILE", "apply the change file FILE (CSV or JSON "
     "lines) to TABLE, committing every N records or at the end", 2, 6, dot_load},
    {"mode", "?MODE?", "set the output mode (list, csv, box, table, line, "
     "json); no MODE shows it",
     0, 1, dot_mode},
    {"nullvalue", "STRING", "print NULL as STRING (default: empty)", 1, 1,
     dot_nullvalue},
    {"progress", "on|off", "draw a progress line on a terminal's standard error "
     "during loads (default on)", 1, 1, dot_progress},
    {"quit", "", "leave the shell", 0, 0, dot_quit},
    {"read", "FILE", "run the statements and commands in FILE", 1, 1,
     dot_read},
    {"separator", "COL ?ROW?", "set the column (and row) separator; "
     "\\t, \\n and the like work", 1, 2, dot_separator},
    {"schema", "?NAME?", "show the CREATE statements (of NAME)", 0, 1,
     dot_schema},
    {"stats", "", "show what each table's and view's state holds", 0, 0,
     dot_stats},
    {"status", "", "list the runtime's processes with their restarts", 0, 0,
     dot_status},
    {"tables", "?NAME?", "list tables and views", 0, 1, dot_tables},
    {"timer", "on|off", "print the time each statement or .load takes (and, "
     "for commits, their views' steps)", 1, 1, dot_timer},
    {"unwatch", "VIEW", "stop printing VIEW's changes", 1, 1, dot_unwatch},
    {"watch", "?VIEW?", "print each commit's changes to VIEW as +N/-N lines; "
     "no VIEW lists the watched ones", 0, 1, dot_watch},
};
#define DOT_NCMDS (sizeof dot_cmds / sizeof dot_cmds[0])

static bool dot_help(dot_ctx *c)
{
    FILE *out = c->sh->out;
    for (size_t i = 0; i < DOT_NCMDS; i++) {
        char use[64];
        snprintf(use, sizeof use, ".%s %s", dot_cmds[i].name, dot_cmds[i].args);
        fprintf(out, "%-22s %s\n", use, dot_cmds[i].help);
    }
    fputs("\nSQL statements end with ';' and may span lines.\n", out);
    const out_mode *m;
    fputs("Modes:\n", out);
    for (size_t i = 0; (m = shell_mode_at(i)) != NULL; i++)
        fprintf(out, "  %-8s %s\n", m->name, m->help);
    return true;
}

/* Runs the dot command in line (which starts with '.'), read on line n. */
static void run_dot(shell *sh, const input *in, char *line, uint32_t n)
{
    char *argv[DOT_ARGS_MAX + 1];
    bool quoted[DOT_ARGS_MAX + 1];
    int argc = split_words(line + 1, argv, quoted, DOT_ARGS_MAX + 1);
    if (argc == 0) {
        shell_error(sh, in, n, "empty command; enter \".help\" for the list");
        return;
    }
    const char *name = argv[0];
    if (strcmp(name, "header") == 0) /* sqlite3 takes both spellings */
        name = "headers";
    for (size_t i = 0; i < DOT_NCMDS; i++) {
        const dot_cmd *d = &dot_cmds[i];
        if (strcmp(d->name, name) != 0)
            continue;
        if (argc - 1 < d->min_args || argc - 1 > d->max_args) {
            shell_error(sh, in, n, "usage: .%s %s", d->name, d->args);
            return;
        }
        dot_ctx c = {sh, in, n, argc - 1, argv + 1, quoted + 1};
        d->run(&c); /* errors are printed and counted by the command */
        return;
    }
    shell_error(sh, in, n, "unknown command \".%s\"; enter \".help\" for the list",
                argv[0]);
}

/* ---- Input -------------------------------------------------------------- */

/* Reads the next line into in->line without its line end; false at EOF. */
static bool read_line(input *in, bool continuation)
{
    if (in->fp == NULL) {
        free(in->line);
        in->line = readline(continuation ? PROMPT_CONT : PROMPT);
        if (in->line == NULL)
            return false;
        if (!is_blank(in->line, strlen(in->line)))
            add_history(in->line);
    } else {
        ssize_t n = getline(&in->line, &in->cap, in->fp);
        if (n < 0)
            return false;
        if (n > 0 && in->line[n - 1] == '\n')
            in->line[--n] = '\0';
        if (n > 0 && in->line[n - 1] == '\r')
            in->line[--n] = '\0';
    }
    in->lineno++;
    return true;
}

/* Reads in to its end (or .quit), running statements and dot commands. */
static void process_input(shell *sh, input *in)
{
    char *sql = NULL;
    size_t len = 0, cap = 0;
    uint32_t start = 0;
    while (!sh->quit) {
        if (in->interactive)
            fflush(sh->out);
        if (!read_line(in, len > 0))
            break;
        char *line = in->line;
        size_t n = strlen(line);
        if (len == 0) {
            if (line[0] == '.') {
                run_dot(sh, in, line, in->lineno);
                continue;
            }
            if (is_blank(line, n))
                continue;
            start = in->lineno;
        }
        if (len + n + 2 > cap) {
            size_t ncap = cap == 0 ? 4096 : cap;
            while (ncap < len + n + 2)
                ncap *= 2;
            char *p = realloc(sql, ncap);
            if (p == NULL)
                fatal_nomem();
            sql = p;
            cap = ncap;
        }
        memcpy(sql + len, line, n);
        len += n;
        sql[len++] = '\n';
        sql[len] = '\0';
        /* Only a line with a ';' can end a statement: testing completeness
         * on other lines would make long statements quadratic (keeps SH5). */
        if (memchr(line, ';', n) != NULL && ivm_complete(sql, len)) {
            run_sql(sh, in, sql, len, start);
            len = 0;
        }
    }
    if (len > 0 && !sh->quit) /* unfinished statement at end of input */
        run_sql(sh, in, sql, len, start);
    if (in->interactive && !sh->quit)
        putc('\n', sh->out);
    free(sql);
    free(in->line);
    in->line = NULL;
}

/* Runs a whole file (or standard input) in batch mode. */
static void process_file(shell *sh, FILE *fp)
{
    input in = {fp, false, 0, NULL, 0};
    process_input(sh, &in);
    if (ferror(fp))
        shell_error(sh, &in, in.lineno, "reading the input failed");
}

static void run_interactive(shell *sh)
{
    char path[4096];
    const char *home = getenv("HOME");
    bool hist = home != NULL && home[0] != '\0' &&
                (size_t)snprintf(path, sizeof path, "%s/%s", home,
                                 HISTORY_FILE) < sizeof path;
    using_history();
    stifle_history(HISTORY_MAX);
    if (hist)
        read_history(path);
    fputs("ivm: incremental view maintenance shell\n"
          "Enter \".help\" for usage hints; statements end with ';'.\n",
          sh->out);
    input in = {NULL, true, 0, NULL, 0};
    process_input(sh, &in);
    if (hist)
        write_history(path);
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: ivm [--workers N] [--memory-limit SIZE] [--no-progress] [--commit N]\n"
          "           [--load TABLE=FILE]... [FILE...]\n"
          "  Runs the SQL statements and dot commands in each FILE (\"-\" is\n"
          "  standard input) and loads each change file, in the order given;\n"
          "  without FILE it then reads standard input: interactively on a\n"
          "  terminal, in batch mode otherwise.\n"
          "  --workers N   worker threads (default 0: one per core)\n"
          "  --memory-limit SIZE  refuse new data while the engine's state holds\n"
          "                more than SIZE bytes (64M, 2G, ...; default 0: no limit)\n"
          "  --no-progress never draw a progress line during loads\n"
          "  --load TABLE=FILE  apply a change file (CSV or JSON lines) to TABLE\n"
          "  --commit N    later --load commit every N records (default 0: at the end)\n"
          "  --help        show this message\n",
          f);
}

static bool parse_workers(const char *s, uint32_t *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > 4096)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* What the command line asks for, in its order: run a file or load one. */
typedef struct action {
    const char *file;        /* a script, or the change file of a load */
    const char *table;       /* a load: its table; NULL for a script */
    uint64_t commit_every;
} action;

int main(int argc, char **argv)
{
    ivm_options opts = {.workers = 0};
    action *acts = calloc((size_t)argc + 1, sizeof *acts);
    if (acts == NULL)
        fatal_nomem();
    int nacts = 0, nfiles = 0;
    uint64_t commit_every = 0;
    bool options = true, no_progress = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options || a[0] != '-' || a[1] == '\0') {
            acts[nacts++] = (action){a, NULL, 0};
            nfiles++;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options = false;
            continue;
        }
        if (strcmp(a, "--no-progress") == 0) {
            no_progress = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            free(acts);
            return 0;
        }
        const char *val = NULL;
        if (strcmp(a, "--workers") == 0 || strcmp(a, "--load") == 0 ||
            strcmp(a, "--commit") == 0 || strcmp(a, "--memory-limit") == 0)
            val = i + 1 < argc ? argv[++i] : NULL;
        else if (strncmp(a, "--workers=", 10) == 0 || strncmp(a, "--commit=", 9) == 0 ||
                 strncmp(a, "--load=", 7) == 0 || strncmp(a, "--memory-limit=", 15) == 0)
            val = strchr(a, '=') + 1;
        else {
            fprintf(stderr, "ivm: unknown option %s\n", a);
            usage(stderr);
            free(acts);
            return 1;
        }
        if (strncmp(a, "--load", 6) == 0) {
            const char *eq = val ? strchr(val, '=') : NULL;
            if (eq == NULL || eq == val || eq[1] == '\0') {
                fprintf(stderr, "ivm: --load needs TABLE=FILE, got \"%s\"\n", val ? val : "");
                free(acts);
                return 1;
            }
            char *table = strndup(val, (size_t)(eq - val));
            if (table == NULL)
                fatal_nomem();
            acts[nacts++] = (action){eq + 1, table, commit_every};
        } else if (strncmp(a, "--commit", 8) == 0) {
            if (!parse_count(val, &commit_every)) {
                fprintf(stderr, "ivm: --commit needs a count of records (0: at the end), "
                                "got \"%s\"\n", val != NULL ? val : "");
                free(acts);
                return 1;
            }
        } else if (strncmp(a, "--memory-limit", 14) == 0) {
            if (!shell_parse_size(val, &opts.memory_limit) ||
                opts.memory_limit > (uint64_t)INT64_MAX) {
                fprintf(stderr, "ivm: --memory-limit needs a size in bytes, or with K, M, G "
                                "(64M, 2G; 0: no limit), got \"%s\"\n", val != NULL ? val : "");
                free(acts);
                return 1;
            }
        } else if (!parse_workers(val, &opts.workers)) {
            fprintf(stderr, "ivm: --workers needs a count from 0 (one per core) "
                            "to 4096, got \"%s\"\n", val != NULL ? val : "");
            free(acts);
            return 1;
        }
    }

    static shell sh;
    sh.out = stdout;
    sh.exit_code = -1;
    sh.progress = !no_progress;
    shell_mode_set(&sh, shell_mode_find("list"));
    shell_set_str(sh.nullvalue, &sh.nullvalue_len, "");
    /* A terminal keeps its line buffering; files and pipes get a big
     * buffer, flushed before prompts, before errors and at exit. */
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, NULL, _IOFBF, OUT_BUF_SIZE);

    ivm_err err;
    ivm_err_clear(&err);
    if (ivm_open(&opts, &sh.db, &err) != IVM_OK) {
        fprintf(stderr, "ivm: cannot start the engine: %s\n",
                err.msg[0] != '\0' ? err.msg : ivm_rc_str(err.rc));
        return 1;
    }

    for (int i = 0; i < nacts && !sh.quit; i++) {
        if (acts[i].table != NULL) {
            char msg[IVM_ERR_MSG_MAX + 256];
            if (!shell_load(&sh, acts[i].table, acts[i].file, acts[i].commit_every, NULL, msg,
                            sizeof msg)) {
                fflush(stdout);
                fprintf(stderr, "Error: %s\n", msg);
                sh.nfail++;
            }
            free((char *)acts[i].table);
            acts[i].table = NULL;
            continue;
        }
        if (strcmp(acts[i].file, "-") == 0) {
            process_file(&sh, stdin);
            continue;
        }
        FILE *fp = fopen(acts[i].file, "r");
        if (fp == NULL) {
            fflush(stdout);
            fprintf(stderr, "Error: cannot open \"%s\": %s\n", acts[i].file, strerror(errno));
            sh.nfail++;
            continue;
        }
        process_file(&sh, fp);
        fclose(fp);
    }
    for (int i = 0; i < nacts; i++)
        free((char *)acts[i].table);
    free(acts);
    if (nfiles == 0 && !sh.quit) {
        if (isatty(STDIN_FILENO)) {
            sh.interactive = true;
            run_interactive(&sh);
        } else {
            process_file(&sh, stdin);
        }
    }

    for (size_t i = 0; i < sh.nwatches; i++)
        ivm_unsubscribe(sh.watches[i].sub);
    free(sh.watches);
    shell_output_fini(&sh);
    ivm_close(sh.db);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ivm: writing the output failed: %s\n", strerror(errno));
        return 1;
    }
    if (sh.exit_code >= 0)
        return sh.exit_code;
    return sh.nfail > 0 ? 1 : 0;
}
