#!/usr/bin/env bash
# A private MariaDB server for the tests and the demo: its own datadir, socket and port,
# local_infile on, root without a password, reachable only from 127.0.0.1.
#
#   scripts/test-db.sh start [DIR]   start it; prints its URL (mysql://root@127.0.0.1:PORT/)
#   scripts/test-db.sh stop [DIR]    stop it and delete DIR
#
# DIR defaults to target/test-db. QTOOLS_DB_BUFFER_POOL sets the InnoDB buffer pool (256M) and
# QTOOLS_DB_LOG_SIZE its redo log (256M);
# QTOOLS_DB_LOCAL_INFILE=0 starts it with local_infile off (to test the INSERT fallback);
# QTOOLS_DB_EXTRA adds server options (e.g. --sql-mode=ANSI_QUOTES, for one test). The socket is DIR/mysqld.sock; the URL is also in DIR/url.
# To point the test suite at it: export QTOOLS_TEST_MYSQL_URL=$(cat target/test-db/url)
set -euo pipefail

cmd=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$root/target/test-db}

find_bin() {
    for b in "$@"; do
        for p in "$(command -v "$b" 2>/dev/null || true)" "/usr/sbin/$b" "/usr/bin/$b"; do
            [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
        done
    done
    echo "test-db: none of $* found: run scripts/deps.sh (installs mariadb-server)" >&2
    return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Is PID the server of this datadir? A signal goes only to a process that is: a PID that
# has ended may be another process's by now (a test's qimport, say).
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "--datadir=$dir/data "; }

start() {
    local server install admin
    server=$(find_bin mariadbd mysqld)
    install=$(find_bin mariadb-install-db mysql_install_db)
    admin=$(find_bin mariadb-admin mysqladmin)
    if [ -f "$dir/url" ] && "$admin" --no-defaults -S "$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
        cat "$dir/url"
        return 0
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local user
    user=$(id -un)
    if [ ! -d "$dir/data/mysql" ]; then
        "$install" --no-defaults --datadir="$dir/data" --user="$user" --tmpdir="$dir" \
            --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 || {
            echo "test-db: mariadb-install-db failed; see $dir/install.log" >&2
            tail -20 "$dir/install.log" >&2
            return 1
        }
    fi
    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$((20000 + (RANDOM * 7 + $$ + attempt) % 30000))
        port_free "$port" || continue
        "$server" --no-defaults --datadir="$dir/data" --socket="$dir/mysqld.sock" \
            --port="$port" --bind-address=127.0.0.1 --user="$user" \
            --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" --tmpdir="$dir" \
            --local-infile="${QTOOLS_DB_LOCAL_INFILE:-1}" --skip-name-resolve --skip-log-bin --max-connections=300 \
            --innodb-buffer-pool-size="${QTOOLS_DB_BUFFER_POOL:-256M}" --innodb-log-file-size="${QTOOLS_DB_LOG_SIZE:-256M}" \
            --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 ${QTOOLS_DB_EXTRA:-} \
            >/dev/null 2>&1 </dev/null &
        local pid=$!
        local i
        for i in $(seq 1 300); do
            if "$admin" --no-defaults -S "$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
                echo "mysql://root@127.0.0.1:$port/" >"$dir/url"
                cat "$dir/url"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if ours "$pid"; then kill "$pid" 2>/dev/null || true; fi
        wait "$pid" 2>/dev/null || true
    done
    echo "test-db: the server did not start; see $dir/error.log:" >&2
    tail -20 "$dir/error.log" >&2 || true
    return 1
}

stop() {
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd)
    if [ -f "$dir/mariadbd.pid" ]; then
        local pid
        pid=$(cat "$dir/mariadbd.pid")
        if ours "$pid"; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 300); do
                ours "$pid" || break
                sleep 0.1
            done
            if ours "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
        fi
    fi
    rm -rf "$dir"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
