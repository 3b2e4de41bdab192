#!/bin/sh
# tests/load/run.sh: change files through .load and ivm --load.
#
#   sh tests/load/run.sh path/to/ivm
#
# Generates a stream of inserts and deletes (CSV with a header and a
# _weight column, JSON lines with insert/delete/upsert records, a CSV
# without a header) and the same changes as SQL; loads the files into ivm
# (in one go, committing every N records, and through a named pipe) and
# checks that every view prints what sqlite3 computes from the SQL.  Then
# loads files with a bad record in the middle and checks that the error
# names the file and line and that every view is exactly what it was after
# the last commit before the bad record's transaction.
# Prints "load: N passed, M failed"; exits 1 if anything failed.

set -u
IVM=${1:?usage: sh tests/load/run.sh path/to/ivm}
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0
check() { # name, status (0 = ok), detail
    if [ "$2" -eq 0 ]; then
        echo "ok   $1"; pass=$((pass + 1))
    else
        echo "FAIL $1: $3"; fail=$((fail + 1))
    fi
}
if ! command -v sqlite3 >/dev/null 2>&1; then
    echo "load: sqlite3 is not installed; skipped"
    exit 0
fi

cat > "$TMP/schema.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount INTEGER);
CREATE TABLE u(k INTEGER, tag TEXT);
CREATE VIEW v1 AS SELECT name, COUNT(*) AS n, SUM(amount) AS s FROM t GROUP BY name;
CREATE VIEW v2 AS SELECT u.tag AS tag, COUNT(*) AS n, SUM(t.amount) AS s
  FROM t JOIN u ON t.id % 7 = u.k GROUP BY u.tag;
CREATE VIEW v3 AS SELECT DISTINCT tag FROM u;
SQL
cat > "$TMP/query.sql" <<'SQL'
SELECT * FROM v1 ORDER BY name;
SELECT * FROM v2 ORDER BY tag;
SELECT * FROM v3 ORDER BY tag;
SQL

# t.csv: header with _weight, inserts and deletes of present rows (names
# with commas, quotes and line breaks); t.jsonl: deletes by key and
# upserts; u.csv: no header, inserts; u.jsonl: inserts and deletes of one
# copy.  changes.sql: all of it as SQL, in the same order.
awk -v dir="$TMP" 'BEGIN {
    srand(11)
    names[0] = "ann"; names[1] = "bob, jr"; names[2] = "say \"hi\""
    names[3] = "two\nlines"; names[4] = "zed"
    sql = dir "/changes.sql"
    tcsv = dir "/t.csv"; print "id,name,amount,_weight" > tcsv
    nids = 0
    for (i = 0; i < 1500; i++) {
        if (nids > 20 && rand() < 0.35) {
            j = int(rand() * nids); id = ids[j]
            printf "%d,%s,%d,-1\n", id, csvq(nm[id]), amt[id] > tcsv
            printf "DELETE FROM t WHERE id = %d;\n", id > sql
            ids[j] = ids[--nids]; delete nm[id]
        } else {
            id = ++next_id; n = names[int(rand() * 5)]; a = int(rand() * 100)
            printf "%d,%s,%d,1\n", id, csvq(n), a > tcsv
            printf "INSERT INTO t VALUES (%d, %s, %d);\n", id, sqlq(n), a > sql
            ids[nids++] = id; nm[id] = n; amt[id] = a
        }
    }
    tj = dir "/t.jsonl"
    for (i = 0; i < 400; i++) {
        if (rand() < 0.4) {
            j = int(rand() * nids); id = ids[j]
            printf "{\"delete\": {\"id\": %d}}\n", id > tj
            printf "DELETE FROM t WHERE id = %d;\n", id > sql
            ids[j] = ids[--nids]; delete nm[id]
        } else {
            if (rand() < 0.5 && nids > 0) id = ids[int(rand() * nids)]
            else { id = ++next_id; ids[nids++] = id }
            n = names[int(rand() * 5)]; a = int(rand() * 100); nm[id] = n; amt[id] = a
            printf "{\"upsert\": {\"amount\": %d, \"id\": %d, \"name\": %s}}\n", a, id, jsq(n) > tj
            printf "INSERT OR REPLACE INTO t VALUES (%d, %s, %d);\n", id, sqlq(n), a > sql
        }
    }
    ucsv = dir "/u.csv"; uj = dir "/u.jsonl"; nu = 0
    for (i = 0; i < 300; i++) {
        k = int(rand() * 7); g = "g" int(rand() * 4)
        printf "%d,%s\n", k, g > ucsv
        printf "INSERT INTO u VALUES (%d, %s);\n", k, sqlq(g) > sql
        uk[nu] = k; ug[nu++] = g
    }
    for (i = 0; i < 200; i++) {
        if (rand() < 0.5 && nu > 0) {
            j = int(rand() * nu)
            printf "{\"delete\": {\"k\": %d, \"tag\": \"%s\"}}\n", uk[j], ug[j] > uj
            printf "DELETE FROM u WHERE rowid = (SELECT rowid FROM u WHERE k = %d AND tag = %s LIMIT 1);\n", uk[j], sqlq(ug[j]) > sql
            uk[j] = uk[nu - 1]; ug[j] = ug[--nu]
        } else {
            k = int(rand() * 7); g = "g" int(rand() * 5)
            printf "{\"insert\": {\"k\": %d, \"tag\": \"%s\"}}\n", k, g > uj
            printf "INSERT INTO u VALUES (%d, %s);\n", k, sqlq(g) > sql
            uk[nu] = k; ug[nu++] = g
        }
    }
}
function csvq(s) { if (s ~ /[",\n]/) { gsub(/"/, "\"\"", s); return "\"" s "\"" } return s }
function sqlq(s) { gsub(/\047/, "\047\047", s); return "\047" s "\047" }
function jsq(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\n/, "\\n", s); return "\"" s "\"" }'

