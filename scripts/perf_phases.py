#!/usr/bin/env python3
"""Splits a perf profile of an ivm run into where the time went.

Reads `perf script -F comm,tid,ip,sym` output (from a file or standard
input) of a run recorded with call graphs, and sorts every sample into a
phase by the frames on its stack: rows pushed through the input API, the
table batches built at commit, the views' steps, the rest of a commit, the
spine merger's thread, worker threads, and what a benchmark does outside
its clock (generating events, reading the view back, SQLite).  For each
phase it prints its share of all samples, the CPU seconds that share
stands for (samples / --freq), and the symbols most samples stopped in.

A frame-pointer build unwinds through most of ivm; dwarf call graphs lose
many stacks in this code.  The recipe (bench/README.md, "Where the time
goes"):

    make BUILD=build/fp OPT="-O2 -fno-omit-frame-pointer" build/fp/bench/nexmark
    perf record -F 2000 --call-graph fp -o q.data \\
        build/fp/bench/nexmark --events 2000000 --workers 1 --queries q3 --no-sqlite
    perf script -i q.data -F comm,tid,ip,sym | python3 scripts/perf_phases.py --freq 2000

Only the Python standard library is used.
"""
import argparse
import collections
import sys

# Innermost match wins: a view step inside a commit is a view step.
PUSH_PHASES = [
    ("push rows (ivm_input_*)", {"ivm_input_insert", "ivm_input_delete", "ivm_input_push"}),
    ("table batches at commit", {"input_flush", "input_flush.part.0"}),
    ("views' steps", {"views_step", "dbsp_circuit_step"}),
    ("commit, the rest", {"txn_commit", "ivm_commit", "api_flush"}),
]
OUTSIDE = [
    ("outside the clock: generator", {"gen_thread", "nx_gen_range"}),
    ("outside the clock: reading views", {"rel_contents", "ivm_cursor_open", "ivm_cursor_step",
                                          "bench_sum_row"}),
    ("outside the clock: setup", {"ivm_exec", "ivm_open"}),
    ("outside the clock: sqlite", {"sqlite3_step", "sqlite3VdbeExec", "sqlite_child"}),
]
# Stacks a libc routine without frame pointers cut short: formatting
# numbers, which only the read-back does.
PRINTF = ("printf", "vfprintf", "hack_digit", "__mpn_", "_IO_", "strchrnul")


def samples(stream):
    comm = None
    frames = []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if not line[0].isspace():
            parts = line.split()
            comm = parts[0] if parts else "?"
            frames = []
        else:
            parts = line.split()
            frames.append(parts[1] if len(parts) > 1 else "?")
    if comm is not None:
        yield comm, frames


def phase_of(comm, frames):
    names = set(frames)
    for label, syms in OUTSIDE:
        if names & syms:
            return label
    if comm == "ivm-merger":
        return "spine merger thread (also after the clock stops)"
    for f in frames:
        for label, syms in PUSH_PHASES:
            if f in syms:
                return label
    leaf = frames[0] if frames else "?"
    if any(p in leaf for p in PRINTF) or any(any(p in f for p in PRINTF) for f in frames):
        return "outside the clock: reading views"
    if "/" in comm:
        return "worker threads"
    if {"copy_page_range", "_do_fork", "kernel_clone"} & names:
        return "outside the clock: fork"
    return "unattributed (stack cut short)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", help="perf script output (default: standard input)")
    ap.add_argument("--freq", type=float, default=0, help="perf record -F, to print CPU seconds")
    ap.add_argument("--top", type=int, default=8, help="symbols shown per phase")
    args = ap.parse_args()
    stream = open(args.file) if args.file else sys.stdin
    count = collections.Counter()
    leaves = collections.defaultdict(collections.Counter)
    for comm, frames in samples(stream):
        p = phase_of(comm, frames)
        count[p] += 1
        leaves[p][frames[0] if frames else "?"] += 1
    total = sum(count.values())
    if total == 0:
        sys.exit("perf_phases: no samples")
    clocked = sum(v for p, v in count.items() if not p.startswith("outside"))
    print(f"{total} samples, {clocked} of them in the clocked part")
    for p, v in sorted(count.items(), key=lambda kv: (kv[0].startswith("outside"), -kv[1])):
        secs = f" {v / args.freq:7.2f} s" if args.freq else ""
        share = f"{100 * v / clocked:5.1f}% of clocked" if not p.startswith("outside") else ""
        print(f"{100 * v / total:5.1f}%{secs}  {p}  {share}")
        for sym, n in leaves[p].most_common(args.top):
            print(f"         {100 * n / total:5.1f}%  {sym}")


if __name__ == "__main__":
    main()
