package dev.diffuse.samplers.pipeline;

/**
 * A linear combination cx x + c1 m1 + c2 m2 of the state and up to two model outputs: the algebra of one fused
 * update, done on the host in double so that a multi-stage method (Heun) still ends in a single kernel pass.
 */
record Lin(double x, double m1, double m2) {
    static final Lin X = new Lin(1, 0, 0);

    /** eps(m1) = cx x + cm m1, from {@link Epsilon#affine}. */
    static Lin eps1(double[] affine) { return new Lin(affine[0], affine[1], 0); }

    Lin plus(Lin o) { return new Lin(x + o.x, m1 + o.m1, m2 + o.m2); }

    Lin times(double k) { return new Lin(k * x, k * m1, k * m2); }
}
