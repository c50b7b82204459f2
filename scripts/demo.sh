#!/usr/bin/env bash
# The main job, end to end: build, start a sandbox MariaDB with the fixtures, run the seed
# pipeline `qexport users | qgrep @gmail | qcount`, a lossless round trip, and a rejected
# bad load. Leaves nothing running. Installs MariaDB first when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; bash -o pipefail -c "$*"; }

say "building (release)"
cargo build --release --locked --quiet
export PATH="${CARGO_TARGET_DIR:-$PWD/target}/release:$PATH"

say "starting a sandbox MariaDB server"
dir="$PWD/target/demo-db"
scripts/test-db.sh stop "$dir"
url=$(scripts/test-db.sh start "$dir")
trap 'scripts/test-db.sh stop "$dir"' EXIT
port=${url##*:}; port=${port%/}
echo "private server on 127.0.0.1:$port (datadir $dir), loading fixtures/sql/users.sql"
mariadb --no-defaults -S "$dir/mysqld.sock" -uroot -e 'CREATE DATABASE demo'
mariadb --no-defaults -S "$dir/mysqld.sock" -uroot demo <fixtures/sql/users.sql

# The tools read ~/.my.cnf like the mysql client; give them a sandbox home pointing at the
# sandbox server, so the commands below read exactly as they would on a configured machine.
export HOME="$dir/home"
mkdir -p "$HOME"
printf '[client]\nhost=127.0.0.1\nport=%s\nuser=root\ndatabase=demo\n' "$port" >"$HOME/.my.cnf"

say "the first rows of the users table, as CSV"
show "qexport users | head -n 4"

say "the seed pipeline: how many users have @gmail?"
show "qexport users | qgrep @gmail | qcount"
echo "(SQL says: $(mariadb --no-defaults -S "$dir/mysqld.sock" -uroot -N demo \
    -e "SELECT COUNT(*) FROM users WHERE email LIKE '%@gmail%' OR name LIKE '%@gmail%'"))"

say "the line-based answer is wrong: a name that holds a line break"
mariadb --no-defaults -S "$dir/mysqld.sock" -uroot demo \
    -e "INSERT INTO users VALUES (9001, 'Ann Lee\n(was ann.lee@gmail.com)', 'ann.lee@gmail.com')"
show "qexport users | wc -l"
show "qexport users | qcount"
echo "(wc -l counts lines, not records: quoted line breaks make records of two lines;"
echo " and grep, which reads lines too, cuts record 9001 in two:)"
show "qexport users | grep @gmail | tail -n 2"
show "qexport users | qgrep 'ann\\.lee'"

say "round trip: export, import into an empty copy, compare checksums"
mariadb --no-defaults -S "$dir/mysqld.sock" -uroot demo -e 'CREATE TABLE users_copy LIKE users'
show "qexport users | qimport users_copy"
mariadb --no-defaults -S "$dir/mysqld.sock" -uroot demo -e 'CHECKSUM TABLE users, users_copy'
a=$(mariadb --no-defaults -S "$dir/mysqld.sock" -uroot -N demo -e 'CHECKSUM TABLE users' | cut -f2)
b=$(mariadb --no-defaults -S "$dir/mysqld.sock" -uroot -N demo -e 'CHECKSUM TABLE users_copy' | cut -f2)
[ "$a" = "$b" ] || { echo "demo: round trip FAILED: checksums differ" >&2; exit 1; }
echo "identical: NULLs, empty strings, commas, quotes, line breaks and utf8mb4 all survived"

say "a bad load is refused whole, naming file, line, column and value"
printf 'id,name,email\n9001,Ok,ok@example.org\nnine,Bad,bad@example.org\n' >"$dir/bad.csv"
show "qimport users_copy $dir/bad.csv || echo \"exit status \$?\""
echo "rows in users_copy: $(mariadb --no-defaults -S "$dir/mysqld.sock" -uroot -N demo -e 'SELECT COUNT(*) FROM users_copy') (unchanged)"

say "done; the sandbox server is stopped and removed"
