package dev.diffuse.runtime;

import java.lang.foreign.MemorySegment;

/**
 * Where tensors live and kernels run. Sealed so that every {@code switch} over a device is exhaustive:
 * adding a backend (a third permitted class) makes the compiler list every op that still lacks it.
 *
 * <p>Choose one with {@link Devices#select(String)} ({@code auto|java|cl|cl:gpu|cl:cpu|cl:P:I}) or
 * {@link Devices#fromSystemProperty()} ({@code -Ddiffuse.device=...}).
 */
public sealed interface Device permits JavaDevice, ClDevice {

    /** Short stable id: {@code java} or {@code cl:P:I}. */
    String id();

    /** Human-readable name, e.g. {@code "OpenCL NVIDIA H100 80GB HBM3 (NVIDIA CUDA, OpenCL 3.0 CUDA 12.4)"}. */
    String name();

    /** Allocates zero-filled device memory. Prefer {@link Workspace#tensor}, which counts bytes against a budget. */
    Storage allocate(long bytes);

    /** Copies {@code src.byteSize()} bytes from host memory into {@code dst} at {@code byteOffset}. Blocking. */
    void write(Storage dst, long byteOffset, MemorySegment src);

    /** Copies {@code dst.byteSize()} bytes from {@code src} at {@code byteOffset} into host memory. Blocking. */
    void read(Storage src, long byteOffset, MemorySegment dst);

    /** Copies bytes device-side (no host round trip). */
    void copy(Storage src, long srcOffset, Storage dst, long dstOffset, long bytes);

    /** Waits until all work queued on this device has finished. */
    void finish();

    /** Device global memory in bytes (host RAM for the Java device). */
    long globalMemoryBytes();
}
