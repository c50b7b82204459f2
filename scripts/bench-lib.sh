# Shared by the benchmarks (scripts/bench.sh, bench-ledger.sh, bench-serve.sh, bench-indexes.sh);
# sourced, not run.

# A server to measure against: QTOOLS_TEST_MYSQL_URL, or a private one in $1 (stopped
# by the caller's trap). Sets base (its URL), host and port, and defines sql (its client).
bench_server() {
    if [ -n "${QTOOLS_TEST_MYSQL_URL:-}" ]; then
        base=$QTOOLS_TEST_MYSQL_URL
    else
        base=$(scripts/test-db.sh start "$1")
    fi
    local hostport=${base#mysql://root@}
    hostport=${hostport%%/*}
    host=${hostport%:*}
    port=${hostport#*:}
}
sql() { mariadb --no-defaults -h "$host" -P "$port" -uroot "$@"; }

# Wait until InnoDB has flushed its dirty pages and purged (at most 5 minutes): after a
# bulk load it does so for a minute or more, on the same cores, and a command timed then
# measures the flushing.
bench_settle() {
    sql -e "SET GLOBAL innodb_max_dirty_pages_pct = 0"
    local i dirty hist
    for i in $(seq 1 300); do
        dirty=$(sql -N -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | cut -f2)
        hist=$(sql -N -e "SELECT count FROM information_schema.INNODB_METRICS WHERE name = 'trx_rseg_history_len'")
        [ "$dirty" -lt 50 ] && [ "$hist" -lt 100 ] && break
        sleep 1
    done
    sql -e "SET GLOBAL innodb_max_dirty_pages_pct = 90"
}

# Put TABLE (which starts with <!-- NAME:start --> and ends with <!-- NAME:end -->) in
# place of the section between those markers in BENCHMARKS.md, or at its end under the
# heading TITLE the first time.
write_section() {
    python3 - "$1" "$2" "$3" <<'PY'
import re, sys
name, title, table = sys.argv[1:4]
text = open("BENCHMARKS.md").read()
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
if start in text:
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: table, text, flags=re.S)
else:
    text = text.rstrip() + f"\n\n## {title}\n\n" + table + "\n"
open("BENCHMARKS.md", "w").write(text)
PY
}
