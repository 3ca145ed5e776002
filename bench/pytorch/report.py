"""Merges the JSON lines of `diffuse bench --side-by-side`, bench_torch.py and the timed sampling processes
(side_by_side.sh writes them into one folder, one file per engine and round) into the ratio table of issue 9:
time (median over rounds), GFLOP/s or GB/s, share of the measured peak (the Java device's roofline: FMA rate, copy
bandwidth of the op's working set) and PyTorch time / Diffuse time.

    /usr/bin/python3 bench/pytorch/report.py bench-out/side-by-side [--nominal 333e9,21.6e9]

With a "baseline" engine in the folder (side_by_side.sh --baseline DIR: an older Diffuse build) the table gets its
column and baseline time / Diffuse time. --nominal FLOPS,BYTES adds each rate's share of a nominal peak (e.g. the
datasheet FP32 rate and a copy bandwidth measured elsewhere) beside the share of the measured one. --best takes each
engine's fastest round instead of the median (on a loaded machine the least disturbed round; noise only adds time).
"""
import glob
import json
import os
import statistics
import sys

ROWS = [("unet_fwd_b64", "small U-Net forward, batch 64"), ("unet_fwd_b1", "small U-Net forward, batch 1"),
        ("train_step_b64", "training step, batch 64 (fwd+bwd+AdamW+EMA)"),
        ("conv3x3_fwd", "conv 3x3 64->64, 14x14, batch 64, forward"), ("conv3x3_bwd", "same conv, backward (dx, dW, db)"),
        ("gemm_512", "GEMM 512^3 (NT)"), ("attention_b64", "attention, seq 196, head dim 64, batch 64"),
        ("gn_silu", "GroupNorm+SiLU 64x64x14x14")]


def load(folder):
    cases, peaks, samples = {}, None, {}
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                d = json.loads(line)
                if d.get("kind") == "peaks":
                    peaks = d if peaks is None else best(peaks, d)
                elif d.get("kind") == "case":
                    cases.setdefault((d["engine"], d["case"]), []).append(d)
                elif d.get("kind") == "sample":
                    samples.setdefault(d["engine"], []).append(d)
    return cases, peaks, samples


def best(a, b):
    """The higher of two measured rooflines, figure by figure (a trial disturbed by other load only reads lower)."""
    m = dict(a)
    m["flops"], m["bytes"] = max(a["flops"], b["flops"]), max(a["bytes"], b["bytes"])
    m["fmaFlopsByThreads"] = [max(x, y) for x, y in zip(a["fmaFlopsByThreads"], b["fmaFlopsByThreads"])]
    m["copyBySize"] = [dict(p, bytesPerSecond=max(p["bytesPerSecond"], q["bytesPerSecond"]))
                       for p, q in zip(a["copyBySize"], b["copyBySize"])]
    return m


def ceiling(peaks, unit, work):
    """As DevicePeaks.ceiling: the FMA rate for FLOPs; for bytes the copy bandwidth of the smallest working set >= work."""
    if unit == "FLOP":
        return peaks["flops"]
    for p in peaks["copyBySize"]:
        if work <= p["workingSetBytes"]:
            return p["bytesPerSecond"]
    return peaks["bytes"]


def fmt_time(ms):
    return f"{ms / 1e3:.2f} s" if ms >= 1000 else f"{ms:.3g} ms" if ms >= 1 else f"{ms * 1e3:.0f} us"


NOMINAL = None   # (FLOP/s, bytes/s) from --nominal


def cell(ms, work, unit, ceiling):
    rate = work / (ms / 1e3)
    what = f"{rate / 1e9:.1f} GFLOP/s" if unit == "FLOP" else f"{rate / 1e9:.1f} GB/s"
    nominal = ""
    if NOMINAL:
        nominal = f"; {100 * rate / NOMINAL[0 if unit == 'FLOP' else 1]:.1f}% of nominal"
    return f"{fmt_time(ms)} ({what}, {100 * rate / ceiling:.1f}%{nominal})"


PICK = statistics.median   # min with --best


def median_ms(runs):
    return PICK(d["ms"] for d in runs)


