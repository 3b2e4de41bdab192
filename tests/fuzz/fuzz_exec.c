/*
 * fuzz_exec.c: libFuzzer target for statement execution.  Each input is a
 * script run through ivm_exec one line at a time (a failing line does not
 * stop the next, as in the shell) on a fresh engine with one worker, so
 * that DDL, DML, views and ad-hoc queries meet in any order.  Crashes,
 * sanitizer reports and leaks are findings; errors are not.  Built and run
 * by `make fuzz` (Makefile, "Fuzzing").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every value of every row, as a client would. */
static int consume(void *arg, uint32_t ncols, const ivm_value *vals, const char *const *names)
{
    size_t *sum = arg;
    for (uint32_t i = 0; i < ncols; i++) {
        *sum += strlen(names[i]);
        if (vals[i].type == IVM_TTEXT && vals[i].u.s.n > 0)
            *sum += (unsigned char)vals[i].u.s.p[vals[i].u.s.n - 1];
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ivm_options opts = {.workers = 1};
    ivm_db *db = NULL;
    ivm_err err;
    if (ivm_open(&opts, &db, &err) != IVM_OK)
        return 0;
    const char *src = (const char *)data;
    size_t sum = 0, at = 0;
    uint32_t line = 1;
    while (at < size) {
        size_t end = at;
        while (end < size && src[end] != '\n')
            end++;
        ivm_err_clear(&err);
        ivm_rc rc = ivm_exec(db, src + at, end - at, line, consume, &sum, &err);
        if (rc != IVM_OK && err.msg[0] == '\0') {
            fprintf(stderr, "fuzz_exec: an error without its message\n");
            abort();
        }
        at = end + 1;
        line++;
    }
    ivm_close(db);
    return 0;
}
