package dev.diffuse.kernels.shape;

import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for {@link ShapeOps}: float4 variants (VEC = 4) when block sizes and offsets allow, else scalar. */
final class ShapeOpsCl {
    static final String SRC = "dev/diffuse/kernels/shape.cl";
    static final int WG = 256;

    private ShapeOpsCl() {}

    /** 4 when every size is a multiple of 4 and every tensor's element offset is float4-aligned, else 1. */
    static int vec(long[] sizes, Tensor... ts) {
        for (long s : sizes) if (s % 4 != 0) return 1;
        for (Tensor t : ts) if (t.offset() % 4 != 0) return 1;
        return 4;
    }

    static void concat(ClDevice c, Tensor out, Tensor a, Tensor b) {
        int na = (int) (a.numel() / a.dim(0)), nb = (int) (b.numel() / b.dim(0));
        int vec = vec(new long[]{na, nb}, out, a, b), n = (int) (out.numel() / vec);
        c.kernel(SRC, "concat_channels", Map.of("VEC", vec)).launch1d(n, WG, out, a, b, na / vec, nb / vec, n);
    }

    static void split(ClDevice c, Tensor da, Tensor db, Tensor dout) {
        int na = (int) (da.numel() / da.dim(0)), nb = (int) (db.numel() / db.dim(0));
        int vec = vec(new long[]{na, nb}, dout, da, db), n = (int) (dout.numel() / vec);
        c.kernel(SRC, "split_channels", Map.of("VEC", vec)).launch1d(n, WG, da, db, dout, na / vec, nb / vec, n);
    }

    static void upsample(ClDevice c, Tensor y, Tensor x) {
        int n = (int) x.numel();
        c.kernel(SRC, "upsample_nearest2x").launch1d(n, WG, y, x, x.dim(2), x.dim(3), n);
    }

    static void upsampleBackward(ClDevice c, Tensor dx, Tensor dy) {
        int n = (int) dx.numel();
        c.kernel(SRC, "upsample_nearest2x_backward").launch1d(n, WG, dx, dy, dx.dim(2), dx.dim(3), n);
    }

    static void addBroadcast(ClDevice c, Tensor y, Tensor x, Tensor e) {
        int hw = x.dim(2) * x.dim(3), vec = vec(new long[]{hw}, y, x), n = (int) (x.numel() / vec);
        c.kernel(SRC, "add_bcast", Map.of("VEC", vec)).launch1d(n, WG, y, x, e, hw / vec, n);
    }

    static void addBroadcastBackward(ClDevice c, Tensor de, Tensor dy) {
        int hw = dy.dim(2) * dy.dim(3), vec = vec(new long[]{hw}, dy), rows = dy.dim(0) * dy.dim(1);
        int rwg = reductionWorkGroup(hw / vec);
        c.kernel(SRC, "add_bcast_backward", Map.of("VEC", vec, "RWG", rwg))
                .launch(new long[]{(long) rows * rwg}, new long[]{rwg}, de, dy, hw / vec);
    }

    /** Work-group for one (b, c) row of {@code loads} loads: the next power of two, within [32, 128]. */
    static int reductionWorkGroup(int loads) {
        int p = loads <= 1 ? 1 : Integer.highestOneBit(loads - 1) << 1;
        return Math.max(32, Math.min(128, p));
    }
}
