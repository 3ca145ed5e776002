package dev.diffuse.runtime;

/** Kernel arguments that are neither tensors nor scalars. */
public sealed interface ClArg {
    /** {@code __local} memory of the given size. */
    record Local(long bytes) implements ClArg {}

    /** A 64-bit integer (cl_long / cl_ulong), e.g. an RNG seed. Plain {@code long} arguments mean the same. */
    record U64(long value) implements ClArg {}
}
