package dev.diffuse.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense, contiguous, row-major (NCHW for images) F32 array on one device: a shape, a {@link Storage} and an
 * element offset into it. Views share storage; only a tensor made by {@link #allocate} or {@link #of} owns its
 * storage and frees it on {@link #close()} (tensors from a {@link Workspace} are freed with the workspace).
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final long offset; // in elements
    private final int[] shape;
    private final long numel;
    private final boolean owner;

    Tensor(Storage storage, long offset, int[] shape, boolean owner) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape.clone();
        this.numel = numel(shape);
        this.owner = owner;
        if (offset < 0 || (offset + numel) * 4 > storage.byteSize())
            throw new IllegalArgumentException("view " + Arrays.toString(shape) + " at element " + offset
                    + " does not fit in a storage of " + storage.byteSize() / 4 + " elements");
    }

    /** A new zero-filled tensor that owns its memory (close it, or use a {@link Workspace}). */
    public static Tensor allocate(Device device, int... shape) {
        return new Tensor(device.allocate(numel(shape) * 4), 0, shape, true);
    }

    /** A new tensor holding a copy of {@code data}. */
    public static Tensor of(Device device, float[] data, int... shape) {
        if (numel(shape) != data.length)
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + numel(shape) + " elements but "
                    + data.length + " values were given");
        Tensor t = allocate(device, shape);
        t.upload(data);
        return t;
    }

    public static long numel(int... shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    public Device device() { return storage.device(); }

    public Storage storage() { return storage; }

    public DType dtype() { return DType.F32; }

    public int[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    /** Size of dimension {@code i}; negative counts from the end. */
    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public long numel() { return numel; }

    /** Element offset of this view in its storage. */
    public long offset() { return offset; }

    public long byteOffset() { return offset * 4; }

    public long byteSize() { return numel * 4; }

    /** The memory of this view. Java device only: OpenCL buffers are not host-addressable. */
    public MemorySegment segment() {
        if (!(device() instanceof JavaDevice)) throw new IllegalStateException(this + " is not on the Java device; use toArray()");
        return JavaDevice.segment(storage).asSlice(byteOffset(), byteSize());
    }

    /** Copies {@code data} into this tensor (blocking). */
    public void upload(float[] data) {
        if (data.length != numel) throw new IllegalArgumentException(this + " holds " + numel + " elements, got " + data.length);
        device().write(storage, byteOffset(), MemorySegment.ofArray(data));
    }

    /** Reads this tensor to the host (blocking: waits for queued kernels). */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(numel)];
        device().read(storage, byteOffset(), MemorySegment.ofArray(out));
        return out;
    }

    /** Element {@code i} (reads the whole tensor on OpenCL devices: for tests and debugging). */
    public float get(long i) {
        if (device() instanceof JavaDevice) return segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        float[] one = new float[1];
        device().read(storage, (offset + i) * 4, MemorySegment.ofArray(one));
        return one[0];
    }

    /** A view of {@code shape} starting {@code elementOffset} elements into this tensor. */
    public Tensor view(long elementOffset, int... newShape) {
        if (elementOffset < 0 || elementOffset + numel(newShape) > numel)
            throw new IllegalArgumentException("view " + Arrays.toString(newShape) + " at " + elementOffset + " exceeds " + this);
        return new Tensor(storage, offset + elementOffset, newShape, false);
    }

    /** The same elements with another shape of equal size. */
    public Tensor reshape(int... newShape) {
        if (numel(newShape) != numel)
            throw new IllegalArgumentException("cannot reshape " + this + " to " + Arrays.toString(newShape) + ": sizes differ");
        return new Tensor(storage, offset, newShape, false);
    }

    /** Device-side copy of {@code src} into this tensor (same device, same number of elements). */
    public void copyFrom(Tensor src) {
        if (src.device() != device()) throw new IllegalArgumentException("copyFrom across devices: " + src + " -> " + this);
        if (src.numel != numel) throw new IllegalArgumentException("copyFrom size mismatch: " + src + " -> " + this);
        device().copy(src.storage, src.byteOffset(), storage, byteOffset(), byteSize());
    }

    /** Frees the storage if this tensor owns it; views and workspace tensors are left alone. */
    @Override
    public void close() {
        if (owner) storage.close();
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " f32 on " + device().id() + (offset != 0 ? " @" + offset : "");
    }
}
