#!/usr/bin/env bash
# One-command GPU check: everything worth knowing about Diffuse on a GPU, in one JSON + Markdown report.
#
#   scripts/gpu-check.sh bundle                 here (JDK + Maven): build .gpu/ with ../shared/scripts/gpu-bundle.sh and
#                                               add the Fashion-MNIST test split for the training timing (if present)
#   scripts/gpu-check.sh run OUT [DEVICE]       on the GPU host, from the project root (no JDK or Maven needed):
#                                               runs the steps below and writes OUT/report.json and OUT/report.md
#
# DEVICE defaults to cl:gpu; cl:cpu dry-runs the same steps on PoCL. Steps (each under its own time limit, so the
# whole run stays under 8 minutes; a step that fails or times out is reported, the others still run):
#   devices   diffuse devices                                           OUT/devices.txt
#   tests     the whole suite, -Ddiffuse.device=DEVICE, strict mode     OUT/tests.log, OUT/junit/   (GPU_CHECK_TESTS: extra
#             JUnit console arguments, e.g. '--include-package dev.diffuse.runtime' for a quick dry run)
#   tune      diffuse tune for the small U-Net (pretrained/fashion-mnist-small) at batch 64, forward and backward, with
#             --report: per-op default vs tuned, whole U-Net forward and forward+backward, beside the Java device
#                                                                        OUT/tune/tune.json, tune.md, OUT/tuning.tsv
#   bench     diffuse bench --ops --quick                                 OUT/bench/ops.json, ops.png
#   sample    diffuse sample: 64 images, DDIM 25 steps (sampling time)   OUT/sample.log, OUT/samples.png
#   train     diffuse train: 40 steps at batch 64 on Fashion-MNIST's test split (training time, if bundled)
#                                                                        OUT/train.log
# then OUT/report.json / report.md (dev.diffuse.cli.GpuCheckReport) gather the step results, times and numbers.
# With the device tool: run 'scripts/gpu-check.sh bundle' here, then run 'scripts/gpu-check.sh run $OUT' there with
# carry [".gpu"] and a timeout of 540 s (the step limits add up to 450 s).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

if [ "$mode" = bundle ]; then
  set -e
  # without the optional TornadoVM module (the GPU host has no TornadoVM SDK)
  env -u TORNADOVM_HOME ../shared/scripts/gpu-bundle.sh
  # Spark is a provided dependency (the cluster brings it), so the bundle has no Spark and the spark module's tests
  # cannot run there; the library they test is covered by the other modules' tests
  rm -rf .gpu/test/classes-spark .gpu/test/classes-tornado
  fm=/usr/share/datasets/fashion-mnist
  if [ -f "$fm/t10k-images-idx3-ubyte.gz" ]; then
    mkdir -p .gpu/data/fashion-mnist && cp "$fm"/t10k-*-idx?-ubyte.gz .gpu/data/fashion-mnist/
  fi
  du -sh .gpu | awk '{print "bundle with data: " $1 " (the device tool carries at most 64 MiB)"}'
  exit 0
fi

[ "$mode" = run ] && [ -n "${2:-}" ] || { sed -n '2,12p' "$0" >&2; exit 2; }
OUT=$2
DEVICE=${3:-cl:gpu}
[ -x .gpu/java ] || { echo "no .gpu/ bundle here: run 'scripts/gpu-check.sh bundle' first (and carry .gpu)" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CACHE=${GPU_CHECK_CACHE:-/tmp/diffuse-gpu-check-cache}
export DIFFUSE_CACHE_DIR=$CACHE
steps=$OUT/steps.tsv
printf 'step\texit\tseconds\tlimit\n' > "$steps"
# the diffuse CLI from the bundle (an array, not a shell function: each step runs it under 'timeout')
diffuse=(.gpu/java -Ddiffuse.cache.dir="$CACHE" -cp '.gpu/lib/*' dev.diffuse.cli.DiffuseCommand)

# step NAME LIMIT_SECONDS COMMAND...: runs it with a time limit, output to OUT/NAME.log, records exit code and time.
step() {
  local name=$1 limit=$2; shift 2
  local t0 t1 rc ms
  t0=$(date +%s%N)
  echo "== $name (limit ${limit}s): $*"
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  printf '%s\t%d\t%d.%03d\t%d\n' "$name" "$rc" $((ms / 1000)) $((ms % 1000)) "$limit" >> "$steps"
  tail -3 "$OUT/$name.log"
}

start=$(date +%s)
step devices 30 "${diffuse[@]}" devices
cp "$OUT/devices.log" "$OUT/devices.txt" 2>/dev/null
# shellcheck disable=SC2086
step tests 180 env JAVA_TOOL_OPTIONS="-Ddiffuse.device=$DEVICE -Ddiffuse.requireOpenCL=true -Ddiffuse.strict=true -Ddiffuse.cache.dir=$CACHE -Xss8m" \
  .gpu/tests --details=tree --disable-banner --reports-dir "$OUT/junit" ${GPU_CHECK_TESTS:-}
step tune 120 "${diffuse[@]}" tune --model pretrained/fashion-mnist-small --device "$DEVICE" --batch 64 --budget 4 --max-seconds 75 --report --reps 3 --out "$OUT/tune"
cp "$CACHE/tuning.tsv" "$OUT/tuning.tsv" 2>/dev/null
step bench 40 "${diffuse[@]}" bench --ops --quick --device "$DEVICE" --out "$OUT/bench"
step sample 40 "${diffuse[@]}" sample --model pretrained/fashion-mnist-small --sampler ddim --steps 25 --n 64 --device "$DEVICE" --out "$OUT/samples.png"
if [ -f .gpu/data/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
  step train 40 "${diffuse[@]}" train --data fashion-mnist:test --data-dir .gpu/data/fashion-mnist --config small --steps 40 --batch 64 \
    --log-every 20 --sample-every 0 --checkpoint-every 0 --device "$DEVICE" --out /tmp/diffuse-gpu-check-run
else
  printf 'train\t-1\t0\t0\n' >> "$steps"; echo "no Fashion-MNIST test split in .gpu/data: training timing skipped" > "$OUT/train.log"
fi
echo "total $(( $(date +%s) - start )) s"
.gpu/java -cp '.gpu/lib/*' dev.diffuse.cli.GpuCheckReport "$OUT" "$DEVICE" && echo "wrote $OUT/report.json and $OUT/report.md"