{ cat "$TMP/schema.sql" "$TMP/changes.sql" "$TMP/query.sql"; } | sqlite3 > "$TMP/want" 2>&1
[ "$(grep -c "|" "$TMP/want")" -ge 8 ] && ! grep -q "^Error\|^Parse error\|^Runtime error" "$TMP/want"
check "sqlite3 runs the changes as SQL" $? "$(head -3 "$TMP/want")"

# 1. .load of every file, one commit each.
{ cat "$TMP/schema.sql"
  echo ".load t $TMP/t.csv"; echo ".load t $TMP/t.jsonl"
  echo ".load u $TMP/u.csv"; echo ".load u $TMP/u.jsonl"
  cat "$TMP/query.sql"; } > "$TMP/load1.sql"
"$IVM" --workers 2 "$TMP/load1.sql" > "$TMP/got1" 2> "$TMP/err1"
cmp -s "$TMP/want" "$TMP/got1"
check ".load CSV and JSON lines: views equal sqlite3's" $? "$(diff "$TMP/want" "$TMP/got1" | head -5; head -3 "$TMP/err1")"

# 2. Committing every 7 records, on 3 workers.
sed 's/^\.load /.load --commit 7 /' "$TMP/load1.sql" > "$TMP/load2.sql"
"$IVM" --workers 3 "$TMP/load2.sql" > "$TMP/got2" 2> "$TMP/err2"
cmp -s "$TMP/want" "$TMP/got2"
check ".load --commit 7: views equal sqlite3's" $? "$(diff "$TMP/want" "$TMP/got2" | head -5; head -3 "$TMP/err2")"

# 3. ivm --load TABLE=FILE on the command line.
"$IVM" --workers 1 "$TMP/schema.sql" --commit 50 --load "t=$TMP/t.csv" --load "t=$TMP/t.jsonl" \
    --load "u=$TMP/u.csv" --load "u=$TMP/u.jsonl" "$TMP/query.sql" > "$TMP/got3" 2> "$TMP/err3"
cmp -s "$TMP/want" "$TMP/got3"
check "ivm --load TABLE=FILE: views equal sqlite3's" $? "$(diff "$TMP/want" "$TMP/got3" | head -5; head -3 "$TMP/err3")"

