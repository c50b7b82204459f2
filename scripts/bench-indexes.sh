#!/usr/bin/env bash
# Loads into indexed tables and the client's CPU (issue #29): the benchmark's users table
# (ROWS rows, default 1,000,000, scripts/gen-users.py) with three secondary keys (UNIQUE
# email, city, created), loaded into an empty table by qimport (its indexes built after
# the rows), by LOAD DATA LOCAL into the indexed table, by LOAD DATA LOCAL into the bare
# table plus one ALTER TABLE (the floor), and by mariadb-import --use-threads=2; a restore
# of a database (that table and 50 small ones) by qimport --dir, myloader and
# `mariadb < mariadb-dump`; exports by qexport -j 1/-j 2 and mydumper -t 1/-t 2; the
# client's CPU (user + sys, GNU time) of each. Commands run in ROUNDS interleaved rounds
# (default 3), each after its prepare step on a settled server; the table gives medians,
# the spread, and each ratio as the median of the rounds' ratios. Writes its table
# between the indexes markers of BENCHMARKS.md.
#
#   scripts/bench-indexes.sh [ROWS] [ROUNDS]
#   QTOOLS_DB_BUFFER_POOL=128M BENCH_ONLY=loads scripts/bench-indexes.sh 10000000 1
#   BENCH_ONLY=exports scripts/bench-indexes.sh 1000000 7
#
# The second: the loads alone (no restores or exports), with indexes far larger than the
# buffer pool, into a section of its own. A run of other than 1,000,000 rows writes its
# own section (indexes-ROWS), so the main table stays. The third: the exports alone, with
# qexport's rows also read through the driver (QTOOLS_ROW_DECODER=driver) for comparison,
# into the section `exports` (`exports-ROWS`).
#
# Uses a private server (scripts/test-db.sh; QTOOLS_DB_BUFFER_POOL sets its buffer pool),
# or QTOOLS_TEST_MYSQL_URL when set; the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
rounds=${2:-3}
scripts/deps.sh
for t in mydumper:mydumper /usr/bin/time:time; do
    command -v "${t%%:*}" >/dev/null 2>&1 || {
        sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${t#*:}" >&2
    }
done
cargo build --release --locked --quiet
bin=$PWD/target/release
work=$(mktemp -d)
trap 'scripts/test-db.sh stop "$work/db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
. scripts/bench-lib.sh
bench_server "$work/db"
say() { printf '\n== %s\n' "$*" >&2; }
keys="ADD UNIQUE KEY email (email), ADD KEY city (city), ADD KEY created (created)"
load_into() { # load_into DB TABLE: the TSV by LOAD DATA LOCAL, as bench.sh loads it
    echo "LOAD DATA LOCAL INFILE '$work/users.tsv' INTO TABLE $2 CHARACTER SET utf8mb4
      (id, name, email, city, bio, balance, created, @a) SET avatar = UNHEX(@a)" |
        sql --local-infile=1 "$1"
}

say "generating $rows rows, a source database and its backups"
sql -e "DROP DATABASE IF EXISTS src; CREATE DATABASE src; CREATE DATABASE tgt"
python3 scripts/gen-users.py --schema | sql src
python3 scripts/gen-users.py "$rows" 42 >"$work/users.tsv"
load_into src users
sql src -e "ALTER TABLE users $keys"
for i in $(seq 1 50); do
    echo "CREATE TABLE small_$i (id INT PRIMARY KEY, v VARCHAR(40), n INT, KEY v (v));
      INSERT INTO small_$i SELECT seq, CONCAT('value ', seq), seq % 7 FROM seq_1_to_1000;"
done | sql src
src="--url ${base%/}/src --ssl-mode DISABLED"
tgt="--url ${base%/}/tgt --ssl-mode DISABLED"
"$bin/qexport" $src users >"$work/users.csv"
if [ -z "${BENCH_ONLY:-}" ]; then
    "$bin/qexport" $src --all -o "$work/bk"
    mydumper -h "$host" -P "$port" -u root -B src -t 2 -r 100000 -o "$work/md"
    mariadb-dump --no-defaults -h "$host" -P "$port" -u root src >"$work/dump.sql"
fi
# mariadb-import reads LOAD DATA's format: the TSV (avatar as hex, into a VARBINARY(32)).
half=$(( (rows + 1) / 2 ))
mkdir -p "$work/a" "$work/b"
head -n "$half" "$work/users.tsv" >"$work/a/users_imp.txt"
tail -n +"$((half + 1))" "$work/users.tsv" >"$work/b/users_imp.txt"

# (One line each: the commands below are read back one line at a time.)
indexed="DROP TABLE IF EXISTS users, users_imp; CREATE TABLE users LIKE src.users; CREATE TABLE users_imp LIKE src.users; ALTER TABLE users_imp MODIFY avatar VARBINARY(32)"
bare="DROP TABLE IF EXISTS users; CREATE TABLE users LIKE src.users; ALTER TABLE users DROP KEY email, DROP KEY city, DROP KEY created"
fresh="DROP DATABASE IF EXISTS rst; CREATE DATABASE rst"
myimp="mariadb-import --no-defaults -h $host -P $port -u root --local"
cmds=()
add() {
    case "${BENCH_ONLY:-}:$1" in
        loads:restore:* | loads:export:*) return ;;
        exports:export:*) ;;
        exports:*) return ;;
    esac
    cmds+=("$1"$'\x1f'"$2"$'\x1f'"$3")
}
add "LOAD DATA LOCAL into the indexed table" "sql tgt -e '$indexed'" "load_into tgt users"
add "LOAD DATA LOCAL + one ALTER TABLE (the floor)" "sql tgt -e '$bare'" \
    "load_into tgt users && sql tgt -e 'ALTER TABLE users $keys'"
