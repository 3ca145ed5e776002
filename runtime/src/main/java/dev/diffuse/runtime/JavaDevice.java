package dev.diffuse.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The pure-Java device: off-heap {@link MemorySegment}s, work spread over a persistent {@link WorkerPool} of
 * {@code -Ddiffuse.threads} threads (default: the available processors). It runs everywhere and its ops are the
 * reference every OpenCL kernel is tested against.
 */
public final class JavaDevice implements Device {
    static final JavaDevice INSTANCE = new JavaDevice();

    private JavaDevice() {}

    public static JavaDevice get() { return INSTANCE; }

    @Override public String id() { return "java"; }

    @Override
    public String name() {
        return "Java " + Runtime.version() + " (" + threads() + " threads, Vector API)";
    }

    /** Number of threads the fast paths split work over (the calling thread included). */
    public int threads() { return pool().threads(); }

    /**
     * Runs {@code body(chunk)} for chunk = 0..chunks-1 in parallel and returns when all are done. Each chunk's work
     * must be fixed by its index (and write outputs no other chunk writes), so results do not depend on scheduling.
     * A call from inside a chunk, or while another thread's loop runs, runs its chunks on the calling thread.
     */
    public void parallelFor(int chunks, java.util.function.IntConsumer body) {
        pool().run(chunks, body);
    }

    private volatile WorkerPool pool;

    /** The pool, started on first use (a process that never computes on the Java device starts no threads). */
    private WorkerPool pool() {
        WorkerPool p = pool;
        if (p != null) return p;
        synchronized (this) {
            if (pool == null) pool = new WorkerPool(threadCount());
            return pool;
        }
    }

    private static int threadCount() {
        String p = System.getProperty("diffuse.threads");
        if (p == null || p.isBlank()) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(p.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException ignored) {
            // fall through to the error
        }
        throw new IllegalArgumentException("-Ddiffuse.threads=" + p + ": expected a positive thread count, e.g. 2");
    }

    @Override
    public Storage allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation: " + bytes + " bytes");
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64); // zero-filled by the arena
        return new JavaStorage(arena, seg.asSlice(0, bytes));
    }

    @Override
    public void write(Storage dst, long byteOffset, MemorySegment src) {
        MemorySegment.copy(src, 0, segment(dst), byteOffset, src.byteSize());
    }

    @Override
    public void read(Storage src, long byteOffset, MemorySegment dst) {
        MemorySegment.copy(segment(src), byteOffset, dst, 0, dst.byteSize());
    }

    @Override
    public void copy(Storage src, long srcOffset, Storage dst, long dstOffset, long bytes) {
        MemorySegment.copy(segment(src), srcOffset, segment(dst), dstOffset, bytes);
    }

    @Override public void finish() {}

    /** The host's physical RAM: tensors live off-heap, so -Xmx does not bound them ({@link MemoryBudget} does). */
    @Override public long globalMemoryBytes() { return MemoryBudget.hostTotalBytes(); }

    static MemorySegment segment(Storage s) {
        if (!(s instanceof JavaStorage js)) throw new IllegalArgumentException("storage of " + s.device().id() + " used on the Java device");
        if (js.closed) throw new IllegalStateException("storage used after close()");
        return js.segment;
    }

    @Override public String toString() { return id(); }

    /** Off-heap memory owned by its own shared arena. */
    public static final class JavaStorage implements Storage {
        private final Arena arena;
        private final MemorySegment segment;
        private volatile boolean closed;

        JavaStorage(Arena arena, MemorySegment segment) {
            this.arena = arena;
            this.segment = segment;
        }

        @Override public Device device() { return INSTANCE; }

        @Override public long byteSize() { return segment.byteSize(); }

        @Override public boolean isClosed() { return closed; }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                arena.close();
            }
        }
    }
}
