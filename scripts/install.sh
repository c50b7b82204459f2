#!/usr/bin/env bash
# Install the four tools, their man pages and their bash, zsh and fish completions under
# PREFIX (default /usr/local):
#
#   scripts/install.sh                # /usr/local/bin, /usr/local/share/man/man1, ...
#   scripts/install.sh ~/.local       # no root needed
#
# Builds in release mode first (cargo build --release --locked); QTOOLS_BIN_DIR=DIR
# installs binaries already built in DIR instead (the tests do). The man pages and
# completions come from the binaries themselves (QTOOLS_GENERATE=man|bash|zsh|fish), so
# they say what --help says. `cargo install --locked --path .` installs the binaries alone.
set -euo pipefail
prefix=${1:-/usr/local}
# A relative PREFIX is taken from where the script was run, not from the repository.
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
cd "$(dirname "$0")/.."
bins=${QTOOLS_BIN_DIR:-}
if [ -z "$bins" ]; then
    cargo build --release --locked
    bins=${CARGO_TARGET_DIR:-target}/release
fi
man=$prefix/share/man/man1
bash_dir=$prefix/share/bash-completion/completions
zsh_dir=$prefix/share/zsh/site-functions
fish_dir=$prefix/share/fish/vendor_completions.d
install -d "$prefix/bin" "$man" "$bash_dir" "$zsh_dir" "$fish_dir"
for t in qexport qimport qgrep qcount; do
    # Stripped: 7 MB instead of 23-44 MB (the release profile keeps line tables for the
    # benchmark's profiles; an installed binary needs none).
    install -s -m 755 "$bins/$t" "$prefix/bin/$t"
    QTOOLS_GENERATE=man "$bins/$t" >"$man/$t.1"
    QTOOLS_GENERATE=bash "$bins/$t" >"$bash_dir/$t"
    QTOOLS_GENERATE=zsh "$bins/$t" >"$zsh_dir/_$t"
    QTOOLS_GENERATE=fish "$bins/$t" >"$fish_dir/$t.fish"
done
echo "install: qexport qimport qgrep qcount in $prefix/bin, man pages in $man, completions for bash, zsh and fish" >&2
