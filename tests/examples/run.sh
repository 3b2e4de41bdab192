#!/bin/sh
# tests/examples/run.sh: runs the C API example and checks its output.
#
#   sh tests/examples/run.sh BUILD_DIR
#
# build/examples/ivm_example must print examples/ivm_example.out exactly
# (view contents after each commit and the deltas its subscription got),
# and, where sqlite3 is installed, the view contents it prints (the lines
# that do not start with two spaces or "duplicate") must be what sqlite3
# prints for tests/examples/ivm_example.sql, the same changes as SQL.
# Exits 1 on any difference.
set -u
BUILD=${1:?usage: sh tests/examples/run.sh BUILD_DIR}
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
fail=0
"$BUILD/examples/ivm_example" > "$TMP/out" 2> "$TMP/err" || {
    echo "FAIL ivm_example: exit status $?"; cat "$TMP/err"; exit 1; }
if cmp -s examples/ivm_example.out "$TMP/out"; then
    echo "ok   ivm_example: output as expected"
else
    echo "FAIL ivm_example: output differs from examples/ivm_example.out"
    diff examples/ivm_example.out "$TMP/out" | head -20
    fail=1
fi
if command -v sqlite3 >/dev/null 2>&1; then
    grep -v -e '^  ' -e '^duplicate' "$TMP/out" > "$TMP/views"
    sqlite3 < tests/examples/ivm_example.sql > "$TMP/sqlite" 2>&1
    if cmp -s "$TMP/sqlite" "$TMP/views"; then
        echo "ok   ivm_example: views equal sqlite3's"
    else
        echo "FAIL ivm_example: views differ from sqlite3's"
        diff "$TMP/sqlite" "$TMP/views" | head -20
        fail=1
    fi
fi
exit $fail
