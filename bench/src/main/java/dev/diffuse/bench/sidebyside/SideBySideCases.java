package dev.diffuse.bench.sidebyside;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.diffuse.bench.report.OpCase;
import dev.diffuse.kernels.attention.Attention;
import dev.diffuse.kernels.conv2d.Conv2d;
import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.groupnorm.GroupNorm;
import dev.diffuse.kernels.linear.Gemm;
import dev.diffuse.models.train.TrainConfig;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * The cases of the side-by-side table (issue 9), named as in bench/pytorch/bench_torch.py, which runs the same
 * shapes: the shipped small U-Net forward at batch 64 and 1 and one training step at batch 64 (q_sample, forward,
 * MSE, backward, gradient clipping, AdamW, EMA: what {@link Trainer} does per step), the 3x3 convolution 64->64 at
 * 14x14 batch 64 forward and backward (dx, dW, db), GEMM 512^3, attention (batch 64, seq 196, head dim 64), and
 * GroupNorm+SiLU on 64x64x14x14 with 8 groups.
 */
public final class SideBySideCases {
    private SideBySideCases() {}

    /** One case: like an {@link OpCase}, with the name both engines use. */
    public record Case(String name, String shape, OpCase.Unit unit, double work, OpCase.Setup setup) {}

    public static List<Case> all(Path model) {
        List<Case> c = new ArrayList<>();
        for (int batch : new int[]{64, 1}) {
            c.add(new Case("unet_fwd_b" + batch, batch + "x1x28x28", OpCase.Unit.FLOP, unetFlops(model, batch, false), d -> {
                UNet2DModel m = load(model, d, batch, false);
                Tensor x = Tensor.allocate(d, batch, 1, 28, 28), t = Tensor.allocate(d, batch), out = Tensor.allocate(d, batch, 1, 28, 28);
                Rng.fillNormal(x, 1, 0);
                Elementwise.fill(t, 500f);
                return new OpCase.Prepared(() -> m.forward(out, x, t), () -> { x.close(); t.close(); out.close(); m.close(); });
            }));
        }
        c.add(new Case("train_step_b64", "64x1x28x28", OpCase.Unit.FLOP, unetFlops(model, 64, true), d -> {
            UNet2DModel m = load(model, d, 64, true);
            TrainConfig cfg = TrainConfig.defaults(1_000_000, 64);
            Trainer tr = new Trainer(m, new RandomImages(512, 1, 28, 28), cfg);
            return new OpCase.Prepared(() -> {
                try {
                    tr.runUntil(tr.step() + 1);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, () -> { tr.close(); m.close(); });
        }));
        Conv2dSpec spec = Conv2dSpec.same3x3();
        double convFlops = Conv2d.flops(64, 64, 14, 14, 64, spec);
        c.add(new Case("conv3x3_fwd", "64x64x14x14->64", OpCase.Unit.FLOP, convFlops, d -> {
            Workspace ws = new Workspace(d, "side-by-side conv", 64L << 20);
            Tensor x = ws.tensor(64, 64, 14, 14), w = ws.tensor(64, 64, 3, 3), b = ws.tensor(64), y = ws.tensor(64, 64, 14, 14);
            Rng.fillNormal(x, 1, 0);
            Rng.fillNormal(w, 1, 1, 0, 0f, 0.05f);
            return new OpCase.Prepared(() -> Conv2d.forward(y, x, w, b, spec), ws);
        }));
        c.add(new Case("conv3x3_bwd", "64x64x14x14->64", OpCase.Unit.FLOP, 2 * convFlops, d -> {
            Workspace ws = new Workspace(d, "side-by-side conv backward", 64L << 20);
            Tensor x = ws.tensor(64, 64, 14, 14), w = ws.tensor(64, 64, 3, 3), dy = ws.tensor(64, 64, 14, 14);
            Tensor dx = ws.tensor(64, 64, 14, 14), dw = ws.tensor(64, 64, 3, 3), db = ws.tensor(64);
            Rng.fillNormal(x, 1, 0);
            Rng.fillNormal(dy, 1, 2);
            Rng.fillNormal(w, 1, 1, 0, 0f, 0.05f);
            return new OpCase.Prepared(() -> Conv2d.backward(dx, dw, db, dy, x, w, spec), ws);
        }));
        c.add(new Case("gemm_512", "512x512x512", OpCase.Unit.FLOP, Gemm.flops(512, 512, 512), d -> {
            Workspace ws = new Workspace(d, "side-by-side gemm", 8L << 20);
            Tensor a = ws.tensor(512, 512), b = ws.tensor(512, 512), out = ws.tensor(512, 512);
            Rng.fillNormal(a, 1, 0);
            Rng.fillNormal(b, 1, 1);
            return new OpCase.Prepared(() -> Gemm.gemm(out, a, b, false, true, 1f, 0f), ws);
        }));
        c.add(new Case("attention_b64", "64x1x196x64", OpCase.Unit.FLOP, 4.0 * 64 * 196 * 196 * 64, d -> {
            Workspace ws = new Workspace(d, "side-by-side attention", 64L << 20);
            Tensor q = ws.tensor(64, 1, 196, 64), k = ws.tensor(64, 1, 196, 64), v = ws.tensor(64, 1, 196, 64);
            Tensor o = ws.tensor(64, 1, 196, 64), lse = ws.tensor(64, 1, 196);
            Rng.fillNormal(q, 1, 0);
            Rng.fillNormal(k, 1, 1);
            Rng.fillNormal(v, 1, 2);
            return new OpCase.Prepared(() -> Attention.forward(o, lse, q, k, v, 0.125f), ws);
        }));
        c.add(new Case("gn_silu", "64x64x14x14", OpCase.Unit.BYTE, 8.0 * 64 * 64 * 14 * 14, d -> {
            Workspace ws = new Workspace(d, "side-by-side groupnorm", 16L << 20);
            Tensor x = ws.tensor(64, 64, 14, 14), y = ws.tensor(64, 64, 14, 14), g = ws.tensor(64), b = ws.tensor(64);
            Tensor mean = ws.tensor(64, 8), rstd = ws.tensor(64, 8);
            Rng.fillNormal(x, 1, 0);
            Rng.fillNormal(g, 1, 1);
            return new OpCase.Prepared(() -> GroupNorm.forwardSilu(y, mean, rstd, x, g, b, 8, 1e-5f), ws);
        }));
        return c;
    }

    /** The case names (no model is loaded). */
    public static List<String> names(Path model) {
        return all(model).stream().map(Case::name).toList();
    }

    /** Forward FLOPs of the model at {@code batch}; a training step counts 3x (dx and dW double the products). */
    static double unetFlops(Path model, int batch, boolean train) {
        try {
            double f = UNet2DModel.forwardFlops(UNetCheckpoint.readConfig(model), batch);
            return train ? 3 * f : f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static UNet2DModel load(Path model, dev.diffuse.runtime.Device d, int batch, boolean training) {
        try {
            return UNetCheckpoint.load(model, d, batch, training);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
