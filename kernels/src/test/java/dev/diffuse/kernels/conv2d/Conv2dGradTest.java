package dev.diffuse.kernels.conv2d;

import static dev.diffuse.runtime.Close.assertClose;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.diffuse.runtime.TestDevices;

/**
 * Finite differences in double against a double backward written in GATHER form (each gradient element sums what
 * it receives, independent of Conv2dJava's scatter form), then the float Java reference and fast backward against it.
 * Loss L = sum_i g_i y_i, so dL/dy = g.
 */
class Conv2dGradTest {
    static Conv2dSpec[] variants() { return Conv2dTest.VARIANTS; }

    static double[] forward(double[] x, double[] w, double[] b, Conv2d.Dims d, Conv2dSpec s) {
        int K = d.K();
        double[] y = new double[d.B() * d.Cout() * d.p()];
        for (int n = 0; n < d.B(); n++)
            for (int co = 0; co < d.Cout(); co++)
                for (int oh = 0; oh < d.OH(); oh++)
                    for (int ow = 0; ow < d.OW(); ow++) {
                        double sum = b[co];
                        for (int ci = 0; ci < d.Cin(); ci++)
                            for (int kh = 0; kh < K; kh++)
                                for (int kw = 0; kw < K; kw++) {
                                    int ih = oh * s.stride() + kh - s.padTop(), iw = ow * s.stride() + kw - s.padLeft();
                                    if (ih >= 0 && ih < d.H() && iw >= 0 && iw < d.W())
                                        sum += w[((co * d.Cin() + ci) * K + kh) * K + kw] * x[((n * d.Cin() + ci) * d.H() + ih) * d.W() + iw];
                                }
                        y[((n * d.Cout() + co) * d.OH() + oh) * d.OW() + ow] = sum;
                    }
        return y;
    }

    /** Returns {dx, dw, db} for dy = g. */
    static double[][] backward(double[] g, double[] x, double[] w, Conv2d.Dims d, Conv2dSpec s) {
        int K = d.K(), st = s.stride(), pt = s.padTop(), pl = s.padLeft();
        double[] dx = new double[x.length], dw = new double[w.length], db = new double[d.Cout()];
        for (int n = 0; n < d.B(); n++)
            for (int co = 0; co < d.Cout(); co++)
                for (int p = 0; p < d.p(); p++) db[co] += g[(n * d.Cout() + co) * d.p() + p];
        // dw[co,ci,kh,kw] = sum_{n,oh,ow} g[n,co,oh,ow] x[n,ci,oh*s+kh-pt,ow*s+kw-pl]
        for (int co = 0; co < d.Cout(); co++)
            for (int ci = 0; ci < d.Cin(); ci++)
                for (int kh = 0; kh < K; kh++)
                    for (int kw = 0; kw < K; kw++) {
                        double sum = 0;
                        for (int n = 0; n < d.B(); n++)
                            for (int oh = 0; oh < d.OH(); oh++)
                                for (int ow = 0; ow < d.OW(); ow++) {
                                    int ih = oh * st + kh - pt, iw = ow * st + kw - pl;
                                    if (ih >= 0 && ih < d.H() && iw >= 0 && iw < d.W())
                                        sum += g[((n * d.Cout() + co) * d.OH() + oh) * d.OW() + ow] * x[((n * d.Cin() + ci) * d.H() + ih) * d.W() + iw];
                                }
                        dw[((co * d.Cin() + ci) * K + kh) * K + kw] = sum;
                    }
        // dx[n,ci,ih,iw] = sum_{co,kh,kw} w[co,ci,kh,kw] g[n,co,oh,ow] where oh*s = ih+pt-kh, ow*s = iw+pl-kw
        for (int n = 0; n < d.B(); n++)
            for (int ci = 0; ci < d.Cin(); ci++)
                for (int ih = 0; ih < d.H(); ih++)
                    for (int iw = 0; iw < d.W(); iw++) {
                        double sum = 0;
                        for (int co = 0; co < d.Cout(); co++)
                            for (int kh = 0; kh < K; kh++)
                                for (int kw = 0; kw < K; kw++) {
                                    int th = ih + pt - kh, tw = iw + pl - kw;
                                    if (th < 0 || tw < 0 || th % st != 0 || tw % st != 0) continue;
                                    int oh = th / st, ow = tw / st;
                                    if (oh < d.OH() && ow < d.OW())
                                        sum += w[((co * d.Cin() + ci) * K + kh) * K + kw] * g[((n * d.Cout() + co) * d.OH() + oh) * d.OW() + ow];
                                }
                        dx[((n * d.Cin() + ci) * d.H() + ih) * d.W() + iw] = sum;
                    }
        return new double[][]{dx, dw, db};
    }

