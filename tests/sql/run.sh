#!/bin/sh
# tests/sql/run.sh: the SQL golden tests.
#
#   sh tests/sql/run.sh path/to/ivm [NAME...]
#
# Runs every tests/sql/NAME.sql (or only the NAMEs given) through the shell in
# batch mode (the file on standard input), once with the default worker count
# and once with each count in SQLTEST_WORKERS, and checks for every run that
#   - standard output equals NAME.out,
#   - standard error equals NAME.err, if that file exists,
#   - the exit status is 1 if anything went to standard error, else 0 (any
#     other status, a crash or a timeout, fails).
# If the sqlite3 shell is installed and NAME.sql has no line "-- ivm-only",
# sqlite3 runs the same file and must print NAME.out too (so every expected
# output is what SQLite prints), and its errors must come from the same lines
# as ivm's ("near line N").  Files marked "-- ivm-only" test behaviour of ivm
# alone, such as its errors for unsupported views.
#
# Prints one line per file ("ok   NAME" or "FAIL NAME", then indented
# details and diffs) and then "sqltest: N passed, M failed"; exits 1 if
# any file failed.
#
# Environment: SQLTEST_WORKERS (default "1 2 4 7"), SQLTEST_TIMEOUT (seconds
# per run, default 120), SQLTEST_SQLITE (the sqlite3 command).

set -u

if [ $# -lt 1 ]; then
    echo "usage: sh tests/sql/run.sh path/to/ivm [NAME...]" >&2
    exit 2
fi
IVM=$1
shift
if [ ! -x "$IVM" ]; then
    echo "sqltest: $IVM is not an executable" >&2
    exit 2
fi

DIR=$(dirname "$0")
WORKERS=${SQLTEST_WORKERS:-"1 2 4 7"}
TIMEOUT=${SQLTEST_TIMEOUT:-120}
SQLITE=${SQLTEST_SQLITE:-sqlite3}
MAXDIFF=60

TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

RUN_TO=
if command -v timeout >/dev/null 2>&1; then
    RUN_TO="timeout $TIMEOUT"
fi
HAVE_SQLITE=0
if command -v "$SQLITE" >/dev/null 2>&1; then
    HAVE_SQLITE=1
else
    echo "sqltest: $SQLITE not found: expected outputs are not checked against SQLite"
fi

# The line numbers of "near line N:" errors in a stderr file, one per line.
error_lines() {
    sed -n 's/.*near line \([0-9][0-9]*\):.*/\1/p' "$1"
}

# Prints the first lines of a unified diff, indented.
show_diff() {
    diff -u "$1" "$2" | head -n "$MAXDIFF" | sed 's/^/    /'
}

passed=0
failed=0

# check_file NAME: runs every check on NAME.sql; prints why it failed, if it
# did, and returns non-zero then.
check_file() {
    name=$1
    sql=$DIR/$name.sql
    exp_out=$DIR/$name.out
    exp_err=$DIR/$name.err
    bad=0
    bad_out=
    bad_err=
    if [ ! -f "$exp_out" ]; then
        echo "  $name.out is missing"
        return 1
    fi
    for w in default $WORKERS; do
        if [ "$w" = default ]; then
            set --
        else
            set -- --workers "$w"
        fi
        $RUN_TO "$IVM" "$@" < "$sql" > "$TMP/out" 2> "$TMP/err"
        status=$?
        if [ "$w" = default ]; then
            cp "$TMP/err" "$TMP/err.default"
        fi
        what="workers=$w"
        if [ $status -eq 124 ] && [ -n "$RUN_TO" ]; then
            echo "  $what: timed out after ${TIMEOUT}s"
            bad=1
            continue
        fi
        if [ $status -gt 1 ]; then
            echo "  $what: exit status $status (crash?)"
            sed 's/^/    /' "$TMP/err" | head -n 20
            bad=1
            continue
        fi
        # A wrong output that another worker count already printed is named,
        # not shown again.
        if ! cmp -s "$exp_out" "$TMP/out"; then
            if [ -n "$bad_out" ] && cmp -s "$TMP/bad.out" "$TMP/out"; then
                echo "  $what: standard output differs as with workers=$bad_out"
            else
                echo "  $what: standard output differs from $name.out"
                show_diff "$exp_out" "$TMP/out"
                cp "$TMP/out" "$TMP/bad.out"
                bad_out=$w
            fi
            bad=1
        fi
        if [ -f "$exp_err" ] && ! cmp -s "$exp_err" "$TMP/err"; then
            if [ -n "$bad_err" ] && cmp -s "$TMP/bad.err" "$TMP/err"; then
                echo "  $what: standard error differs as with workers=$bad_err"
            else
                echo "  $what: standard error differs from $name.err"
                show_diff "$exp_err" "$TMP/err"
                cp "$TMP/err" "$TMP/bad.err"
                bad_err=$w
            fi
            bad=1
        fi
        if [ -s "$TMP/err" ] && [ $status -ne 1 ]; then
            echo "  $what: errors were printed but the exit status is $status"
            bad=1
        elif [ ! -s "$TMP/err" ] && [ $status -ne 0 ]; then
            echo "  $what: exit status $status without an error message"
            bad=1
        fi
    done
    if [ $HAVE_SQLITE -eq 1 ] &&
       ! grep -q '^-- ivm-only[[:space:]]*$' "$sql"; then
        $RUN_TO "$SQLITE" -batch -init /dev/null < "$sql" > "$TMP/sq.out" 2> "$TMP/sq.err"
        if ! cmp -s "$exp_out" "$TMP/sq.out"; then
            echo "  sqlite3 does not print $name.out (fix the expected output or mark the file -- ivm-only)"
            show_diff "$exp_out" "$TMP/sq.out"
            bad=1
        fi
        if [ -f "$TMP/err.default" ]; then
            ivm_lines=$(error_lines "$TMP/err.default" | tr '\n' ' ')
            sq_lines=$(error_lines "$TMP/sq.err" | tr '\n' ' ')
            if [ "$ivm_lines" != "$sq_lines" ]; then
                echo "  errors on other lines than sqlite3's: ivm [${ivm_lines% }] sqlite3 [${sq_lines% }]"
                bad=1
            fi
        fi
    fi
    return $bad
}

if [ $# -gt 0 ]; then
    names=$*
else
    names=
    for f in "$DIR"/*.sql; do
        [ -f "$f" ] || continue
        n=${f##*/}
        names="$names ${n%.sql}"
    done
fi

for name in $names; do
    if [ ! -f "$DIR/$name.sql" ]; then
        echo "FAIL $name"
        echo "  no $name.sql"
        failed=$((failed + 1))
        continue
    fi
    rm -f "$TMP/err.default"
    if check_file "$name" > "$TMP/report"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        cat "$TMP/report"
        failed=$((failed + 1))
    fi
done

echo "sqltest: $passed passed, $failed failed"
[ $failed -eq 0 ]
