/*
 * explain.c: the shell's .explain command.  It runs EXPLAIN [DOT] VIEW
 * through ivm_exec (the shell knows no engine internals, SH1) and writes the
 * rows, one line each, to a file or to the shell's output, so that
 * `.explain dot v v.dot` leaves a file Graphviz reads.  Design:
 * shell/README.md, "Dot commands".
 */
#include "shell_int.h"

#include <errno.h>
#include <string.h>

/* Writes each row's text (one column) as a line of out. */
static int put_line(void *arg, uint32_t ncols, const ivm_value *vals, const char *const *names)
{
    FILE *out = arg;
    (void)names;
    if (ncols >= 1 && vals[0].type == IVM_TTEXT)
        fwrite(vals[0].u.s.p, 1, vals[0].u.s.n, out);
    fputc('\n', out);
    return 0;
}

bool shell_explain(shell *sh, bool dot, const char *view, const char *path, char *msg,
                   size_t msgcap)
{
    /* The name as a quoted identifier: any name reads back as itself. */
    size_t n = strlen(view);
    char *sql = malloc(2 * n + 32);
    if (sql == NULL) {
        snprintf(msg, msgcap, "out of memory");
        return false;
    }
    size_t k = (size_t)sprintf(sql, "EXPLAIN %sVIEW \"", dot ? "DOT " : "");
    for (size_t i = 0; i < n; i++) {
        if (view[i] == '"')
            sql[k++] = '"';
        sql[k++] = view[i];
    }
    sql[k++] = '"';
    sql[k] = '\0';
    FILE *out = sh->out;
    if (path != NULL && (out = fopen(path, "w")) == NULL) {
        snprintf(msg, msgcap, "cannot open \"%s\": %s", path, strerror(errno));
        free(sql);
        return false;
    }
    ivm_err err;
    ivm_rc rc = ivm_exec(sh->db, sql, k, 1, put_line, out, &err);
    free(sql);
    bool ok = rc == IVM_OK;
    if (!ok)
        snprintf(msg, msgcap, "%s", err.msg);
    if (out != sh->out && fclose(out) != 0 && ok) {
        snprintf(msg, msgcap, "cannot write \"%s\": %s", path, strerror(errno));
        ok = false;
    }
    return ok;
}
