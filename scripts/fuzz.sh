#!/bin/sh
# Runs the fuzz targets built by `make fuzz-build`.
#
#   sh scripts/fuzz.sh BUILD SECONDS TARGET...
#
# The seed corpus is every statement of tests/sql/*.sql (one file each, for
# the parser) and every whole script (for execution); each target runs for
# SECONDS with its own growing corpus in BUILD/corpus_TARGET.  Crashing
# inputs go to BUILD/findings/; the script exits 1 if any target found one.
set -u
BUILD=$1
SECONDS_EACH=$2
shift 2

SEED=$BUILD/seed
rm -rf "$SEED"
mkdir -p "$SEED/statements" "$SEED/scripts" "$BUILD/findings"
for f in tests/sql/*.sql; do
    n=${f##*/}
    n=${n%.sql}
    cp "$f" "$SEED/scripts/$n.sql"
    # One statement per file: lines up to one ending in ';'.
    awk -v dir="$SEED/statements" -v base="$n" '
        { buf = buf $0 "\n" }
        /;[ \t]*$/ { k++; f = dir "/" base "_" k ".sql"; printf "%s", buf > f; close(f); buf = "" }
    ' "$f"
done

status=0
for t in "$@"; do
    bin=$BUILD/fuzz_$t
    corpus=$BUILD/corpus_$t
    mkdir -p "$corpus"
    if [ "$t" = parse ]; then seeds="$SEED/statements $SEED/scripts"; else seeds="$SEED/scripts"; fi
    echo "fuzz: $t for ${SECONDS_EACH}s"
    # -rss_limit_mb bounds memory; -timeout flags inputs slower than 10 s.
    if ! "$bin" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$BUILD/findings/$t-" "$corpus" $seeds 2> "$BUILD/fuzz_$t.log"; then
        echo "fuzz: $t found a problem (see $BUILD/fuzz_$t.log and $BUILD/findings/)"
        tail -n 40 "$BUILD/fuzz_$t.log"
        status=1
    else
        grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$BUILD/fuzz_$t.log" |
            sed "s/^/fuzz: $t: /"
    fi
done
exit $status
