#!/usr/bin/env bash
# One round of docs/scale-out.md's measurement: the same n images of the shipped model through 'diffuse sample' and
# through the Spark job at local[1] and local[2], interleaved; prints images/s of the sampling itself and of the whole
# command (JVM, Spark session, model load, writing); then times 'diffuse evaluate' (sliced-W2 against Fashion-MNIST's
# test set and class counts) on the local[2] data set. Run it under the timing lock at normal priority:
#   flock /tmp/diffuse-timing.lock spark/scale-out-bench.sh 64 10 8
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-64} steps=${2:-10} batch=${3:-8}
model=pretrained/fashion-mnist-small
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wall() { local t0 t1; t0=$(date +%s.%N); "$@" > "$tmp/out" 2>&1 || { cat "$tmp/out" >&2; exit 1; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
echo "n=$n steps=$steps batch=$batch model=$model device=java host=$(nproc) cores load=$(cut -d' ' -f1 /proc/loadavg)"
w=$(wall ./diffuse sample --model $model --n "$n" --steps "$steps" --seed 0 --batch "$batch" --device java --out "$tmp/grid.png")
echo "sample    : $(grep '^sampled:' "$tmp/out")   whole command ${w} s"
for m in 'local[1]' 'local[2]'; do
  w=$(wall ./diffuse generate --model $model --n "$n" --steps "$steps" --seed 0 --batch "$batch" --device java --master "$m" --out "$tmp/gen-${m//[^0-9]/}")
  echo "$m: $(grep '^generated:' "$tmp/out") $(grep -o 'session start [0-9.]* s' "$tmp/out"), $(grep -o '[0-9]* partitions' "$tmp/out")   whole command ${w} s"
done
w=$(wall ./diffuse evaluate --data "$tmp/gen-2" --master 'local[2]')
echo "evaluate local[2] on the local[2] set: $(grep -o 'evaluated in [0-9.]* s' "$tmp/out")   whole command ${w} s"
grep -i '^data:\|w2\|floor' "$tmp/out" | sed 's/^/  /'
