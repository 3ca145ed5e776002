package dev.diffuse.bench.report;

import java.util.ArrayList;
import java.util.List;

import dev.diffuse.kernels.diffusion.QSample;
import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.reduce.Reduce;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * The standard set of {@code diffuse bench --ops}: every op family at shapes from the two reference U-Nets
 * (small: 28x28 grey, channels 32/64/128 at 28/14/7; DDPM CIFAR-10: 128/256 at 32/16/8/4).
 */
public final class StandardCases {
    private StandardCases() {}

    public static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        for (int[] s : new int[][]{{64, 32, 28, 28}, {128, 128, 32, 32}}) {
            long n = numel(s);
            cases.add(new OpCase("add", OpsReport.shapeOf(s), OpCase.Unit.BYTE, 12.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench add", 3 * 4 * n + (1 << 20));
                Tensor x = ws.tensor(s), y = ws.tensor(s), z = ws.tensor(s);
                return new OpCase.Prepared(() -> Elementwise.add(z, x, y), ws);
            }));
            cases.add(new OpCase("q_sample (eps drawn, written)", OpsReport.shapeOf(s), OpCase.Unit.BYTE, 12.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench q_sample", 3 * 4 * n + (1 << 20));
                Tensor x = ws.tensor(s), out = ws.tensor(s), eps = ws.tensor(s), a = ws.tensor(s[0]), b = ws.tensor(s[0]);
                Rng.fillUniform(a, 1, 1, 0);
                Rng.fillUniform(b, 1, 2, 0);
                long[] step = {0};
                return new OpCase.Prepared(() -> QSample.applyDrawn(out, eps, x, a, b, 3, step[0]++), ws);
            }));
            cases.add(new OpCase("sampler step (z drawn)", OpsReport.shapeOf(s), OpCase.Unit.BYTE, 12.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench step", 3 * 4 * n + (1 << 20));
                Tensor x = ws.tensor(s), m = ws.tensor(s), out = ws.tensor(s);
                long[] step = {0};
                return new OpCase.Prepared(() -> SamplerStep.step(out, x, m, 0.99, -0.05, 0.1, 3, step[0]++), ws);
            }));
        }
        for (int n : new int[]{2_000_000, 35_700_000}) {
            cases.add(new OpCase("sum of squares", Integer.toString(n), OpCase.Unit.BYTE, 4.0 * n, d -> {
                Workspace ws = new Workspace(d, "bench reduce", 4L * n + (1 << 20));
                Tensor x = ws.tensor(n), out = ws.tensor(1);
                return new OpCase.Prepared(() -> Reduce.sumSquares(out, x), ws);
            }));
        }
        cases.addAll(UNetOpCases.all());
        return cases;
    }

    static long numel(int[] s) { return Tensor.numel(s); }

}
