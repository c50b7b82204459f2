#!/usr/bin/env bash
# The ledger's cost per file (issue #27): N tiny files (3 rows each) loaded with
# `qimport --ledger` into a table without a key, against a hand-made job-table loop in
# Python (pymysql: claim with SELECT ... FOR UPDATE SKIP LOCKED, LOAD DATA LOCAL INFILE,
# mark done in the same transaction) doing the same. Then the second run over the same
# files (everything skipped, as done). Writes the table between the ledger markers of
# BENCHMARKS.md.
#
#   scripts/bench-ledger.sh [N]      # N files, default 300
#
# Uses a private server (scripts/test-db.sh), or QTOOLS_TEST_MYSQL_URL when set; the
# release build of qimport (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
scripts/deps.sh
python3 -c 'import pymysql' 2>/dev/null || pip install --quiet pymysql
[ -x target/release/qimport ] || cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'scripts/test-db.sh stop "$work/db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
. scripts/bench-lib.sh
bench_server "$work/db"
sql -e "DROP DATABASE IF EXISTS ledger_bench; CREATE DATABASE ledger_bench;
        CREATE TABLE ledger_bench.ev (file INT, n INT);
        CREATE TABLE ledger_bench.py_ev (file INT, n INT)"
mkdir -p "$work/in"
for k in $(seq 1 "$n"); do printf 'file,n\n%s,1\n%s,2\n%s,3\n' "$k" "$k" "$k" >"$work/in/f$k.csv"; done
url="${base%/}/ledger_bench"
now() { date +%s.%N; }
t0=$(now); target/release/qimport -q --url "$url" --ledger ledger ev "$work"/in/*.csv; t1=$(now)
target/release/qimport -q --url "$url" --ledger ledger ev "$work"/in/*.csv; t2=$(now)
python3 - "$host" "$port" "$work/in" >"$work/py.txt" <<'PY'
import glob, hashlib, os, sys, time
import pymysql
host, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = pymysql.connect(host=host, port=port, user="root", database="ledger_bench",
                    local_infile=True, autocommit=False)
cur = c.cursor()
cur.execute("""CREATE TABLE IF NOT EXISTS jobs (sha256 CHAR(64) PRIMARY KEY,
  file_name VARCHAR(2048), status ENUM('new','in_progress','done','error'),
  rows_loaded BIGINT, attempts INT DEFAULT 0, started_at DATETIME(6), finished_at DATETIME(6))""")
c.commit()
def run():
    for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
        cur.execute("INSERT IGNORE INTO jobs (sha256, file_name, status) VALUES (%s, %s, 'new')", (sha, path))
        c.commit()
        cur.execute("SELECT status FROM jobs WHERE sha256 = %s FOR UPDATE SKIP LOCKED", (sha,))
        row = cur.fetchone()
        if row is None or row[0] == "done":
            c.rollback()
            continue
        cur.execute("UPDATE jobs SET status = 'in_progress', attempts = attempts + 1, started_at = NOW(6) WHERE sha256 = %s", (sha,))
        n = cur.execute("LOAD DATA LOCAL INFILE %s INTO TABLE py_ev FIELDS TERMINATED BY ',' IGNORE 1 LINES", (path,))
        cur.execute("UPDATE jobs SET status = 'done', rows_loaded = %s, finished_at = NOW(6) WHERE sha256 = %s", (n, sha))
        c.commit()
t0 = time.time(); run(); t1 = time.time(); run(); t2 = time.time()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
PY
read -r py1 py2 <"$work/py.txt"
rows=$(sql -N -e "SELECT (SELECT COUNT(*) FROM ledger_bench.ev), (SELECT COUNT(*) FROM ledger_bench.py_ev)")
ms() { python3 -c "print(f'{1000 * ($2 - $1) / $n:.2f}')"; }
pyms() { python3 -c "print(f'{1000 * $1 / $n:.2f}')"; }
q1=$(ms "$t0" "$t1"); q2=$(ms "$t1" "$t2"); p1=$(pyms "$py1"); p2=$(pyms "$py2")
table=$(cat <<MD
<!-- ledger:start -->
$n files of 3 rows, one server on this machine, \`scripts/bench-ledger.sh $n\` ($(date -u +%F)).
Rows in the tables afterwards: $rows (3 per file, each file once).

| per file | first run (load) | second run (all done, skipped) |
| --- | --- | --- |
| \`qimport --ledger\` (hash, named lock, claim, load, done row in the same transaction) | $q1 ms | $q2 ms |
| hand-made job table in Python (pymysql, SKIP LOCKED, LOAD DATA LOCAL) | $p1 ms | $p2 ms |
<!-- ledger:end -->
MD
)
write_section ledger "The ledger" "$table"
echo "$table"
