#!/usr/bin/env bash
# The fuzz targets' smoke run, for CI: each target (fuzz/fuzz_targets) built on the stable
# toolchain without coverage instrumentation (no cargo-fuzz, no sanitizer), then run for
# SECONDS [default: 10]: every committed seed of fuzz/corpus/TARGET first, then random
# mutations of them. It shows that the targets build, that no seed crashes them, and that
# nothing shallow does; the coverage-guided runs are scripts/fuzz.sh. Debug build: integer
# overflow and debug assertions count as crashes. Exit status 1 on a crash or a hang
# (an input over 10 s), with the input left in fuzz/artifacts/TARGET/.
# Usage: scripts/fuzz-smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz-smoke.sh [SECONDS]   (seconds per target, default 10)" >&2
    exit 2
fi
# In the root's target folder, which already holds the dependencies, against the root's
# lock (fuzz/Cargo.lock is not kept).
[ -e fuzz/Cargo.lock ] || cp Cargo.lock fuzz/Cargo.lock
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --manifest-path fuzz/Cargo.toml --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for src in fuzz/fuzz_targets/*.rs; do
    target=$(basename "$src" .rs)
    corpus="$work/$target"
    mkdir -p "$corpus" "fuzz/artifacts/$target"
    [ -d "fuzz/corpus/$target" ] && cp -R "fuzz/corpus/$target/." "$corpus/"
    log="$work/$target.log"
    rc=0
    # TMPDIR: the optfile target writes its option files there, gone with $work.
    TMPDIR="$work" "$CARGO_TARGET_DIR/debug/$target" -max_total_time="$seconds" -timeout=10 \
        -artifact_prefix="fuzz/artifacts/$target/" "$corpus" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    seeds=$(sed -n 's/.*seed corpus: files: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [[ $rc -ne 0 || -z $runs ]]; then
        failed=1
        tail -n 30 "$log" >&2
        echo "fuzz-smoke: $target failed (exit status $rc); its input is in fuzz/artifacts/$target/" >&2
    else
        printf 'fuzz-smoke: %-14s %s seeds, %s runs in %s s\n' "$target" "${seeds:-0}" "$runs" "$seconds" >&2
    fi
done
exit "$failed"
