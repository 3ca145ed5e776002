package dev.diffuse.kernels.attention;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Scaled dot-product attention core over (B, heads, N, D) tensors (N tokens, D = head dim <= 256), plus the
 * token/head layout transposes around it. Per (batch, head), with rows i (queries) and j (keys):
 * <pre>
 *   forward:  S_ij = scale * q_i . k_j,   L_i = log sum_j exp(S_ij),   P_ij = exp(S_ij - L_i),   o_i = sum_j P_ij v_j
 *   backward: dv_j = sum_i P_ij do_i
 *             dP_ij = do_i . v_j,   delta_i = sum_j P_ij dP_ij = do_i . o_i
 *             dS_ij = P_ij (dP_ij - delta_i)          (softmax VJP)
 *             dq_i = scale sum_j dS_ij k_j,   dk_j = scale sum_i dS_ij q_i
 * </pre>
 * The forward never materialises the N x N matrix S on the OpenCL device (online softmax); it saves L for the
 * backward, which recomputes P from it. All sums are in a fixed order: results are bit-identical run to run.
 * FLOPs: forward 4 B heads N^2 D (two GEMMs); backward 8 B heads N^2 D useful (four GEMMs; the OpenCL backward
 * recomputes S and dP in its dQ pass, 14 B heads N^2 D executed).
 */
public final class Attention {
    /** Largest head dimension the kernels support. */
    public static final int MAX_HEAD_DIM = 256;

    private Attention() {}

    /**
     * Forward: writes {@code o} = softmax(scale Q K^T) V and the row logsumexp {@code lse} of scale Q K^T.
     * @param o   (B, heads, N, D) output
     * @param lse (B, heads, N) output, needed by {@link #backward}
     * @param q   (B, heads, N, D); k, v the same shape
     * @param scale usually 1/sqrt(D)
     */
    public static void forward(Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, float scale) {
        int[] s = check("attention forward", q, k, v, o);
        Checks.shape("attention forward", "lse", lse, s[0], s[1], s[2]);
        switch (Checks.sameDevice("attention forward", o, lse, q, k, v)) {
            case JavaDevice j -> AttentionJava.forward(j, o, lse, q, k, v, scale);
            case ClDevice c -> AttentionCl.forward(c, o, lse, q, k, v, scale);
        }
    }

