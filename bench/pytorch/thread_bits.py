"""Does the thread count change Diffuse's bits? Runs the same U-Net forward (`diffuse forward`), the same DDIM
sampling (`diffuse sample ... --save samples.csv`) and the same 2 training steps of the small U-Net (`diffuse train`,
batch 16, fashion-mnist) with -Ddiffuse.threads=1, 2 (and more if given) and compares the outputs byte for byte;
each twice, to also check that repeated runs agree.

    /usr/bin/python3 bench/pytorch/thread_bits.py [--threads 1,2] [--steps 5]
"""
import argparse
import filecmp
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import safetensors_io  # bench/pytorch is on sys.path: Python puts the script's folder there

HERE = os.path.dirname(os.path.abspath(__file__))

ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "pretrained", "fashion-mnist-small"))
    ap.add_argument("--diffuse", default=os.path.join(ROOT, "diffuse"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=5, help="DDIM steps of the sampling check")
    a = ap.parse_args()
    counts = [int(t) for t in a.threads.split(",")]
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    t = torch.from_numpy(rng.integers(0, 1000, 64).astype(np.float32))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.safetensors")
        safetensors_io.write(src, {"sample": x, "timestep": t})
        outs = {}
        for n in counts:
            for rep in (0, 1):
                env = dict(os.environ, DIFFUSE_JAVA_OPTS=f"-Ddiffuse.threads={n}")
                fwd, csv = os.path.join(tmp, f"fwd-{n}-{rep}.safetensors"), os.path.join(tmp, f"samples-{n}-{rep}.csv")
                subprocess.run([a.diffuse, "forward", "--model", a.model, "--input", src, "--out", fwd, "--device", "java"],
                               check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                subprocess.run([a.diffuse, "sample", "--model", a.model, "--sampler", "ddim", "--steps", str(a.steps), "--n", "16",
                                "--device", "java", "--out", os.path.join(tmp, "g.png"), "--save", csv],
                               check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                run = os.path.join(tmp, f"train-{n}-{rep}")
                subprocess.run([a.diffuse, "train", "--data", "fashion-mnist", "--config", "small", "--steps", "2", "--batch", "16",
                                "--sample-every", "0", "--device", "java", "--out", run],
                               check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                state = [os.path.join(dp, f) for dp, _, fs in os.walk(run) for f in fs if f == "training_state.safetensors"]
                if len(state) != 1:
                    sys.exit(f"expected one training_state.safetensors under {run}, found {state}")
                outs[(n, rep)] = (fwd, csv, state[0])
        base = outs[(counts[0], 0)]
        for key, (fwd, csv, state) in outs.items():
            same_fwd = safetensors_io.read(fwd)["output"].numpy().tobytes() == safetensors_io.read(base[0])["output"].numpy().tobytes()
            same_csv = filecmp.cmp(csv, base[1], shallow=False)
            same_state = filecmp.cmp(state, base[2], shallow=False)
            diff = (safetensors_io.read(fwd)["output"] - safetensors_io.read(base[0])["output"]).abs().max().item()
            print(f"threads {key[0]} run {key[1] + 1}: forward {'identical' if same_fwd else f'differs (max {diff:.3g})'}, "
                  f"{a.steps}-step DDIM samples {'identical' if same_csv else 'differ'}, weights/moments/EMA after 2 training "
                  f"steps {'identical' if same_state else 'differ'} (vs threads {counts[0]} run 1)")
            ok &= same_fwd and same_csv and same_state
    print("the bits do not depend on the thread count" if ok else "the bits DEPEND on the thread count or the run")


if __name__ == "__main__":
    main()
