#!/usr/bin/env bash
# Regression guard: instruction counts of pst's main kernels under callgrind
# (deterministic, unlike timings on a shared machine) against the counts
# recorded in benches/instructions.txt. Fails when a kernel needs more than
# MARGIN percent more instructions than recorded. `--update` records the
# current counts instead (after an intended change; commit the file).
#   .ci/checks/instructions.sh [--update]
set -euo pipefail
cd "$(dirname "$0")/../.."
MARGIN=${PST_INSTRUCTION_MARGIN:-10}
baseline=benches/instructions.txt
bin="${CARGO_TARGET_DIR:-target}/release/pst-kernels"
data="${PST_DATA:-../shared/data}"
cargo build --release -q -p pst-benches --bin pst-kernels
status=0
current=""
printf '%-10s %15s %15s %8s\n' kernel recorded now ratio
for kernel in detect link mge band-pass vorticity vorticity-condensed read hodges-detect; do
  count=$(RAYON_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$kernel" "$data" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
  [ -n "$count" ] || { echo "no instruction count for $kernel"; exit 1; }
  current+="$kernel $count"$'\n'
  recorded=$(awk -v k="$kernel" '$1 == k { print $2 }' "$baseline" 2>/dev/null || true)
  if [ -z "$recorded" ]; then
    printf '%-10s %15s %15s %8s\n' "$kernel" - "$count" new
    continue
  fi
  ratio=$(awk -v a="$count" -v b="$recorded" 'BEGIN { printf "%.3f", a / b }')
  printf '%-10s %15s %15s %8s\n' "$kernel" "$recorded" "$count" "$ratio"
  if awk -v r="$ratio" -v m="$MARGIN" 'BEGIN { exit !(r > 1 + m / 100) }'; then
    echo "REGRESSION: $kernel needs ${ratio}x the recorded instructions (margin ${MARGIN}%)"
    status=1
  fi
done
if [ "${1:-}" = "--update" ]; then
  { echo "# Instruction counts (callgrind, one thread) of benches/bin/kernels.rs; .ci/checks/instructions.sh --update"
    printf '%s' "$current"; } > "$baseline"
  echo "recorded in $baseline"
  exit 0
fi
exit $status