    /**
     * Backward (VJP): WRITES dq, dk, dv given do of the output, with the forward's o and lse.
     * {@code delta} is a (B, heads, N) scratch tensor overwritten with rowsum(do * o).
     */
    public static void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                                Tensor o, Tensor lse, Tensor delta, float scale) {
        int[] s = check("attention backward", q, k, v, o, dO, dq, dk, dv);
        Checks.shape("attention backward", "lse", lse, s[0], s[1], s[2]);
        Checks.shape("attention backward", "delta", delta, s[0], s[1], s[2]);
        switch (Checks.sameDevice("attention backward", dq, dk, dv, dO, q, k, v, o, lse, delta)) {
            case JavaDevice j -> AttentionJava.backward(j, dq, dk, dv, dO, q, k, v, o, lse, delta, scale);
            case ClDevice c -> AttentionCl.backward(c, dq, dk, dv, dO, q, k, v, o, lse, delta, scale);
        }
    }

    /**
     * {@link #forward} on channel-first tensors, the layout a 1x1 convolution writes: q, k, v and o are (B, heads * D, N)
     * or (B, heads * D, H, W) with N = H * W tokens (head h is channels h*D..h*D+D-1), lse is (B, heads, N). Equal to
     * {@code headsToChannels(o, forward(channelsToHeads(q), channelsToHeads(k), channelsToHeads(v)))} without the four
     * transposes: "transposes + attention" fused (5 -> 1 passes). On the Java device it is the same computation as
     * {@link #forward} (bit-identical); OpenCL composes the transposes and the token-major kernel.
     */
    public static void forwardChannels(Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, int heads, float scale) {
        String op = "attention forwardChannels";
        int[] s = channelsShape(op, q, heads);
        for (Tensor t : new Tensor[]{k, v, o}) Checks.shape(op, "q, k, v and o (B, heads * D, tokens...)", t, q.shape());
        Checks.shape(op, "lse", lse, s[0], s[1], s[2]);
        if (s[3] > MAX_HEAD_DIM) throw new IllegalArgumentException(op + ": head dim D = " + s[3] + " exceeds " + MAX_HEAD_DIM);
        switch (Checks.sameDevice(op, o, lse, q, k, v)) {
            case JavaDevice j -> AttentionJava.forwardChannels(j, o, lse, q, k, v, s, scale);
            case ClDevice c -> forwardChannelsComposed(o, lse, q, k, v, s, scale);
        }
    }

    /**
     * {@link #backward} on channel-first tensors (see {@link #forwardChannels}): dq, dk, dv written, delta (B, heads, N)
     * overwritten. The VJP of {@link #forwardChannels}.
     */
    public static void backwardChannels(Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                                        Tensor o, Tensor lse, Tensor delta, int heads, float scale) {
        String op = "attention backwardChannels";
        int[] s = channelsShape(op, q, heads);
        for (Tensor t : new Tensor[]{k, v, o, dO, dq, dk, dv})
            Checks.shape(op, "every (B, heads * D, tokens...) tensor", t, q.shape());
        Checks.shape(op, "lse", lse, s[0], s[1], s[2]);
        Checks.shape(op, "delta", delta, s[0], s[1], s[2]);
        if (s[3] > MAX_HEAD_DIM) throw new IllegalArgumentException(op + ": head dim D = " + s[3] + " exceeds " + MAX_HEAD_DIM);
        switch (Checks.sameDevice(op, dq, dk, dv, dO, q, k, v, o, lse, delta)) {
            case JavaDevice j -> AttentionJava.backwardChannels(j, dq, dk, dv, dO, q, k, v, o, lse, delta, s, scale);
            case ClDevice c -> backwardChannelsComposed(dq, dk, dv, dO, q, k, v, o, lse, delta, s, scale);
        }
    }

    /** OpenCL: {@link #forwardChannels} as transposes into temporaries around {@link #forward}. */
    private static void forwardChannelsComposed(Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, int[] s, float scale) {
        int heads = s[1];
        try (Tensor qh = Tensor.allocate(q.device(), s); Tensor kh = Tensor.allocate(q.device(), s);
             Tensor vh = Tensor.allocate(q.device(), s); Tensor oh = Tensor.allocate(q.device(), s)) {
            channelsToHeads(qh, q, heads);
            channelsToHeads(kh, k, heads);
            channelsToHeads(vh, v, heads);
            forward(oh, lse, qh, kh, vh, scale);
            headsToChannels(o, oh, heads);
        }
    }

    /** OpenCL: {@link #backwardChannels} as transposes into temporaries around {@link #backward}. */
    private static void backwardChannelsComposed(Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                                                 Tensor o, Tensor lse, Tensor delta, int[] s, float scale) {
        int heads = s[1];
        var dev = q.device();
        try (Tensor qh = Tensor.allocate(dev, s); Tensor kh = Tensor.allocate(dev, s); Tensor vh = Tensor.allocate(dev, s);
             Tensor oh = Tensor.allocate(dev, s); Tensor doh = Tensor.allocate(dev, s); Tensor dqh = Tensor.allocate(dev, s);
             Tensor dkh = Tensor.allocate(dev, s); Tensor dvh = Tensor.allocate(dev, s)) {
            channelsToHeads(qh, q, heads);
            channelsToHeads(kh, k, heads);
            channelsToHeads(vh, v, heads);
            channelsToHeads(oh, o, heads);
            channelsToHeads(doh, dO, heads);
            backward(dqh, dkh, dvh, doh, qh, kh, vh, oh, lse, delta, scale);
            headsToChannels(dq, dqh, heads);
            headsToChannels(dk, dkh, heads);
            headsToChannels(dv, dvh, heads);
        }
    }

    /** {@link #backward} with a temporary delta tensor (OpenCL defers freeing it until the queued kernels ran). */
    public static void backward(Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                                Tensor o, Tensor lse, float scale) {
        try (Tensor delta = Tensor.allocate(q.device(), lse.shape())) {
            backward(dq, dk, dv, dO, q, k, v, o, lse, delta, scale);
        }
    }

    /**
     * y[b, h, t, d] = x[b, t, h * D + d]: x (B, N, heads * D) to y (B, heads, N, D). Its VJP is {@link #headsToTokens}.
     * For heads = 1 the two layouts coincide: use {@code x.reshape(B, 1, N, C)} instead of a copy.
     */
    public static void tokensToHeads(Tensor y, Tensor x, int heads) {
        int[] s = transposeShape("tokensToHeads", x, heads);
        Checks.shape("tokensToHeads", "y", y, s);
        switch (Checks.sameDevice("tokensToHeads", y, x)) {
            case JavaDevice j -> AttentionJava.transpose(j, y, x, s[0], heads, s[2], s[3], true);
            case ClDevice c -> AttentionCl.transpose(c, y, x, s[0], heads, s[2], s[3], true);
        }
    }

    /** x[b, t, h * D + d] = y[b, h, t, d]: y (B, heads, N, D) to x (B, N, heads * D). Its VJP is {@link #tokensToHeads}. */
    public static void headsToTokens(Tensor x, Tensor y, int heads) {
        int[] s = transposeShape("headsToTokens", x, heads);
        Checks.shape("headsToTokens", "y", y, s);
        switch (Checks.sameDevice("headsToTokens", x, y)) {
            case JavaDevice j -> AttentionJava.transpose(j, x, y, s[0], heads, s[2], s[3], false);
            case ClDevice c -> AttentionCl.transpose(c, x, y, s[0], heads, s[2], s[3], false);
        }
    }

    /**
     * y[b, h, t, d] = x[b, h * D + d, t]: channel-first tokens x (B, heads * D, H, W) or (B, heads * D, N) to
     * y (B, heads, N, D), a transpose of each (D, N) block. With Q/K/V projections done channel-first (a 1x1
     * convolution, W x), this replaces the (B, C, N) to (B, N, C) transpose. Its VJP is {@link #headsToChannels}.
     */
    public static void channelsToHeads(Tensor y, Tensor x, int heads) {
        int[] s = channelsShape("channelsToHeads", x, heads);
        Checks.shape("channelsToHeads", "y", y, s);
        switch (Checks.sameDevice("channelsToHeads", y, x)) {
            case JavaDevice j -> AttentionJava.batchedTranspose(j, y, x, s[0] * heads, s[3], s[2]);
            case ClDevice c -> AttentionCl.batchedTranspose(c, y, x, s[0] * heads, s[3], s[2]);
        }
    }

    /** x[b, h * D + d, t] = y[b, h, t, d]: the inverse of {@link #channelsToHeads} (and its VJP). */
    public static void headsToChannels(Tensor x, Tensor y, int heads) {
        int[] s = channelsShape("headsToChannels", x, heads);
        Checks.shape("headsToChannels", "y", y, s);
        switch (Checks.sameDevice("headsToChannels", x, y)) {
            case JavaDevice j -> AttentionJava.batchedTranspose(j, x, y, s[0] * heads, s[2], s[3]);
            case ClDevice c -> AttentionCl.batchedTranspose(c, x, y, s[0] * heads, s[2], s[3]);
        }
    }

    /** (B, heads, N, D) for a channel-first x (B, C, spatial...) with N = product of the spatial dims. */
    private static int[] channelsShape(String op, Tensor x, int heads) {
        if (x.rank() < 3)
            throw new IllegalArgumentException(op + ": channel-first tensor must be (B, C, N) or (B, C, H, W), got " + x);
        Checks.positive(op, "heads", heads);
        if (x.dim(1) % heads != 0)
            throw new IllegalArgumentException(op + ": channels " + x.dim(1) + " of " + x + " must be divisible by heads = " + heads);
        Checks.intNumel(op, x);
        return new int[]{x.dim(0), heads, (int) (x.numel() / ((long) x.dim(0) * x.dim(1))), x.dim(1) / heads};
    }

    private static int[] transposeShape(String op, Tensor x, int heads) {
        Checks.rank(op, "tokens tensor (B, N, C)", x, 3);
        Checks.positive(op, "heads", heads);
        if (x.dim(2) % heads != 0)
            throw new IllegalArgumentException(op + ": channels " + x.dim(2) + " of " + x + " must be divisible by heads = " + heads);
        Checks.intNumel(op, x);
        return new int[]{x.dim(0), heads, x.dim(1), x.dim(2) / heads};
    }

    /** All tensors (B, heads, N, D) with D in 1..256; returns the shape. */
    private static int[] check(String op, Tensor first, Tensor... rest) {
        Checks.rank(op, "q", first, 4);
        int[] s = first.shape();
        for (Tensor t : rest) Checks.shape(op, "every (B, heads, N, D) tensor", t, s);
        if (s[3] > MAX_HEAD_DIM)
            throw new IllegalArgumentException(op + ": head dim D = " + s[3] + " exceeds " + MAX_HEAD_DIM
                    + "; use more heads (D = C / heads)");
        Checks.intNumel(op, first);
        return s;
    }
}