# 4. A named pipe, written in two parts while the shell reads it.
if mkfifo "$TMP/pipe" 2>/dev/null; then
    { head -n 700 "$TMP/t.csv"; sleep 0.2; tail -n +701 "$TMP/t.csv"; } > "$TMP/pipe" &
    { cat "$TMP/schema.sql"
      echo ".load --csv --commit 100 t $TMP/pipe"; echo ".load t $TMP/t.jsonl"
      echo ".load u $TMP/u.csv"; echo ".load u $TMP/u.jsonl"
      cat "$TMP/query.sql"; } > "$TMP/load4.sql"
    "$IVM" "$TMP/load4.sql" > "$TMP/got4" 2> "$TMP/err4"
    wait
    cmp -s "$TMP/want" "$TMP/got4"
    check ".load from a pipe: views equal sqlite3's" $? "$(diff "$TMP/want" "$TMP/got4" | head -5; head -3 "$TMP/err4")"
fi

# 5. Bad records.  Each case: a file, the commit interval, the line the
# error must name with its reason, and how many records were committed
# before the bad record's transaction (their SQL is the expected state).
bad_case() { # name file table every want_err ncommitted sqlfile
    name=$1 file=$2 table=$3 every=$4 want_err=$5 ncommitted=$6 sqlfile=$7
    { cat "$TMP/schema.sql"; echo ".load --commit $every $table $file"; cat "$TMP/query.sql"; } \
        > "$TMP/bad.sql"
    "$IVM" --workers 2 "$TMP/bad.sql" > "$TMP/badgot" 2> "$TMP/baderr"
    rc=$?
    { cat "$TMP/schema.sql"; head -n "$ncommitted" "$sqlfile"; cat "$TMP/query.sql"; } |
        sqlite3 > "$TMP/badwant" 2>&1
    cmp -s "$TMP/badwant" "$TMP/badgot"
    check "$name: views as after the last commit" $? "$(diff "$TMP/badwant" "$TMP/badgot" | head -5)"
    grep -qxF "Error: near line 7: $want_err" "$TMP/baderr" && [ "$rc" -eq 1 ]
    check "$name: error names the line" $? "rc $rc, got: $(cat "$TMP/baderr")"
}
printf 'id,name,amount\n1,a,1\n2,b,2\n3,c,3\n4,d,4\n5,e,5\n6,f,6\n2,dup,7\n8,h,8\n' > "$TMP/dup.csv"
printf 'INSERT INTO t VALUES (%d, %s, %d);\n' 1 "'a'" 1 2 "'b'" 2 3 "'c'" 3 4 "'d'" 4 > "$TMP/dup.sql"
bad_case "duplicate PRIMARY KEY" "$TMP/dup.csv" t 4 "$TMP/dup.csv:8: UNIQUE constraint failed: t.id" 4 "$TMP/dup.sql"
printf '1,a,1\n2,b,2\n3,c,3\n4,d\n5,e,5\n' > "$TMP/count.csv"
bad_case "wrong column count" "$TMP/count.csv" t 2 "$TMP/count.csv:4: 2 fields, expected 3" 2 "$TMP/dup.sql"
printf '1,a,1\n2,b,2\n3,c,3\n4,d,4\n5,e,five\n' > "$TMP/type.csv"
bad_case "a value of the wrong type" "$TMP/type.csv" t 3 \
    "$TMP/type.csv:5: cannot store a TEXT value in INTEGER column t.amount" 3 "$TMP/dup.sql"
printf '1,a,1\n2,b,2\n3,,3\n' > "$TMP/null.csv"
bad_case "NOT NULL" "$TMP/null.csv" t 2 "$TMP/null.csv:3: NOT NULL constraint failed: t.name" 2 "$TMP/dup.sql"
printf '{"insert": {"id": 1, "name": "a", "amount": 1}}\n{"insert": {"id": 2, "name": "b", "amount": 2}}\n\n{"insert": {"id": 3, "name": "c", "amount": 3}}\n{"insert": {"id": 4, "name": "d", "amount": 4}\n' > "$TMP/syntax.jsonl"
bad_case "JSON syntax" "$TMP/syntax.jsonl" t 2 "$TMP/syntax.jsonl:5: expected '}' at the end of the line" 2 "$TMP/dup.sql"
printf '{"insert": {"id": 1, "name": "a", "amount": 1}}\n{"delete": {"id": 9}}\n' > "$TMP/nokey.jsonl"
bad_case "delete of a missing key" "$TMP/nokey.jsonl" t 1 \
    "$TMP/nokey.jsonl:2: no row with this PRIMARY KEY to delete" 1 "$TMP/dup.sql"
