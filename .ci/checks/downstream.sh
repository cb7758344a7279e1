#!/usr/bin/env bash
# A user's crate: examples/downstream depends on the `pst` facade by path,
# outside the workspace. It must build, pass its own tests (the shipped
# contract suite on its detector) and write the CLI's bytes for the
# December msl file, Simple and Hodges, band-passed T5–42 and not.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
bin="$CARGO_TARGET_DIR/release"
# The same dependency versions as the workspace's.
cp Cargo.lock examples/downstream/Cargo.lock
cargo build --release -q -p pst-cli
# Its tests in the dev profile, which is pst's (they reuse the workspace's
# test build); its release profile is pst's too (it reuses pst-cli's).
(cd examples/downstream && cargo build --release -q && cargo test -q 2>&1 | grep -E "^test result" | sort | uniq -c)
input=examples/data/era5_msl_2025-12_2.5x2.5.nc
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for algorithm in simple hodges; do
  for band in "" "5 42"; do
    name="$algorithm${band:+-t${band// /-}}"
    flags=${band:+--lmin ${band% *} --lmax ${band#* }}
    # shellcheck disable=SC2086 # flags are words
    "$bin/stormtracker" track -i "$input" --variable msl -a "$algorithm" $flags --no-progress \
      -o "$out/cli-$name.imilast.txt" 2>/dev/null
    # shellcheck disable=SC2086
    "$bin/pst-downstream" "$input" msl "$out/lib-$name.imilast.txt" "$algorithm" $band >/dev/null
    cmp "$out/cli-$name.imilast.txt" "$out/lib-$name.imilast.txt"
    echo "downstream: $name: $(grep -c '^90' "$out/lib-$name.imilast.txt") tracks, the CLI's bytes"
  done
done
