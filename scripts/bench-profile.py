#!/usr/bin/env python3
"""Reads `callgrind_annotate --inclusive=yes` output on stdin and prints, as Markdown, the
share of qexport's instructions spent in each stage: reading and decoding the protocol,
formatting CSV, writing output. Used by scripts/bench.sh."""
import re
import sys

STAGES = [
    ("whole export (run_job)", r"qexport::engine::run_job\b"),
    ("protocol: read and decode rows (mysql crate iterator)", r"QueryResult<.*> as core::iter::traits::iterator::Iterator>::next"),
    ("  of which socket reads (Conn::read_packet)", r"mysql::conn::Conn::read_packet\b"),
    ("  of which dropping rows (allocation churn)", r"drop_in_place<mysql_common::row::Row>"),
    ("output writes (Output::write_all)", r"qtools::out::Output::write_all\b"),
]

costs = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)", line)
    if not m:
        continue
    n, pct, name = int(m.group(1).replace(",", "")), float(m.group(2)), m.group(3)
    for label, pat in STAGES:
        if label not in costs and re.search(pat, name):
            costs[label] = pct
print("Share of qexport's own instructions (callgrind, 100k rows, inclusive):\n")
for label, _ in STAGES:
    if label in costs:
        print(f"- {label.strip()}: {costs[label]:.0f}%")
whole = costs.get("whole export (run_job)")
proto = costs.get("protocol: read and decode rows (mysql crate iterator)")
if whole and proto:
    rest = whole - proto - costs.get("output writes (Output::write_all)", 0)
    print(f"- CSV formatting and the rest of the loop (inlined, by difference): {rest:.0f}%")