printf 'id,name,amount,weight\n1,a,1,1\n2,b,2,1\n1,a,1,-1\n2,b,3,-1\n' > "$TMP/missing.csv"
bad_case "weighted delete of a row that is not there" "$TMP/missing.csv" t 5 \
    "$TMP/missing.csv:5: cannot delete (2, 'b', 3) from t: the table holds 0 of it" 0 "$TMP/dup.sql"
printf 'id,name,amount\n1,"a\n2,b,2\n' > "$TMP/quote.csv"
bad_case "unterminated quote" "$TMP/quote.csv" t 5 \
    "$TMP/quote.csv:2: unterminated quoted field (it starts on line 2)" 0 "$TMP/dup.sql"

printf '{"upsert": {"id": 4, "name": "zed", "amount": 9}}\n{"upsert": {"id": 7, "name": "ann", "amount": 1}}\n{"insert": {"id": 200001, "name": "w", "amount": 5}}\n' > "$TMP/w.jsonl"
# 6. .watch: after each commit, the lines it prints are the difference
# between the view's contents before and after (rows of v1 and v2 are
# unique: one per group).
{ cat "$TMP/schema.sql"; echo ".load t $TMP/t.csv"; echo ".load u $TMP/u.csv"
  echo "UPDATE t SET name = 'two lines' WHERE name LIKE 'two%';" # one line per row
  echo ".watch v1"; echo ".watch v2"
  for step in "BEGIN; DELETE FROM t WHERE id % 3 = 0; UPDATE t SET amount = amount + 1 WHERE id % 5 = 1; COMMIT;" \
              ".load t $TMP/w.jsonl" "DELETE FROM u WHERE k = 2;" "INSERT INTO t VALUES (100000, 'new', 1);"; do
      echo "SELECT '#before'; SELECT 'v1: ' || name || '|' || n || '|' || s FROM v1;"
      echo "SELECT 'v2: ' || tag || '|' || n || '|' || s FROM v2;"
      echo "SELECT '#commit';"; echo "$step"
      echo "SELECT '#after'; SELECT 'v1: ' || name || '|' || n || '|' || s FROM v1;"
      echo "SELECT 'v2: ' || tag || '|' || n || '|' || s FROM v2;"
  done; } > "$TMP/watch.sql"
"$IVM" --workers 2 "$TMP/watch.sql" > "$TMP/watch.out" 2> "$TMP/watch.err"
# Splits the output per commit into before/watch/after files; then checks.
awk -v dir="$TMP" '
    /^#before$/ { n++; f = dir "/w" n ".before"; printf "" > f; next }
    /^#commit$/ { f = dir "/w" n ".watch"; printf "" > f; next }
    /^#after$/  { f = dir "/w" n ".after"; printf "" > f; next }
    { print > f }' "$TMP/watch.out"
wfail=0
nwatch=0
for i in 1 2 3 4; do
    [ -f "$TMP/w$i.after" ] || { wfail=1; break; }
    sort "$TMP/w$i.before" > "$TMP/b"; sort "$TMP/w$i.after" > "$TMP/a"
    { comm -13 "$TMP/b" "$TMP/a" | sed 's/^\(v[12]: \)/\1+1 /'
      comm -23 "$TMP/b" "$TMP/a" | sed 's/^\(v[12]: \)/\1-1 /'; } | sort > "$TMP/want_w"
    sort "$TMP/w$i.watch" > "$TMP/got_w"
    nwatch=$((nwatch + $(wc -l < "$TMP/got_w")))
    cmp -s "$TMP/want_w" "$TMP/got_w" || { wfail=1; diff "$TMP/want_w" "$TMP/got_w" | head -5; }
