#!/usr/bin/env bash
# Remote input: an S3-compatible server (moto's, from PyPI) and an HTTP
# server with byte ranges (benches/remote/range_server.py), both on
# 127.0.0.1 at free ports, started and stopped here. The DJF netCDF file
# and Zarr store are read from s3:// (signed, and anonymous) and http://;
# the tracks must be the local files' bytes. A missing key, a 403, a
# dropped connection and a host that does not resolve must each give exit
# status 2 and an error naming the URL.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
data="${PST_DATA:-$root/../shared/data}/era5"
nc="$data/era5_msl_2025-2026_djf_2.5x2.5.nc"
zarr="$data/era5_msl_2025-2026_djf_2.5x2.5.zarr"
# moto and boto3 in a venv of their own, kept between runs.
venv="$HOME/.cache/pst/remote-venv"
if ! "$venv/bin/python" -c 'import moto, boto3' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "moto[server]>=5" boto3
fi
cargo build --release -q -p pst-cli
bin="$CARGO_TARGET_DIR/release/stormtracker"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
pids+=($!)
"$venv/bin/python" benches/remote/range_server.py "$data" "$work/http.port" &
pids+=($!)
for _ in $(seq 100); do
  [ -f "$work/http.port" ] && "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
  sleep 0.2
done
http="http://127.0.0.1:$(cat "$work/http.port")"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
"$venv/bin/python" benches/remote/s3_upload.py "$AWS_ENDPOINT_URL" pst "$nc" "$zarr"
"$venv/bin/python" benches/remote/s3_upload.py "$AWS_ENDPOINT_URL" pst-public --public "$nc"

flags=(--variable msl -a hodges --lmin 5 --lmax 42 --no-progress)
track() { "$bin" track "${flags[@]}" "$@"; }
/usr/bin/time -f "%e" -o "$work/t" "$bin" track "${flags[@]}" -i "$nc" -o "$work/local-nc.txt" 2>/dev/null
echo "local: $(basename "$nc"): $(cat "$work/t") s"
/usr/bin/time -f "%e" -o "$work/t" "$bin" track "${flags[@]}" -i "$zarr" -o "$work/local-zarr.txt" 2>/dev/null
echo "local: $(basename "$zarr"): $(cat "$work/t") s"
cmp "$work/local-nc.txt" "$work/local-zarr.txt"
for input in "s3://pst/$(basename "$nc")" "s3://pst/$(basename "$zarr")" "$http/$(basename "$nc")" "$http/$(basename "$zarr")"; do
  /usr/bin/time -f "%e" -o "$work/t" "$bin" track "${flags[@]}" -v -i "$input" -o "$work/remote.txt" 2> "$work/err" \
    || { cat "$work/err"; echo "remote: $input failed"; exit 1; }
  cmp "$work/local-nc.txt" "$work/remote.txt" || { echo "remote: $input gave other tracks"; exit 1; }
  echo "remote: $input: the local bytes ($(grep -o 'fetched [^)]*' "$work/err" | head -1), $(cat "$work/t") s)"
done
# Anonymous requests (no keys): a public bucket reads, a private one is denied.
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; track -i "s3://pst-public/$(basename "$nc")" -o "$work/anon.txt" 2>/dev/null)
cmp "$work/local-nc.txt" "$work/anon.txt"
echo "remote: anonymous s3:// on a public bucket: the local bytes"

refuse() {
  local input=$1 says=$2 status=0
  track -i "$input" -o "$work/bad.txt" 2> "$work/err" || status=$?
  [ "$status" = 2 ] || { cat "$work/err"; echo "remote: $input: exit $status, not 2"; exit 1; }
  grep -q -- "$input" "$work/err" && grep -qi -- "$says" "$work/err" \
    || { cat "$work/err"; echo "remote: $input: the error does not name the URL and say \`$says\`"; exit 1; }
  [ ! -e "$work/bad.txt" ] || { echo "remote: $input left an output"; exit 1; }
  echo "remote: $input: exit 2, $(head -c 160 "$work/err" | tr '\n' ' ')"
}
refuse "s3://pst/missing.nc" "not found"
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; refuse "s3://pst/$(basename "$nc")" "denied")
refuse "s3://no-such-bucket/x.nc" "not found"
refuse "$http/missing.nc" "not found"
refuse "$http/forbidden/x.nc" "denied"
refuse "$http/drop/x.nc" "error"
refuse "http://no-such-host.invalid/x.nc" "error"
