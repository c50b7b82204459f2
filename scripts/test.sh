#!/usr/bin/env bash
# Run every test: unit tests, property tests, and the integration tests that run the real
# binaries against a private MariaDB server (started and stopped by the test suite itself,
# unless QTOOLS_TEST_MYSQL_URL points at a server). Installs MariaDB first when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
exec cargo test --locked "$@"
