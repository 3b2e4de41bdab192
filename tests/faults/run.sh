#!/bin/sh
# tests/faults/run.sh: supervision under injected faults (IVM_FAULT).
#
#   sh tests/faults/run.sh path/to/ivm
#
# Runs one script of inserts and deletes into tables read by a join +
# GROUP BY view and a DISTINCT view, first without faults, then with the
# spine merger failing every so often (it is restarted by its supervisor),
# then failing on every merge (its supervisor gives up; spines then merge
# in their owners' threads), then with the catalog process failing (its
# restart re-asserts the catalog from SQLite).  Every run must print the
# same view contents, `.status` must show the merger's restarts, and
# `.tables` must list every table and view after a catalog failure.
# Prints "faults: N passed, M failed"; exits 1 if anything failed.

set -u
IVM=${1:?usage: sh tests/faults/run.sh path/to/ivm}
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
RUN_TO=
command -v timeout >/dev/null 2>&1 && RUN_TO="timeout 120"

awk 'BEGIN {
    print "CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER);"
    print "CREATE TABLE u(a INTEGER, c INTEGER);"
    print "CREATE VIEW v AS SELECT t.a % 10 AS g, COUNT(*) AS n, SUM(b + c) AS s FROM t JOIN u ON t.a = u.a GROUP BY t.a % 10;"
    print "CREATE VIEW w AS SELECT DISTINCT b % 7 AS x FROM t;"
    for (i = 1; i <= 400; i++) {
        printf "INSERT INTO t VALUES (%d, %d);\n", i, (i * 7) % 13
        printf "INSERT INTO u VALUES (%d, %d), (%d, 1);\n", i, i % 5, i + 1
        if (i % 10 == 0) printf "DELETE FROM t WHERE a = %d;\n", i - 5
        if (i % 25 == 0) printf "UPDATE u SET c = c + 1 WHERE a %% 3 = 0;\n"
    }
    print "SELECT * FROM v ORDER BY g;"
    print "SELECT * FROM w ORDER BY x;"
}' > "$TMP/script.sql"
{ echo ".read $TMP/script.sql"; echo ".status"; echo ".tables"; } > "$TMP/main.sql"

pass=0
fail=0
check() { # name, condition result (0 = ok), detail
    if [ "$2" -eq 0 ]; then
        echo "ok   $1"; pass=$((pass + 1))
    else
        echo "FAIL $1: $3"; fail=$((fail + 1))
    fi
}

# A run: workers, fault spec ("" for none); writes $TMP/<tag>.{view,status,tables}.
run() {
    tag=$1 workers=$2 spec=$3
    IVM_FAULT=$spec $RUN_TO "$IVM" --workers "$workers" "$TMP/main.sql" \
        > "$TMP/$tag.out" 2> "$TMP/$tag.err"
    echo $? > "$TMP/$tag.rc"
    grep -v '^root' "$TMP/$tag.out" | grep -v '^t  u  v  w$' > "$TMP/$tag.view"
    grep '^root' "$TMP/$tag.out" > "$TMP/$tag.status"
}

run base 2 ""
check "no faults: runs clean" "$(cat "$TMP/base.rc")" "exit status $(cat "$TMP/base.rc")"
if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 < "$TMP/script.sql" > "$TMP/sqlite.view" 2>&1
    cmp -s "$TMP/sqlite.view" "$TMP/base.view"
    check "no faults: the views are what sqlite3 computes" $? \
        "$(diff "$TMP/sqlite.view" "$TMP/base.view" | head -5)"
else
    [ -s "$TMP/base.view" ]
    check "no faults: prints the views" $? "empty output"
fi

for w in 1 3; do
    run "some$w" "$w" "merger:fail@3/150"
    cmp -s "$TMP/base.view" "$TMP/some$w.view"
    check "merger fails now and then, $w workers: same views" $? \
        "$(diff "$TMP/base.view" "$TMP/some$w.view" | head -5)"
    grep -Eq '^root/merger +[a-z]+ +starts=[0-9]+ restarts=[1-9]' "$TMP/some$w.status"
    check "merger fails now and then, $w workers: .status shows restarts" $? \
        "$(grep merger "$TMP/some$w.status")"
done

run storm 2 "merger:fail@1/1"
cmp -s "$TMP/base.view" "$TMP/storm.view"
check "merger fails on every merge: same views" $? \
    "$(diff "$TMP/base.view" "$TMP/storm.view" | head -5)"
grep -Eq '^root/merger +failed' "$TMP/storm.status"
check "merger fails on every merge: given up" $? "$(grep merger "$TMP/storm.status")"

run catalog 2 "catalog:fail@2"
cmp -s "$TMP/base.view" "$TMP/catalog.view"
check "catalog fails: same views" $? "$(diff "$TMP/base.view" "$TMP/catalog.view" | head -5)"
grep -q '^t  u  v  w$' "$TMP/catalog.out"
check "catalog fails: .tables lists everything after the restart" $? \
    "$(tail -3 "$TMP/catalog.out")"
grep -Eq '^root/engine1/catalog +running +starts=2 restarts=1' "$TMP/catalog.status"
check "catalog fails: .status shows its restart" $? "$(grep catalog "$TMP/catalog.status")"

echo "faults: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
