#!/usr/bin/env bash
# Run every test: unit tests, property tests, and the integration tests that run the real
# binaries against a private MariaDB server (started and stopped by the test suite itself,
# unless QTOOLS_TEST_MYSQL_URL points at a server). Installs MariaDB first when missing.
#
# Returns only once the suite's private servers have stopped: each is stopped by a
# watchdog when the test process ends, which takes a few seconds after cargo returns.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh
rc=0
cargo test --locked "$@" || rc=$?
# The watchdogs run scripts/test-db.sh of this checkout (by its full path) until their
# server is gone.
for _ in $(seq 1 1200); do
    pgrep -f "$root/scripts/test-db.sh" >/dev/null || break
    sleep 0.1
done
if pgrep -f "$root/scripts/test-db.sh" >/dev/null; then
    echo "test: the private servers were still stopping after 120 s" >&2
fi
exit "$rc"