done
[ "$wfail" -eq 0 ] && [ "$nwatch" -gt 10 ] && [ ! -s "$TMP/watch.err" ]
check ".watch prints each commit's difference of the views" $? "$nwatch lines; $(head -3 "$TMP/watch.err")"

# 7. The memory limit: a load runs into it; the error names the line and
# the limit, the views are what the commits before that transaction made
# (sqlite3 over those records), and deleting brings the engine back under
# the limit so that inserting works again.
awk 'BEGIN { print "id,name,amount"; pad = sprintf("%0200d", 0)
             for (i = 1; i <= 40000; i++) printf "%d,n%d%s,%d\n", i, i % 5, pad, i % 100 }' \
    > "$TMP/big.csv"
{ cat "$TMP/schema.sql"; echo ".load --commit 500 t $TMP/big.csv"; cat "$TMP/query.sql"
  echo "DELETE FROM t WHERE id > 10; DELETE FROM t WHERE id = 10;"
  echo "INSERT INTO t VALUES (100000, 'again', 1);"; echo "SELECT COUNT(*) FROM t;"; } > "$TMP/mem.sql"
"$IVM" --workers 2 --memory-limit 2M "$TMP/mem.sql" > "$TMP/memgot" 2> "$TMP/memerr"
line=$(sed -n 's/^Error: near line 7: .*big\.csv:\([0-9]*\): memory limit exceeded: [0-9]* bytes in use, limit 2097152\(; the transaction was rolled back\)\{0,1\}$/\1/p' "$TMP/memerr")
[ -n "$line" ] && [ "$(wc -l < "$TMP/memerr")" -eq 1 ]
check "memory limit: a load stops with the limit's error and its line" $? "$(head -3 "$TMP/memerr")"
ncommitted=$(( ${line:-2} > 2 ? (${line:-2} - 2) / 500 * 500 : 0 ))
{ cat "$TMP/schema.sql"
  awk -F, -v n="$ncommitted" 'NR > 1 && NR <= n + 1 {
      printf "INSERT INTO t VALUES (%d, \x27%s\x27, %d);\n", $1, $2, $3 }' "$TMP/big.csv"
  cat "$TMP/query.sql"; echo "SELECT 10;"; } | sqlite3 > "$TMP/memwant" 2>&1
[ "$ncommitted" -gt 0 ] && cmp -s "$TMP/memwant" "$TMP/memgot"
check "memory limit: views as after the last commit, then deleting makes room" $? \
    "committed $ncommitted; $(diff "$TMP/memwant" "$TMP/memgot" | head -5)"

# 8. The progress line: never on standard error when it is not a terminal;
# on a terminal (script(1) gives one), drawn during a slow load from a pipe
# and erased at its end, unless --no-progress.
{ cat "$TMP/schema.sql"; echo ".load t $TMP/big.csv"; } > "$TMP/prog.sql"
"$IVM" "$TMP/prog.sql" > "$TMP/proggot" 2> "$TMP/progerr"
[ ! -s "$TMP/progerr" ] && [ ! -s "$TMP/err1" ] && [ ! -s "$TMP/err2" ]
check "no progress line when standard error is a file" $? "$(head -c 200 "$TMP/progerr")"
if command -v script >/dev/null 2>&1 && mkfifo "$TMP/slow" 2>/dev/null; then
    for opt in "" "--no-progress"; do
        { head -n 3000 "$TMP/big.csv"; sleep 1; tail -n +3001 "$TMP/big.csv"; } > "$TMP/slow" &
        script -qec "$IVM $opt $TMP/schema.sql --load t=$TMP/slow" /dev/null > "$TMP/tty" 2>&1
        wait
        if [ -z "$opt" ]; then
            grep -q "t: [0-9]* rows" "$TMP/tty" && grep -q "$(printf '\r\033\\[K')" "$TMP/tty"
            check "a progress line on a terminal" $? "$(head -c 300 "$TMP/tty" | od -c | head -5)"
        else
            ! grep -q "rows" "$TMP/tty"
            check "--no-progress: no progress line on a terminal" $? "$(head -c 300 "$TMP/tty")"
        fi
    done
fi

echo "load: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
