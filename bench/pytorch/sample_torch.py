"""PyTorch counterpart of `diffuse sample --model M --sampler ddim --steps S --n N --out grid.png`: load the U-Net,
draw N images with DDIM (eta 0, "leading" timesteps, prev = t - 1000/S, x0 clipped to [-1, 1], as diffusers'
DDIMScheduler and Diffuse's DdimSampler), write an 8-wide PNG grid. The side-by-side script times the whole process.

    /usr/bin/python3 bench/pytorch/sample_torch.py --steps 25 --n 64 --out /tmp/torch-grid.png
"""
import argparse
import math
import os
import sys

import torch

import unet  # bench/pytorch is on sys.path: Python puts the script's folder there

HERE = os.path.dirname(os.path.abspath(__file__))

ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "pretrained", "fashion-mnist-small"))
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="torch-grid.png")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = unet.load(a.model)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float32)
    ab = torch.cumprod(1 - betas.double(), 0)
    stride = 1000 // a.steps
    size = model.cfg.get("sample_size", 28)
    x = torch.randn(a.n, model.cfg.get("in_channels", 3), size, size)
    with torch.no_grad():
        for t in range(stride * (a.steps - 1), -1, -stride):   # leading spacing: 960, 920, ..., 0 for 25 steps
            at, ap_ = ab[t].item(), ab[t - stride].item() if t - stride >= 0 else 1.0
            eps = model(x, torch.full((a.n,), float(t)))
            x0 = ((x - math.sqrt(1 - at) * eps) / math.sqrt(at)).clamp(-1, 1)
            x = math.sqrt(ap_) * x0 + math.sqrt(1 - ap_) * eps
    from PIL import Image
    cols = 8
    rows = (a.n + cols - 1) // cols
    img = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[:, 0]
    grid = torch.zeros(rows * size, cols * size, dtype=torch.uint8)
    for i in range(a.n):
        r, c = divmod(i, cols)
        grid[r * size:(r + 1) * size, c * size:(c + 1) * size] = img[i]
    Image.fromarray(grid.numpy(), mode="L").save(a.out)
    print(f"wrote {a.n} samples to {a.out}")


if __name__ == "__main__":
    main()
