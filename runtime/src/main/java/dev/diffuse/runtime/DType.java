package dev.diffuse.runtime;

/** Element types. Only F32 is computed on today; F16/BF16 storage may follow. */
public enum DType {
    F32(4);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }
}
