// Deliberately does not compile: RuntimeTest checks that the build log reaches the exception.
__kernel void broken(__global float* x) { x[0] = not_declared_anywhere; }
