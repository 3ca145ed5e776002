package dev.diffuse.runtime;

/**
 * A block of device memory. Released by {@link #close()}; every use after close fails loudly instead
 * of touching freed memory.
 */
public sealed interface Storage extends AutoCloseable permits JavaDevice.JavaStorage, ClDevice.ClStorage {
    Device device();

    long byteSize();

    boolean isClosed();

    @Override
    void close();
}
