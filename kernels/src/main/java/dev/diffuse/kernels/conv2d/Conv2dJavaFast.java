package dev.diffuse.kernels.conv2d;

import dev.diffuse.kernels.cpu.ConvBackward;
import dev.diffuse.kernels.cpu.ConvEpilogue;
import dev.diffuse.kernels.cpu.ConvForward;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Fast Java path of {@link Conv2d} on the CPU engine ({@code dev.diffuse.kernels.cpu}): implicit GEMMs over shifted
 * input planes that read and write the tensors where they live.
 * <ul>
 *   <li>forward: {@link ConvForward#forward} (weights packed into micro-kernel panels per call);</li>
 *   <li>dx: stride 1 is the convolution of dy with the flipped, transposed weights
 *       ({@link ConvForward#inputGradStride1}); strided convolutions go through {@code W^T dy} and col2im
 *       ({@link ConvBackward#inputGradStrided});</li>
 *   <li>dW: {@link ConvBackward#weightGrad}; db: {@link ConvBackward#biasGrad}.</li>
 * </ul>
 * Every output element is one fixed-order sum: results do not depend on scheduling or on the thread count.
 */
final class Conv2dJavaFast {
    private Conv2dJavaFast() {}

    static void forward(JavaDevice dev, Tensor y, Tensor x, Tensor w, Tensor b, Conv2d.Dims d, Conv2dSpec s) {
        forward(dev, y, x, w, ConvEpilogue.bias(b.segment()), d, s);
    }

    /** y = conv(x, w) through a fused epilogue (bias, per-channel add, residual, scale). */
    static void forward(JavaDevice dev, Tensor y, Tensor x, Tensor w, ConvEpilogue e, Conv2d.Dims d, Conv2dSpec s) {
        ConvForward.forward(dev, y.segment(), x.segment(), w.segment(), e, d.B(), d.Cin(), d.H(), d.W(), d.Cout(),
                d.OH(), d.OW(), d.K(), s.stride(), s.padTop(), s.padLeft());
    }

    static void backward(JavaDevice dev, Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w,
                         Conv2d.Dims d, Conv2dSpec s) {
        if (dx != null && s.stride() == 1)
            ConvForward.inputGradStride1(dev, dx.segment(), dy.segment(), w.segment(), d.B(), d.Cin(), d.H(), d.W(),
                    d.Cout(), d.OH(), d.OW(), d.K(), s.padTop(), s.padLeft(), false);
        else if (dx != null)
            ConvBackward.inputGradStrided(dev, dx.segment(), dy.segment(), w.segment(), d.B(), d.Cin(), d.H(), d.W(),
                    d.Cout(), d.OH(), d.OW(), d.K(), s.stride(), s.padTop(), s.padLeft());
        ConvBackward.weightGrad(dev, dw.segment(), dy.segment(), x.segment(), d.B(), d.Cin(), d.H(), d.W(), d.Cout(),
                d.OH(), d.OW(), d.K(), s.stride(), s.padTop(), s.padLeft());
        if (db != null) ConvBackward.biasGrad(dev, db.segment(), dy.segment(), d.B(), d.Cout(), d.p());
    }
}
