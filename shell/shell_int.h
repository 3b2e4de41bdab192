/*
 * shell_int.h: state shared between the files of the ivm shell.  main.c reads
 * input, splits it into statements and runs dot commands; output.c prints
 * result rows in the current output mode.  The shell uses only the public API
 * (include/ivm.h); its behaviour is described in shell/README.md.
 */
#ifndef SHELL_INT_H
#define SHELL_INT_H

#include <stdio.h>

#include "ivm.h"

typedef struct shell shell;

/* An output mode: how one result (the rows of one SELECT) is printed.
 * begin runs before a statement executes, row for each result row, end after
 * the statement finished (also when it failed).  A mode that needs all rows
 * before printing (column widths, say) copies them in row and prints in end.
 * Adding a mode = writing these hooks and adding an entry to the table in
 * output.c. */
typedef struct out_mode {
    const char *name;
    const char *help;    /* one line for .help and .mode */
    const char *col_sep; /* separators the mode selects when chosen; */
    const char *row_sep; /* NULL keeps the current one */
    void (*begin)(shell *sh);
    int (*row)(shell *sh, uint32_t ncols, const ivm_value *vals,
               const char *const *names);
    void (*end)(shell *sh);
    const char *opts;    /* what .mode shows after the name, or NULL */
} out_mode;

/* Longest separator or .nullvalue string accepted. */
#define SHELL_STR_MAX 64

struct shell {
    ivm_db *db;
    FILE *out;                 /* results, .help, .timer; buffered */
    const out_mode *mode;
    bool headers;              /* .headers on: print column names */
    bool timer;                /* .timer on */
    bool progress;             /* .progress on: loads draw a progress line */
    uint64_t load_commits;     /* the last load's commits that changed something */
    uint64_t load_step_ns;     /* and the time their views' steps took */
    char nullvalue[SHELL_STR_MAX];
    char col_sep[SHELL_STR_MAX];
    char row_sep[SHELL_STR_MAX];
    size_t col_sep_len, row_sep_len, nullvalue_len;

    /* Per-result state, reset by shell_result_begin. */
    uint64_t nrows;            /* rows printed for the current statement */

    /* The result held by the modes that print it whole (box, table): the
     * texts of its cells, each NUL-terminated, one after another in grid (the
     * column names first, then the rows), and where each starts in cell_off.
     * Both grow by doubling and are reused from result to result, so holding
     * a row costs no allocation of its own. */
    char *grid;
    size_t grid_len, grid_cap;
    size_t *cell_off;
    size_t ncells, cells_cap;
    uint32_t grid_ncols;
    bool grid_nomem;           /* a row could not be held: the result stopped */

    /* Run state. */
    bool interactive;          /* top level reads a terminal */
    bool quit;                 /* .quit/.exit seen: stop all input */
    int exit_code;             /* from .exit N, else -1 */
    unsigned nfail;            /* failed statements and dot commands */
    unsigned depth;            /* .read nesting */

    /* .watch: subscriptions whose deltas print after each commit. */
    struct watched {
        char name[SHELL_STR_MAX];
        ivm_subscription *sub;
    } *watches;
    size_t nwatches;
};

/* Output modes (output.c).  shell_mode_find returns NULL for an unknown name;
 * shell_mode_at(i) enumerates them (NULL past the end). */
const out_mode *shell_mode_find(const char *name);
const out_mode *shell_mode_at(size_t i);
/* Selects mode m and its default separators (a mode with a NULL separator
 * keeps the current one, as sqlite3 does). */
void shell_mode_set(shell *sh, const out_mode *m);
/* Frees what the output modes hold (the grid); the shell stays usable. */
void shell_output_fini(shell *sh);

/* Sets a separator or the null string; false if too long. */
bool shell_set_str(char *dst, size_t *len_out, const char *src);

/* Hooks around one statement; shell_row is the ivm_row_fn (arg = shell). */
void shell_result_begin(shell *sh);
int shell_row(void *arg, uint32_t ncols, const ivm_value *vals,
              const char *const *names);
void shell_result_end(shell *sh);

/* The subscription callback of .watch (arg = shell): prints the delta. */
void shell_watch_delta(void *arg, const ivm_delta *d);

/* Loads the change file at path ("-": standard input) into table (load.c):
 * CSV, or JSON lines when format is "json" or the name ends in .json,
 * .jsonl or .ndjson (format NULL: by the name).  Commits every commit_every
 * records (0: once at the end).  On failure, msg holds "FILE:LINE: reason"
 * (or a reason without a position), the transaction of the bad record was
 * rolled back and the load stopped; earlier commits stay.  Sets
 * sh->load_commits and sh->load_step_ns. */
bool shell_load(shell *sh, const char *table, const char *path, uint64_t commit_every,
                const char *format, char *msg, size_t msgcap);

/* ---- Sizes and the load progress line (progress.c) ---------------------------- */

/* Reads a byte count: digits, then optionally K, M, G or T (powers of
 * 1024), optionally followed by B or iB ("64M", "2GiB", "512"). */
bool shell_parse_size(const char *s, uint64_t *out);
/* Writes n for people ("512 B", "1.5 MiB"); returns the length. */
size_t shell_format_size(uint64_t n, char *buf, size_t cap);

/* The progress line of one load: drawn on standard error only if it is a
 * terminal and sh->progress is on, throttled, erased at the end. */
typedef struct shell_progress {
    bool on, drawn;
    char table[SHELL_STR_MAX];
    uint64_t total;          /* the file's size; 0 for a pipe */
    uint64_t start_ns, next_ns;
} shell_progress;

void shell_progress_begin(shell_progress *p, const shell *sh, const char *table, FILE *fp);
/* Redraws if a tenth of a second has passed: one clock read otherwise. */
void shell_progress_draw(shell_progress *p, uint64_t rows, FILE *fp);
static inline void shell_progress_tick(shell_progress *p, uint64_t rows, FILE *fp)
{
    if (p->on)
        shell_progress_draw(p, rows, fp);
}
/* Erases the line if it is drawn (at the end of a load, and before each of
 * its commits, whose .watch lines go to the terminal too). */
void shell_progress_end(shell_progress *p);
/* The line's text: "t: [#####...] 45% 1200 rows, 1.2 MiB of 2.7 MiB,
 * 5000 rows/s" for a file of total bytes, "t: 1200 rows, 5000 rows/s"
 * for a pipe (total 0); no rate when secs is 0.  Returns the length. */
size_t shell_progress_format(char *buf, size_t cap, const char *table, uint64_t rows,
                             uint64_t bytes, uint64_t total, double secs);

/* .explain (explain.c): runs EXPLAIN [DOT] VIEW view and writes its lines
 * to the file at path (created or truncated) or, with path NULL, to the
 * shell's output.  On failure msg says why. */
bool shell_explain(shell *sh, bool dot, const char *view, const char *path, char *msg,
                   size_t msgcap);

#endif /* SHELL_INT_H */
