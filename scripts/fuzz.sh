#!/usr/bin/env bash
# Run every cargo-fuzz target (fuzz/fuzz_targets) for SECONDS each [default: 180], each from
# a copy of its seed corpus (fuzz/corpus/TARGET), so that the inputs a run adds stay out of
# the committed seeds. Prints one line per target: executions, final coverage (libFuzzer's
# `cov:`) and crashes, whose inputs stay in fuzz/artifacts/TARGET/ with the run's log
# (replay one: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET artifacts/TARGET/crash-...).
# Exit status 1 when a target crashed, hung (an input over 10 s) or did not run.
#
# The toolchain is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz's -Z flags through.
# Usage: scripts/fuzz.sh [SECONDS [TARGET...]]   (every target when none is named)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-180}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS [TARGET...]]   (seconds per target, default 180; every target when none is named)" >&2
    exit 2
fi
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo fuzz build

summary=()
failed=0
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <(cargo fuzz list)
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    if [[ -d corpus/$target ]]; then
        cp -R "corpus/$target/." "$corpus/"
    fi
    log="$work/$target.log"
    echo "fuzz: $target for $seconds s ($(find "$corpus" -type f | wc -l) seeds)" >&2
    rc=0
    # TMPDIR: the optfile target writes its option files there, gone with $work.
    TMPDIR="$work" cargo fuzz run "$target" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
    if [[ -z $runs ]]; then
        # Stopped early (a crash): the last status line's count.
        runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
    artifacts=$(sed -n 's/.*Test unit written to \(.*\/\(crash\|timeout\|oom\|leak\)-.*\)$/\1/p' "$log")
    crashes=$(grep -c . <<<"$artifacts" || true)
    line=$(printf '%-14s %10s runs  cov: %-6s crashes: %s' "$target" "${runs:-0}" "${cov:-?}" "$crashes")
    if [[ $crashes -gt 0 || $rc -ne 0 ]]; then
        failed=1
        mkdir -p "artifacts/$target"
        cp "$log" "artifacts/$target/run.log"
        line+=" ${artifacts//$'\n'/ } (exit status $rc, log: fuzz/artifacts/$target/run.log)"
        tail -n 40 "$log" >&2
    fi
    echo "$line" >&2
    summary+=("$line")
done
printf '%s\n' "${summary[@]}"
exit "$failed"