    static double loss(double[] g, double[] x, double[] w, double[] b, Conv2d.Dims d, Conv2dSpec s) {
        double[] y = forward(x, w, b, d, s);
        double l = 0;
        for (int i = 0; i < y.length; i++) l += g[i] * y[i];
        return l;
    }

    static double[] fd(double[] param, double[] g, double[] x, double[] w, double[] b, Conv2d.Dims d, Conv2dSpec s) {
        double h = 1e-6;
        double[] out = new double[param.length];
        for (int i = 0; i < param.length; i++) {
            double keep = param[i];
            param[i] = keep + h;
            double lp = loss(g, x, w, b, d, s);
            param[i] = keep - h;
            double lm = loss(g, x, w, b, d, s);
            param[i] = keep;
            out[i] = (lp - lm) / (2 * h);
        }
        return out;
    }

    static double[] dbl(float[] f) {
        double[] o = new double[f.length];
        for (int i = 0; i < f.length; i++) o[i] = f[i];
        return o;
    }

    @ParameterizedTest
    @MethodSource("variants")
    void finiteDifferencesMatchDoubleBackwardAndJavaBackwardMatchesIt(Conv2dSpec s) {
        // H != W and odd/even mixed so that row/column mix-ups and the asymmetric pad show.
        Conv2dTest.Problem p = Conv2dTest.Problem.of(7, 2, 3, 6, 5, 4, s);
        Conv2d.Dims d = new Conv2d.Dims(p.B(), p.Cin(), p.H(), p.W(), p.Cout(), s.outH(p.H()), s.outW(p.W()), s.kernel());
        double[] x = dbl(p.x()), w = dbl(p.w()), b = dbl(p.b()), g = dbl(p.dy());
        double[][] grads = backward(g, x, w, d, s);
        assertClose(fd(x, g, x, w, b, d, s), grads[0], 1e-7, 1e-6, s + " dx vs finite differences");
        assertClose(fd(w, g, x, w, b, d, s), grads[1], 1e-7, 1e-6, s + " dw vs finite differences");
        assertClose(fd(b, g, x, w, b, d, s), grads[2], 1e-7, 1e-6, s + " db vs finite differences");

        // Float backward (reference and fast) against the double gradients, with the accumulator start values added.
        double[] dw = grads[1].clone(), db = grads[2].clone();
        for (int i = 0; i < dw.length; i++) dw[i] += p.dw0()[i];
        for (int i = 0; i < db.length; i++) db[i] += p.db0()[i];
        double[] y = forward(x, w, b, d, s);
        for (boolean reference : new boolean[]{true, false}) {
            Conv2dTest.Run r = p.run(TestDevices.java(), reference);
            String what = s + (reference ? " float reference" : " float fast");
            assertClose(y, dbl(r.y()), 1e-5, 1e-5, what + " y vs double");
            assertClose(grads[0], dbl(r.dx()), 1e-5, 1e-5, what + " dx vs double");
            assertClose(dw, dbl(r.dw()), 1e-5, 1e-5, what + " dw vs double");
            assertClose(db, dbl(r.db()), 1e-5, 1e-5, what + " db vs double");
        }
    }
}