add "qimport --swap" "sql tgt -e '$indexed'" "$bin/qimport -q $tgt --swap users $work/users.csv"
add "qimport -j 2" "sql tgt -e '$indexed'" "$bin/qimport -q $tgt -j 2 users $work/users.csv"
add "qimport --swap --no-defer-indexes" "sql tgt -e '$indexed'" \
    "$bin/qimport -q $tgt --swap --no-defer-indexes users $work/users.csv"
add "mariadb-import --use-threads=2, 2 files" "sql tgt -e '$indexed'" \
    "$myimp --use-threads=2 tgt $work/a/users_imp.txt $work/b/users_imp.txt >/dev/null"
add "restore: qimport --dir" "sql -e '$fresh'" \
    "$bin/qimport -q --url ${base%/}/rst --ssl-mode DISABLED --dir $work/bk"
add "restore: myloader -t 2" "sql -e '$fresh'" \
    "myloader -h $host -P $port -u root -d $work/md -B rst -o -t 2"
add "restore: mariadb < mariadb-dump" "sql -e '$fresh'" "sql rst < $work/dump.sql"
add "export: qexport -j 1" "true" "$bin/qexport $src users >/dev/null"
add "export: qexport -j 2" "true" "$bin/qexport $src -j 2 users >/dev/null"
if [ "${BENCH_ONLY:-}" = exports ]; then
    add "export: qexport -j 1, rows through the driver" "true" \
        "QTOOLS_ROW_DECODER=driver $bin/qexport $src users >/dev/null"
    add "export: qexport -j 2, rows through the driver" "true" \
        "QTOOLS_ROW_DECODER=driver $bin/qexport $src -j 2 users >/dev/null"
fi
add "export: mydumper -t 1" "rm -rf $work/out" \
    "mydumper -h $host -P $port -u root -B src -T users -t 1 -r 100000 -o $work/out"
add "export: mydumper -t 2" "rm -rf $work/out" \
    "mydumper -h $host -P $port -u root -B src -T users -t 2 -r 100000 -o $work/out"
export -f sql load_into
export host port work
: >"$work/times.tsv"
for round in $(seq 1 "$rounds"); do
    for entry in "${cmds[@]}"; do
        IFS=$'\x1f' read -r name prep cmd <<<"$entry"
        say "round $round/$rounds: $name"
        bash -c "$prep" >/dev/null
        bench_settle
        /usr/bin/time -o "$work/time.out" -f '%e %U %S' bash -c "$cmd"
        printf '%s\t%s\t%s\n' "$round" "$name" "$(tail -1 "$work/time.out")" >>"$work/times.tsv"
    done
done
[ "${BENCH_ONLY:-}" = exports ] ||
    sql tgt -e "SHOW CREATE TABLE users\G" | grep -q "UNIQUE KEY \`email\`" ||
    { echo "the loaded table lost its keys" >&2; exit 2; }

