"""Checks that this U-Net and Diffuse compute the same function on the same weights: one batch through
`diffuse forward`, the same batch through unet.py; prints the largest difference and fails beyond --tol.

    /usr/bin/python3 bench/pytorch/check_parity.py --model pretrained/fashion-mnist-small
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import safetensors_io
import unet

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "pretrained", "fashion-mnist-small"))
    ap.add_argument("--diffuse", default=os.path.join(ROOT, "diffuse"), help="the diffuse launcher")
    ap.add_argument("--device", default="java")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed |torch - diffuse| (default 1e-4, the spec's goal)")
    a = ap.parse_args()
    model = unet.load(a.model)
    cfg = model.cfg
    size, cin = cfg.get("sample_size", 28), cfg.get("in_channels", 3)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((a.batch, cin, size, size)).astype(np.float32))
    t = torch.from_numpy(np.linspace(0, 999, a.batch).round().astype(np.float32))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
        safetensors_io.write(src, {"sample": x, "timestep": t})
        subprocess.run([a.diffuse, "forward", "--model", a.model, "--input", src, "--out", dst, "--device", a.device],
                       check=True, stdout=subprocess.DEVNULL)
        theirs = safetensors_io.read(dst)["output"]
    with torch.no_grad():
        ours = model(x, t)
    diff = (ours - theirs).abs().max().item()
    scale = theirs.abs().max().item()
    print(f"parity: max |torch - diffuse| = {diff:.3g} (outputs up to {scale:.3g}) on batch {a.batch}, timesteps {t.tolist()}")
    if not diff <= a.tol:
        sys.exit(f"parity check failed: {diff:.3g} > {a.tol:.3g}; the two U-Nets differ, timings would compare different work")


if __name__ == "__main__":
    main()
