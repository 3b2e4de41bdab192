#!/usr/bin/env python3
"""Draws the throughput of the Nexmark queries as an SVG bar chart.

Reads the JSON lines that build/bench/nexmark (or `make bench`) prints, from
the files named on the command line or from standard input, and writes an
SVG chart: one group of bars per query, one bar per worker count, the
height is events per second (per_s; --per-core plots per_s_per_core).
Skipped and failed queries are listed under the chart; a run whose view
did not match SQLite's result is marked with an "x".  Only the Python
standard library is used.

    build/bench/nexmark --events 1000000 | python3 scripts/plot_bench.py -o nexmark.svg
"""
import argparse
import json
import sys
from xml.sax.saxutils import escape

COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"]


def read_lines(files):
    streams = [open(f) for f in files] if files else [sys.stdin]
    for s in streams:
        for line in s:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def query_key(name):
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 0, name)


def nice_max(v):
    if v <= 0:
        return 1.0
    step = 10 ** (len(str(int(v))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= v:
            return m * step
    return 10 * step


def human(v):
    if v >= 1e6:
        return "%.2gM" % (v / 1e6) if v < 1e7 else "%.0fM" % (v / 1e6)
    if v >= 1e3:
        return "%.0fk" % (v / 1e3)
    return "%.0f" % v


def chart(records, per_core, title):
    field = "per_s_per_core" if per_core else "per_s"
    runs = {}     # query -> workers -> record
    notes = []
    events = set()
    for r in records:
        if r.get("bench") != "nexmark":
            continue
        q = r.get("query", "?")
        if r.get("skipped") or r.get("failed"):
            notes.append("%s: %s" % (q, r.get("message", "skipped")))
            continue
        if field not in r:
            continue
        runs.setdefault(q, {})[int(r.get("workers", 1))] = r
        events.add(r.get("events"))
    queries = sorted(runs, key=query_key)
    workers = sorted({w for q in queries for w in runs[q]})
    top = nice_max(max([runs[q][w][field] for q in queries for w in runs[q]] or [1]))

    left, right, top_pad, plot_h = 70, 20, 50, 300
    bar_w, gap = 14, 16
    group_w = max(1, len(workers)) * bar_w + gap
    width = max(600, left + right + max(1, len(queries)) * group_w)
    notes = sorted(set(notes))
    height = top_pad + plot_h + 60 + 16 * (len(workers) + len(notes))
    out = []
    out.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
               'font-family="sans-serif" font-size="11">' % (width, height))
    out.append('<rect width="100%" height="100%" fill="white"/>')
    ev = ", ".join(str(e) for e in sorted(x for x in events if x is not None))
    out.append('<text x="%d" y="20" font-size="14">%s</text>' % (
        left, escape("%s (%s events; %s)" % (title, ev or "?",
                                             "events/s per core" if per_core else "events/s"))))
    for i in range(6):
        v = top * i / 5
        y = top_pad + plot_h - plot_h * i / 5
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (
            left, width - right, y, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 4, y + 4, human(v)))
    for qi, q in enumerate(queries):
        x0 = left + qi * group_w + gap / 2
        for wi, w in enumerate(workers):
            r = runs[q].get(w)
            if r is None:
                continue
            v = r[field]
            h = plot_h * v / top
            x = x0 + wi * bar_w
            y = top_pad + plot_h - h
            color = COLORS[wi % len(COLORS)]
            tip = "%s, %d workers: %s events/s" % (q, w, human(v))
            out.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s">'
                       '<title>%s</title></rect>' % (x, y, bar_w - 2, h, color, escape(tip)))
            if r.get("match") is False:
                out.append('<text x="%.1f" y="%.1f" fill="red" font-weight="bold">x</text>' % (
                    x + 2, y - 3))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (
            x0 + len(workers) * bar_w / 2, top_pad + plot_h + 14, escape(q)))
    y = top_pad + plot_h + 36
    for wi, w in enumerate(workers):
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>' % (
            left, y - 9, COLORS[wi % len(COLORS)]))
        out.append('<text x="%d" y="%d">%d worker%s</text>' % (
            left + 14, y, w, "" if w == 1 else "s"))
        y += 16
    for n in notes:
        out.append('<text x="%d" y="%d" fill="#666">%s</text>' % (left, y, escape(n)))
        y += 16
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="JSON lines (default: standard input)")
    ap.add_argument("-o", "--output", help="SVG file (default: standard output)")
    ap.add_argument("--per-core", action="store_true", help="plot per_s_per_core")
    ap.add_argument("--title", default="ivm Nexmark throughput")
    a = ap.parse_args()
    svg = chart(list(read_lines(a.files)), a.per_core, a.title)
    if a.output:
        with open(a.output, "w") as f:
            f.write(svg)
    else:
        sys.stdout.write(svg)


if __name__ == "__main__":
    main()
