package dev.diffuse.bench.report;

import java.util.ArrayList;
import java.util.List;

import dev.diffuse.kernels.attention.Attention;
import dev.diffuse.kernels.conv2d.Conv2d;
import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.kernels.linear.Gemm;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * Report cases for the U-Net op families, at the shapes of the two reference U-Nets. Work counts: convolution
 * 2 B Cout OH OW Cin K^2 FLOPs (backward twice that: dx and dW), GEMM 2 M N K, attention 4 B heads N^2 D forward
 * (two GEMMs; backward counted as 2.5x). The memory-bound ops are in {@link MemoryBoundCases}.
 */
final class UNetOpCases {
    private UNetOpCases() {}

    static List<OpCase> all() {
        List<OpCase> c = new ArrayList<>();
        // conv 3x3: small U-Net (64 x 64@14, 64 x 32@28 at batch 64) and CIFAR (128 x 128@32, 256 x 256@16 at batch 128)
        for (int[] s : new int[][]{{64, 32, 28, 32}, {64, 64, 14, 64}, {128, 128, 32, 128}, {128, 256, 16, 256}}) {
            int b = s[0], cin = s[1], hw = s[2], cout = s[3];
            Conv2dSpec spec = Conv2dSpec.same3x3();
            double flops = Conv2d.flops(b, cin, hw, hw, cout, spec);
            String shape = b + "x" + cin + "x" + hw + "x" + hw + "->" + cout;
            c.add(new OpCase("conv2d 3x3 forward", shape, OpCase.Unit.FLOP, flops, d -> {
                Workspace ws = new Workspace(d, "bench conv", 1L << 32);
                Tensor x = ws.tensor(b, cin, hw, hw), w = ws.tensor(cout, cin, 3, 3), bias = ws.tensor(cout), y = ws.tensor(b, cout, hw, hw);
                Rng.fillNormal(x, 1, 0);
                Rng.fillNormal(w, 1, 1, 0, 0f, 0.05f);
                return new OpCase.Prepared(() -> Conv2d.forward(y, x, w, bias, spec), ws);
            }));
            c.add(new OpCase("conv2d 3x3 backward (dx, dW, db)", shape, OpCase.Unit.FLOP, 2 * flops, d -> {
                Workspace ws = new Workspace(d, "bench conv bwd", 1L << 32);
                Tensor x = ws.tensor(b, cin, hw, hw), w = ws.tensor(cout, cin, 3, 3), dy = ws.tensor(b, cout, hw, hw);
                Tensor dx = ws.tensor(b, cin, hw, hw), dw = ws.tensor(cout, cin, 3, 3), db = ws.tensor(cout);
                Rng.fillNormal(x, 1, 0);
                Rng.fillNormal(dy, 1, 2);
                return new OpCase.Prepared(() -> Conv2d.backward(dx, dw, db, dy, x, w, spec), ws);
            }));
        }
        // GEMM: attention projections (B*HW x C x C) of the small U-Net at batch 64 and CIFAR at batch 128
        for (int[] s : new int[][]{{64 * 196, 64, 64}, {128 * 256, 256, 256}}) {
            int m = s[0], n = s[1], k = s[2];
            c.add(new OpCase("gemm NT", m + "x" + n + "x" + k, OpCase.Unit.FLOP, Gemm.flops(m, n, k), d -> {
                Workspace ws = new Workspace(d, "bench gemm", 1L << 32);
                Tensor a = ws.tensor(m, k), bm = ws.tensor(n, k), out = ws.tensor(m, n);
                Rng.fillNormal(a, 1, 0);
                Rng.fillNormal(bm, 1, 1);
                return new OpCase.Prepared(() -> Gemm.gemm(out, a, bm, false, true, 1f, 0f), ws);
            }));
        }
        // attention core (B, heads, N, D): small U-Net 14x14 tokens at C = 64; CIFAR 16x16 tokens at C = 256
        for (int[] s : new int[][]{{64, 1, 196, 64}, {128, 1, 256, 256}}) {
            int b = s[0], h = s[1], n = s[2], dd = s[3];
            double flops = 4.0 * b * h * n * (double) n * dd;
            String shape = b + "x" + h + "x" + n + "x" + dd;
            c.add(new OpCase("attention forward", shape, OpCase.Unit.FLOP, flops, d -> {
                Workspace ws = new Workspace(d, "bench attn", 1L << 32);
                Tensor q = ws.tensor(b, h, n, dd), k = ws.tensor(b, h, n, dd), v = ws.tensor(b, h, n, dd), o = ws.tensor(b, h, n, dd), lse = ws.tensor(b, h, n);
                Rng.fillNormal(q, 1, 0);
                Rng.fillNormal(k, 1, 1);
                Rng.fillNormal(v, 1, 2);
                return new OpCase.Prepared(() -> Attention.forward(o, lse, q, k, v, (float) (1 / Math.sqrt(dd))), ws);
            }));
        }
        c.addAll(MemoryBoundCases.all());
        return c;
    }
}
