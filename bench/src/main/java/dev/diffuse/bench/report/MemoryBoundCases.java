package dev.diffuse.bench.report;

import java.util.ArrayList;
import java.util.List;

import dev.diffuse.kernels.activation.Activation;
import dev.diffuse.kernels.groupnorm.GroupNorm;
import dev.diffuse.kernels.optim.Optim;
import dev.diffuse.kernels.shape.ShapeOps;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * Report cases for the U-Nets' memory-bound ops at their large activations (small U-Net at batch 64: 32x28x28 and
 * 64x14x14 with 8 groups; CIFAR at batch 128: 128x32x32 with 32 groups) and the optimizer over parameter slabs. Work
 * is the compulsory bytes: each input read once, each output written once (n = elements of the activation):
 * GroupNorm+SiLU forward 8n, backward 12n (dy, x read, dx written); SiLU 8n and 12n; broadcast add 8n;
 * upsample 4n + 16n; concat 16n; AdamW 28 and EMA 12 bytes per parameter.
 */
final class MemoryBoundCases {
    private MemoryBoundCases() {}

    static List<OpCase> all() {
        List<OpCase> c = new ArrayList<>();
        for (int[] s : new int[][]{{64, 32, 28, 28}, {64, 64, 14, 14}, {128, 128, 32, 32}}) {
            int b = s[0], ch = s[1], hw = s[2], groups = ch >= 128 ? 32 : 8;
            long n = Tensor.numel(s);
            String shape = OpsReport.shapeOf(s);
            c.add(new OpCase("groupnorm+silu forward", shape, OpCase.Unit.BYTE, 8.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench gn", 1L << 32);
                Tensor x = ws.tensor(s), y = ws.tensor(s), gamma = ws.tensor(ch), beta = ws.tensor(ch);
                Tensor mean = ws.tensor(b, groups), rstd = ws.tensor(b, groups);
                Rng.fillNormal(x, 1, 0);
                Rng.fillNormal(gamma, 1, 1);
                return new OpCase.Prepared(() -> GroupNorm.forwardSilu(y, mean, rstd, x, gamma, beta, groups, 1e-5f), ws);
            }));
            c.add(new OpCase("groupnorm+silu backward", shape, OpCase.Unit.BYTE, 12.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench gn bwd", 1L << 32);
                Tensor x = ws.tensor(s), y = ws.tensor(s), dy = ws.tensor(s), dx = ws.tensor(s), gamma = ws.tensor(ch), beta = ws.tensor(ch);
                Tensor dg = ws.tensor(ch), db = ws.tensor(ch), mean = ws.tensor(b, groups), rstd = ws.tensor(b, groups);
                Tensor scratch = ws.tensor(GroupNorm.scratchShape(b, ch));
                Rng.fillNormal(x, 1, 0);
                Rng.fillNormal(dy, 1, 1);
                Rng.fillNormal(gamma, 1, 2);
                GroupNorm.forwardSilu(y, mean, rstd, x, gamma, beta, groups, 1e-5f);
                return new OpCase.Prepared(() -> GroupNorm.backwardSilu(dx, dg, db, dy, x, gamma, beta, mean, rstd, scratch, groups), ws);
            }));
            c.add(new OpCase("silu forward", shape, OpCase.Unit.BYTE, 8.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench silu", 1L << 32);
                Tensor x = ws.tensor(s), y = ws.tensor(s);
                Rng.fillNormal(x, 1, 0);
                return new OpCase.Prepared(() -> Activation.silu(y, x), ws);
            }));
            c.add(new OpCase("silu backward", shape, OpCase.Unit.BYTE, 12.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench silu bwd", 1L << 32);
                Tensor x = ws.tensor(s), dy = ws.tensor(s), dx = ws.tensor(s);
                Rng.fillNormal(x, 1, 0);
                return new OpCase.Prepared(() -> Activation.siluBackward(dx, dy, x), ws);
            }));
            c.add(new OpCase("broadcast add (B,C)->(B,C,H,W)", shape, OpCase.Unit.BYTE, 8.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench badd", 1L << 32);
                Tensor x = ws.tensor(s), y = ws.tensor(s), e = ws.tensor(b, ch);
                return new OpCase.Prepared(() -> ShapeOps.addBroadcast(y, x, e), ws);
            }));
            c.add(new OpCase("upsample nearest 2x", shape, OpCase.Unit.BYTE, 4.0 * n + 16.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench up", 1L << 32);
                Tensor x = ws.tensor(s), y = ws.tensor(b, ch, 2 * hw, 2 * hw);
                return new OpCase.Prepared(() -> ShapeOps.upsampleNearest2x(y, x), ws);
            }));
            c.add(new OpCase("concat channels", shape + "+same", OpCase.Unit.BYTE, 16.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench cat", 1L << 32);
                Tensor a = ws.tensor(s), bb = ws.tensor(s), y = ws.tensor(b, 2 * ch, hw, hw);
                return new OpCase.Prepared(() -> ShapeOps.concatChannels(y, a, bb), ws);
            }));
        }
        // optimizer over parameter slabs: small U-Net (~2M) and DDPM CIFAR-10 (35.7M)
        for (int n : new int[]{2_000_000, 35_746_307}) {
            c.add(new OpCase("adamw", Integer.toString(n), OpCase.Unit.BYTE, (double) Optim.ADAMW_BYTES_PER_ELEMENT * n, d -> {
                Workspace ws = new Workspace(d, "bench adamw", 1L << 32);
                Tensor p = ws.tensor(n), g = ws.tensor(n), m = ws.tensor(n), v = ws.tensor(n);
                int[] step = {0};
                var cfg = Optim.AdamWConfig.torchDefaults(1e-4);
                return new OpCase.Prepared(() -> Optim.adamw(p, m, v, g, null, 1f, cfg, ++step[0]), ws);
            }));
            c.add(new OpCase("ema", Integer.toString(n), OpCase.Unit.BYTE, (double) Optim.EMA_BYTES_PER_ELEMENT * n, d -> {
                Workspace ws = new Workspace(d, "bench ema", 1L << 32);
                Tensor p = ws.tensor(n), e = ws.tensor(n);
                return new OpCase.Prepared(() -> Optim.ema(e, p, 0.999), ws);
            }));
            c.add(new OpCase("gradient norm", Integer.toString(n), OpCase.Unit.BYTE, (double) Optim.GRADNORM_BYTES_PER_ELEMENT * n, d -> {
                Workspace ws = new Workspace(d, "bench gradnorm", 1L << 32);
                Tensor g = ws.tensor(n), norm = ws.tensor(1), clip = ws.tensor(1);
                Rng.fillNormal(g, 1, 0);
                return new OpCase.Prepared(() -> Optim.gradNorm(norm, clip, g, 1f, 1f), ws);
            }));
        }
        return c;
    }
}
