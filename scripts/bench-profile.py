#!/usr/bin/env python3
"""Reads `callgrind_annotate --inclusive=yes` output on stdin and prints, as Markdown, the
share of a tool's instructions spent in each stage. `bench-profile.py qexport`: reading and
decoding the protocol, formatting CSV, writing output. `bench-profile.py qimport`: parsing,
validation, encoding, sending. Used by scripts/bench.sh."""
import re
import sys

STAGES = {
    "qexport": [
        ("whole export (run_job)", r"qexport::engine::run_job\b"),
        ("protocol: read and decode rows (mysql crate iterator)", r"QueryResult<.*> as core::iter::traits::iterator::Iterator>::next"),
        ("  of which socket reads (Conn::read_packet)", r"mysql::conn::Conn::read_packet\b"),
        ("  of which dropping rows (allocation churn)", r"drop_in_place<mysql_common::row::Row>"),
        ("output writes (Output::write_all)", r"qtools::out::Output::write_all\b"),
    ],
    "qimport": [
        ("whole import (Job::load_input)", r"qimport::Job::load_input \["),
        ("parsing CSV records (record::Reader::read)", r"qtools_csv::record::Reader<R>::read \["),
        ("validation, binary values decoded (Checker::check_record)", r"qimport::Checker::check_record \["),
        ("  of which the checks against the columns (Check::check)", r"validate::Check::check \["),
        ("encoding the LOAD DATA stream (Encoder::row)", r"load::Encoder::row \["),
        ("sending it (the driver's LOCAL INFILE exchange)", r"mysql::conn::Conn::handle_result_set \["),
    ],
}

tool = sys.argv[1] if len(sys.argv) > 1 else "qexport"
stages = STAGES[tool]
costs = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)", line)
    if not m:
        continue
    pct, name = float(m.group(2)), m.group(3)
    for label, pat in stages:
        if label not in costs and re.search(pat, name):
            costs[label] = pct
print(f"Share of {tool}'s own instructions (callgrind, 100k rows, inclusive):\n")
for label, _ in stages:
    if label in costs:
        print(f"- {label.strip()}: {costs[label]:.0f}%")
if tool == "qexport":
    whole = costs.get("whole export (run_job)")
    proto = costs.get("protocol: read and decode rows (mysql crate iterator)")
    if whole and proto:
        rest = whole - proto - costs.get("output writes (Output::write_all)", 0)
        print(f"- CSV formatting and the rest of the loop (inlined, by difference): {rest:.0f}%")
