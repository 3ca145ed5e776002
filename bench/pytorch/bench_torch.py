"""The PyTorch half of the side-by-side benchmark: the cases of `diffuse bench --side-by-side` (same names, shapes and
work) timed with torch on the CPU, printed as JSON lines {"engine": "torch", "kind": "case", "case", "ms", ...}.

    /usr/bin/python3 bench/pytorch/bench_torch.py [--threads 2] [--budget 1.5] [--cases unet,gemm]

ms is the median of timed calls after a warm-up of the same length (as the Java side). The training step mirrors
Diffuse's Trainer: q_sample, forward, MSE, backward, clip_grad_norm_(1.0), AdamW, EMA. PyTorch runs with its
defaults (Debian's 1.13 runs convolutions through oneDNN, matmul/linear through its reference BLAS); the case
"gemm_512:onednn" times the same product through oneDNN's linear, the fastest GEMM this build has.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torch.utils.mkldnn  # noqa: F401  (torch.utils.mkldnn.to_mkldnn)

import unet  # bench/pytorch is on sys.path: Python puts the script's folder there

HERE = os.path.dirname(os.path.abspath(__file__))

ROOT = os.path.dirname(os.path.dirname(HERE))


def timed(fn, budget):
    """Median seconds per call of fn after a warm-up of about `budget` seconds (>= 3 calls)."""
    start = time.perf_counter()
    i = 0
    while i < 3 or time.perf_counter() - start < budget and i < 1000:
        fn()
        i += 1
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < budget and len(samples) < 200:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def unet_forward(model, batch):
    x, t = torch.randn(batch, 1, 28, 28), torch.full((batch,), 500.0)

    def run():
        with torch.no_grad():
            model(x, t)
    return run


def train_step(model, batch=64):
    """One DDPM training step as Diffuse's Trainer does it (lr 1e-4, betas (0.95, 0.999), wd 1e-6, EMA, clip 1.0)."""
    model.train()
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float32)
    ab = torch.cumprod(1 - betas.double(), 0).float()
    data = torch.rand(512, 1, 28, 28) * 2 - 1
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.95, 0.999), eps=1e-8, weight_decay=1e-6)
    params = list(model.parameters())
    ema = [p.detach().clone() for p in params]
    step = [0]

    def run():
        step[0] += 1
        idx = torch.randint(0, data.shape[0], (batch,))
        t = torch.randint(0, 1000, (batch,))
        x0, eps = data[idx], torch.randn(batch, 1, 28, 28)
        a = ab[t].sqrt()[:, None, None, None]
        s = (1 - ab[t]).sqrt()[:, None, None, None]
        loss = F.mse_loss(model(a * x0 + s * eps, t.float()), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = min(0.9999, step[0] / (step[0] + 9))
        with torch.no_grad():
            torch._foreach_mul_(ema, decay)
            torch._foreach_add_(ema, [p.detach() for p in params], alpha=1 - decay)
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "pretrained", "fashion-mnist-small"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=1.5, help="seconds of warm-up and of timing per case")
    ap.add_argument("--cases", default="", help="comma-separated words; keep the cases whose name contains one")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    words = [w.strip() for w in a.cases.split(",") if w.strip()]
    model = unet.load(a.model)

    conv_x, conv_w, conv_b = torch.randn(64, 64, 14, 14), torch.randn(64, 64, 3, 3) * 0.05, torch.zeros(64)
    conv_dy = torch.randn(64, 64, 14, 14)
    ga, gb = torch.randn(512, 512), torch.randn(512, 512)
    q, k, v = torch.randn(64, 1, 196, 64), torch.randn(64, 1, 196, 64), torch.randn(64, 1, 196, 64)
    gn_x, gn_w, gn_b = torch.randn(64, 64, 14, 14), torch.randn(64), torch.zeros(64)

    def conv_fwd():
        with torch.no_grad():
            F.conv2d(conv_x, conv_w, conv_b, padding=1)

    def conv_bwd():   # dx, dW, db of the same convolution (aten's backward alone, as Diffuse's Conv2d.backward)
        torch.ops.aten.convolution_backward(conv_dy, conv_x, conv_w, [64], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                            [True, True, True])

    def gemm():
        with torch.no_grad():
            F.linear(ga, gb)   # (512 x 512) @ (512 x 512)^T, the NT product of nn.Linear

    onednn_linear = torch.utils.mkldnn.to_mkldnn(torch.nn.Linear(512, 512, bias=False))
    onednn_linear.weight = gb.to_mkldnn()
    ga_onednn = ga.to_mkldnn()

    def gemm_onednn():   # the same product through oneDNN on oneDNN tensors (conversions not timed)
        with torch.no_grad():
            onednn_linear(ga_onednn)

    def attention():
        with torch.no_grad():
            torch.softmax(q @ k.transpose(-1, -2) * 0.125, dim=-1) @ v

    def gn_silu():
        with torch.no_grad():
            F.silu(F.group_norm(gn_x, 8, gn_w, gn_b, 1e-5))

    cases = [("unet_fwd_b64", lambda: unet_forward(model, 64)), ("unet_fwd_b1", lambda: unet_forward(model, 1)),
             ("train_step_b64", lambda: train_step(unet.load(a.model))), ("conv3x3_fwd", lambda: conv_fwd),
             ("conv3x3_bwd", lambda: conv_bwd), ("gemm_512", lambda: gemm), ("gemm_512:onednn", lambda: gemm_onednn),
             ("attention_b64", lambda: attention),
             ("gn_silu", lambda: gn_silu)]
    print(json.dumps({"engine": "torch", "kind": "info", "version": torch.__version__, "threads": torch.get_num_threads(),
                      "mkldnn": torch.backends.mkldnn.is_available()}), flush=True)
    for name, make in cases:
        if words and not any(w in name for w in words):
            continue
        ms = 1e3 * timed(make(), a.budget)
        print(json.dumps({"engine": "torch", "kind": "case", "case": name, "ms": ms}), flush=True)


if __name__ == "__main__":
    main()
