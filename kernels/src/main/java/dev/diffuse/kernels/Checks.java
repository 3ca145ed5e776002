package dev.diffuse.kernels;

import java.util.Arrays;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;

/** Argument checks shared by every op: errors name the op, what was wrong and what was expected. */
public final class Checks {
    private Checks() {}

    /** All tensors on one device; returns it. */
    public static Device sameDevice(String op, Tensor first, Tensor... rest) {
        Device d = first.device();
        for (Tensor t : rest)
            if (t != null && t.device() != d)
                throw new IllegalArgumentException(op + ": tensors on different devices (" + first + " and " + t + "); move them to one device");
        return d;
    }

    public static void sameNumel(String op, Tensor first, Tensor... rest) {
        for (Tensor t : rest)
            if (t != null && t.numel() != first.numel())
                throw new IllegalArgumentException(op + ": " + first + " and " + t + " must have the same number of elements");
    }

    /** {@code t} has exactly {@code shape}. */
    public static void shape(String op, String name, Tensor t, int... shape) {
        if (!Arrays.equals(t.shape(), shape))
            throw new IllegalArgumentException(op + ": " + name + " must have shape " + Arrays.toString(shape) + ", got " + t);
    }

    public static void rank(String op, String name, Tensor t, int rank) {
        if (t.rank() != rank)
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + ", got " + t);
    }

    public static void positive(String op, String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(op + ": " + name + " must be positive, got " + v);
    }

    /** Element count as an int index bound for kernels (tensors up to 2^31-1 elements). */
    public static int intNumel(String op, Tensor t) {
        if (t.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": " + t + " has more than 2^31-1 elements");
        return (int) t.numel();
    }
}