pool=$(sql -N -e "SELECT @@innodb_buffer_pool_size DIV 1048576")
table=$(python3 - "$work/times.tsv" "$rows" "$rounds" "$(date -u +%F)" "$(myloader --version 2>&1 | head -1 | cut -d, -f1)" "$pool" "${BENCH_ONLY:-}" <<'PY'
import statistics, sys
path, rows, rounds, day = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t = {}
for line in open(path):
    r, name, rest = line.rstrip("\n").split("\t")
    wall, user, sys_ = map(float, rest.split())
    t.setdefault(name, {})[int(r)] = (wall, user + sys_)
med = lambda name, i: statistics.median(v[i] for v in t[name].values())
def ratio(a, b):
    rs = sorted(t[b][r][0] / t[a][r][0] for r in t[a] if r in t[b])
    return f"{statistics.median(rs):.2f}x ({rs[0]:.2f}-{rs[-1]:.2f})"
per_m = lambda name: med(name, 1) * 1e6 / rows
pool, only = sys.argv[6], sys.argv[7]
base = "exports" if only == "exports" else "indexes"
section = base if rows == 1000000 else f"{base}-{rows}"
print(f"<!-- {section}:start -->")
if only == "exports":
    print(f"{rows:,} rows of the bench table exported to /dev/null (qexport) or to a folder "
          f"(mydumper); {rounds} interleaved rounds, each command on a settled server; "
          f"`BENCH_ONLY=exports scripts/bench-indexes.sh {rows} {rounds}` ({day}). Client CPU "
          "is user + sys of the command (GNU time), per million rows.\n")
else:
    print(f"myloader is Debian's {sys.argv[5]}, which has no --innodb-optimize-keys (later "
          "releases have it); it loads each table with its indexes.\n")
    print(f"{rows:,} rows of the bench table with three secondary keys (UNIQUE email, city, "
          f"created), loaded into an empty table; {rounds} interleaved rounds, each command on a "
          f"settled server, InnoDB buffer pool {pool} MB; "
          f"`{'BENCH_ONLY=' + only + ' ' if only else ''}scripts/bench-indexes.sh {rows} {rounds}` ({day}). "
          "Client CPU is user + sys of the command (GNU time), per million rows.\n")
print("| command | median wall | spread | client CPU per 1M rows |")
print("| --- | --- | --- | --- |")
for name in t:
    walls = sorted(v[0] for v in t[name].values())
    print(f"| {name} | {med(name, 0):.2f} s | {walls[0]:.2f}-{walls[-1]:.2f} s | {per_m(name):.2f} s |")
print("\nRatios, the median of the rounds' ratios (their range):\n")
for a, b, what in [
    ("qimport --swap", "LOAD DATA LOCAL into the indexed table", "qimport --swap faster than LOAD DATA LOCAL into the indexed table (goal 1.5x)"),
    ("qimport --swap", "LOAD DATA LOCAL + one ALTER TABLE (the floor)", "qimport --swap against the floor (goal: within 10%, 0.90x or more)"),
    ("qimport -j 2", "mariadb-import --use-threads=2, 2 files", "qimport -j 2 faster than mariadb-import --use-threads=2 (goal 1.3x)"),
    ("qimport --swap", "qimport --swap --no-defer-indexes", "deferred indexes against the same load with every index kept"),
    ("restore: qimport --dir", "restore: myloader -t 2", "qimport --dir faster than myloader -t 2 (goal: 1x or more)"),
    ("restore: qimport --dir", "restore: mariadb < mariadb-dump", "qimport --dir faster than mariadb < mariadb-dump"),
    ("export: qexport -j 2", "export: mydumper -t 2", "qexport -j 2 faster than mydumper -t 2 (goal 1x or more)"),
    ("export: qexport -j 2", "export: qexport -j 1", "qexport -j 2 faster than qexport -j 1 (goal 1.2x)"),
    ("export: qexport -j 1", "export: qexport -j 1, rows through the driver", "qexport -j 1 off the wire faster than through the driver"),
    ("export: qexport -j 2", "export: qexport -j 2, rows through the driver", "qexport -j 2 off the wire faster than through the driver"),
]:
    if a in t and b in t:
        print(f"- {what}: {ratio(a, b)}")
print(f"<!-- {section}:end -->")
PY
)
if [ "${BENCH_ONLY:-}" = exports ]; then
    [ "$rows" -eq 1000000 ] && sec=exports || sec="exports-$rows"
    write_section "$sec" "Exports: qexport against mydumper, and the client's CPU" "$table"
elif [ "$rows" -eq 1000000 ]; then
    write_section indexes "Loads into indexed tables, restores and the client's CPU" "$table"
else
    write_section "indexes-$rows" "Loads into indexed tables, $rows rows" "$table"
fi
echo "$table"
