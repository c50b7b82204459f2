#!/usr/bin/env bash
# qexport --serve against qexport to /dev/null (issue #28): the benchmark's users table
# (ROWS rows, default 1,000,000, from scripts/gen-users.py) fetched with curl from
# --serve, one client and four at once, next to `qexport users > /dev/null`; the
# server's peak RSS with four clients. Writes its table between the serve markers of
# BENCHMARKS.md.
#
#   scripts/bench-serve.sh [ROWS]
#
# Uses a private server (scripts/test-db.sh), or QTOOLS_TEST_MYSQL_URL when set; the
# release build (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
scripts/deps.sh
[ -x target/release/qexport ] || cargo build --release --locked --quiet
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; scripts/test-db.sh stop "$work/db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
. scripts/bench-lib.sh
bench_server "$work/db"
sql -e "DROP DATABASE IF EXISTS serve_bench; CREATE DATABASE serve_bench"
python3 scripts/gen-users.py --schema | sql serve_bench
python3 scripts/gen-users.py "$rows" 42 >"$work/users.tsv"
sql --local-infile=1 serve_bench -e "LOAD DATA LOCAL INFILE '$work/users.tsv' INTO TABLE users
  CHARACTER SET utf8mb4 (id, name, email, city, bio, balance, created, @a) SET avatar = UNHEX(@a)"
url="${base%/}/serve_bench"
best() { # best of 3 wall times of a command, in seconds
    local b=999
    for _ in 1 2 3; do
        local t0 t1; t0=$(date +%s.%N); bash -c "$1"; t1=$(date +%s.%N)
        b=$(python3 -c "print(min($b, $t1 - $t0))")
    done
    python3 -c "print(f'{$b:.2f}')"
}
direct=$(best "target/release/qexport --url '$url' users > /dev/null")
target/release/qexport --url "$url" --serve 127.0.0.1:0 users 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do grep -q 'http://' "$work/log" 2>/dev/null && break; sleep 0.1; done
addr=$(grep -o 'http://[^ ]*' "$work/log" | head -1)
one=$(best "curl -sf ${addr}users.csv > /dev/null")
four=$(best "for i in 1 2 3 4; do curl -sf ${addr}users.csv > /dev/null & done; wait")
bytes=$(curl -sf "${addr}users.csv" | wc -c)
# The server's peak resident set (VmHWM), read before it ends.
rss=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid" || true; pid=""
mb() { python3 -c "print(f'{$bytes / 1e6 / $1:.0f}')"; }
agg=$(python3 -c "print(f'{4 * $bytes / 1e6 / $four:.0f}')")
ratio=$(python3 -c "print(f'{$one / $direct:.2f}')")
gain=$(python3 -c "print(f'{4 * $one / $four:.2f}')")
table=$(cat <<MD
<!-- serve:start -->
$rows rows ($((bytes / 1000000)) MB of CSV), one server on this machine, best of 3 wall times,
\`scripts/bench-serve.sh $rows\` ($(date -u +%F)).

| what | time | throughput |
| --- | --- | --- |
| \`qexport users > /dev/null\` | ${direct} s | $(mb "$direct") MB/s |
| \`curl\` of \`/users.csv\` from \`--serve\`, one client | ${one} s (${ratio}x) | $(mb "$one") MB/s |
| four clients at once | ${four} s | ${agg} MB/s in all (${gain}x one client) |

Peak RSS of the server over every run above, four clients included: ${rss} MB.
<!-- serve:end -->
MD
)
write_section serve "Serving tables: qexport --serve" "$table"
echo "$table"
