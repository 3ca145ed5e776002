#!/usr/bin/env bash
# Diffuse's Java device against PyTorch on the same machine, same shapes, same weights, in one run:
#   bench/pytorch/side_by_side.sh [--rounds 3] [--quick] [--no-sample] [--out bench-out/side-by-side] [--baseline DIR] [--nominal FLOPS,BYTES]
# 1. checks that bench/pytorch/unet.py and `diffuse forward` compute the same function on the shipped model;
# 2. per round (engines alternate which goes first): `diffuse bench --side-by-side` and bench_torch.py (the cases of
#    issue 9's table, JSON lines), then the whole `sample --steps 25 --n 64` process of each engine (wall time and
#    peak RSS from /usr/bin/time); with DIFFUSE_TIMING_LOCK set, each of these four parts holds the lock on its own;
# 3. prints the ratio table (report.py), also written to OUT/table.md.
# --baseline DIR: also times an older Diffuse build in the same parts of each round (DIR is a checkout whose
# cli/target/diffuse.jar is built, e.g. main before a change), as engine "baseline": the speed-up is a measured ratio.
# --nominal FLOPS,BYTES: report.py also gives each rate's share of these nominal peaks (e.g. 333e9,21.6e9).
# Both engines use 2 threads (PyTorch: torch.set_num_threads). Set DIFFUSE_TIMING_LOCK=/path/to/lockfile to take a
# flock around each part (so other timing runs on a shared machine do not overlap it). Needs Debian's python3-torch
# (/usr/bin/python3) and a JDK 25; this is a benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=3 quick="" sample=1 out="$root/bench-out/side-by-side" threads=2 baseline="" nominal=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --quick) quick="--quick"; shift ;;
    --no-sample) sample=0; shift ;;
    --out) out=$2; shift 2 ;;
    --baseline) baseline=$(cd "$2" && pwd); shift 2 ;;
    --nominal) nominal=(--nominal "$2"); shift 2 ;;
    *) echo "side_by_side.sh: unknown option $1 (use --rounds N, --quick, --no-sample, --out DIR, --baseline DIR, --nominal F,B)" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
"$py" -c "import torch" 2>/dev/null || { echo "side_by_side.sh: $py cannot import torch; apt-get install python3-torch" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "side_by_side.sh: /usr/bin/time is missing; apt-get install time" >&2; exit 1; }
model="$root/pretrained/fashion-mnist-small"
if [ -n "$baseline" ] && [ ! -f "$baseline/cli/target/diffuse.jar" ]; then
  echo "side_by_side.sh: --baseline $baseline has no cli/target/diffuse.jar; build it there first (mvn -B -DskipTests package)" >&2; exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)   # absolute: the baseline parts run in the baseline checkout
rm -f "$out"/*.jsonl
cd "$root"
./diffuse devices >/dev/null 2>&1 || true   # builds the jar if needed, outside the timed part
"$py" "$here/check_parity.py" --model "$model"
budget=1.5; [ -n "$quick" ] && budget=0.3
export OMP_NUM_THREADS=$threads

# time_process ENGINE FILE CMD...: whole-process wall time and peak RSS as one JSON line
time_process() {
  local engine=$1 file=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$out/.time" "$@" >/dev/null 2>"$out/.stderr" || { cat "$out/.stderr" >&2; return 1; }
  read -r secs kb < "$out/.time"
  echo "{\"engine\": \"$engine\", \"kind\": \"sample\", \"seconds\": $secs, \"rss_mb\": $((kb / 1024))}" >> "$file"
}

# locked CMD...: runs CMD under the timing lock when DIFFUSE_TIMING_LOCK is set (each part of a round takes it
# separately, so no one hold lasts long on a shared machine)
locked() {
  if [ -n "${DIFFUSE_TIMING_LOCK:-}" ]; then flock "$DIFFUSE_TIMING_LOCK" "$@"; else "$@"; fi
}

# java_cases ROUND CASES / torch_cases ROUND CASES: the cases whose names contain one of the comma-separated CASES
java_cases() { ./diffuse bench --side-by-side="$2" --device java --model "$model" $quick 2>/dev/null | grep '^{' >> "$out/diffuse-$1.jsonl"; }
baseline_cases() {
  (cd "$baseline" && ./diffuse bench --side-by-side="$2" --device java --model "$model" $quick 2>/dev/null) | grep '^{' \
    | sed 's/"engine":"diffuse"/"engine":"baseline"/' >> "$out/baseline-$1.jsonl"
}
torch_cases() { "$py" "$here/bench_torch.py" --model "$model" --threads $threads --budget $budget --cases "$2" >> "$out/torch-$1.jsonl"; }
# java_sample ROUND [ENGINE]: the ./diffuse of the current folder, recorded as ENGINE (default diffuse)
java_sample() {
  local engine=${2:-diffuse}
  time_process "$engine" "$out/$engine-$1.jsonl" ./diffuse sample --model "$model" --sampler ddim --steps 25 --n 64 --device java \
    --out "$out/$engine-grid.png"
}
baseline_sample() { (cd "$baseline" && java_sample "$1" baseline); }
torch_sample() {
  time_process torch "$out/torch-$1.jsonl" "$py" "$here/sample_torch.py" --model "$model" --steps 25 --n 64 --threads $threads \
    --out "$out/torch-grid.png"
}
export -f java_cases baseline_cases torch_cases java_sample baseline_sample torch_sample time_process
export out here py model quick budget threads baseline

for r in $(seq 1 "$rounds"); do
  echo "round $r of $rounds ..." >&2
  if [ $((r % 2)) -eq 1 ]; then order="java torch"; else order="torch java"; fi   # alternate which engine goes first
  if [ -n "$baseline" ]; then if [ $((r % 2)) -eq 1 ]; then order="$order baseline"; else order="baseline $order"; fi; fi
  for cases in unet_fwd train_step conv,gemm,attention,gn_silu; do   # three parts: no lock hold of more than a few minutes
    for e in $order; do locked bash -c "${e}_cases $r $cases"; done
  done
  if [ $sample -eq 1 ]; then for e in $order; do locked bash -c "${e}_sample $r"; done; fi
done
"$py" "$here/report.py" "$out" "${nominal[@]}" | tee "$out/table.md"