def main():
    global NOMINAL, PICK
    args = sys.argv[1:]
    if "--best" in args:
        PICK = min
        args.remove("--best")
    if "--nominal" in args:
        i = args.index("--nominal")
        NOMINAL = tuple(float(v) for v in args[i + 1].split(","))
        del args[i:i + 2]
    folder = args[0] if args else "bench-out/side-by-side"
    cases, peaks, samples = load(folder)
    if peaks is None:
        sys.exit(f"{folder}: no diffuse peaks line; run side_by_side.sh first")
    fma = ", ".join("%.0f" % (f / 1e9) for f in peaks["fmaFlopsByThreads"])
    curve = ", ".join("%d MB %.1f" % (p["workingSetBytes"] >> 20, p["bytesPerSecond"] / 1e9) for p in peaks["copyBySize"])
    out = [f"Machine peaks (measured by diffuse on {peaks['device']}): FP32 {peaks['flops'] / 1e9:.0f} GFLOP/s "
           f"(FMA rate on 1, 2, ... threads: {fma}), copy {peaks['bytes'] / 1e9:.1f} GB/s at 512 MB "
           f"({curve} GB/s by working set).",
           "Peaks: the best of the rooflines measured during the run. Time: " + ("fastest round" if PICK is min else "median over rounds") + "; in brackets the rate and its "
           "share of the peak (FLOP/s of the FMA rate; bytes of the copy bandwidth of the op's working set)"
           + (f"; nominal peaks {NOMINAL[0] / 1e9:.0f} GFLOP/s, {NOMINAL[1] / 1e9:.1f} GB/s." if NOMINAL else "."), ""]
    has_base = any(eng == "baseline" for eng, _ in cases)
    if has_base:
        out += ["| work | Diffuse (Java device) | Diffuse baseline | PyTorch 1.13 (2 threads) | PyTorch / Diffuse | baseline / Diffuse |",
                "|---|---|---|---|---|---|"]
    else:
        out += ["| work | Diffuse (Java device) | PyTorch 1.13 (2 threads) | PyTorch / Diffuse |", "|---|---|---|---|"]
    for key, label in ROWS:
        j, t = cases.get(("diffuse", key)), cases.get(("torch", key))
        if not j:
            continue
        jm = median_ms(j)
        work, unit = j[0]["work"], j[0]["unit"]
        peak = ceiling(peaks, unit, work)
        lab = f"{label} ({work / 1e9:.1f} GFLOP)" if unit == "FLOP" and work > 1e10 else label
        tcell, ratio = "-", "-"
        if t:
            tm = median_ms(t)
            tcell, ratio = cell(tm, work, unit, peak), f"{tm / jm:.2f}"
            for (eng, name), v in cases.items():   # variants such as gemm_512:onednn
                if eng == "torch" and name.startswith(key + ":"):
                    vm = median_ms(v)
                    tcell += f"; {name.split(':', 1)[1]}: {cell(vm, work, unit, peak)}"
                    ratio += f"; {name.split(':', 1)[1]}: {vm / jm:.2f}"
        if has_base:
            b = cases.get(("baseline", key))
            bcell, bratio = (cell(median_ms(b), work, unit, peak), f"{median_ms(b) / jm:.2f}") if b else ("-", "-")
            out.append(f"| {lab} | {cell(jm, work, unit, peak)} | {bcell} | {tcell} | {ratio} | {bratio} |")
        else:
            out.append(f"| {lab} | {cell(jm, work, unit, peak)} | {tcell} | {ratio} |")
    if samples.get("diffuse") and samples.get("torch"):
        js, ts = samples["diffuse"], samples["torch"]
        jw, tw = statistics.median(d["seconds"] for d in js), statistics.median(d["seconds"] for d in ts)
        jr, tr = max(d["rss_mb"] for d in js), max(d["rss_mb"] for d in ts)
        bs = samples.get("baseline")
        bw = statistics.median(d["seconds"] for d in bs) if bs else None
        base = (f" {bw:.1f} s, {max(d['rss_mb'] for d in bs):.0f} MB RSS |" if bs else " - |") if has_base else ""
        out.append(f"| `sample --steps 25 --n 64` (DDIM), whole process | {jw:.1f} s, {jr:.0f} MB RSS |{base} {tw:.1f} s, {tr:.0f} MB RSS | {tw / jw:.2f} |"
                   + ((f" {bw / jw:.2f} |" if bs else " - |") if has_base else ""))
    rounds = max((len(v) for v in cases.values()), default=0)
    out.append("")
    out.append(f"{rounds} round(s); files in {folder}.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
