package dev.diffuse.runtime;

import static org.jocl.CL.*;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.jocl.cl_buffer_region;

/**
 * An OpenCL device (any vendor: NVIDIA GPU, PoCL on a CPU, ...) with one context and one in-order queue. All
 * launches go to that queue, so a pipeline of kernels needs no host synchronisation between them; reads block.
 *
 * <p>Programs are compiled once per (device, driver, source hash, defines) and kept for the life of the device, and
 * their binaries on disk for the next process ({@link ClPrograms}, {@link ProgramBinaryCache}).
 */
public final class ClDevice implements Device {
    private final ClDeviceInfo info;
    private final cl_device_id deviceId;
    private final cl_context context;
    private final cl_command_queue queue;
    private final ClPrograms programs;
    private final Map<String, ClKernel> kernels = new ConcurrentHashMap<>();

    @SuppressWarnings("deprecation")
    ClDevice(ClDeviceInfo info, cl_platform_id platform, cl_device_id deviceId) {
        this.info = info;
        this.deviceId = deviceId;
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, platform);
        this.context = clCreateContext(props, 1, new cl_device_id[]{deviceId}, null, null, null);
        long qprops = Debug.level() >= 2 ? CL_QUEUE_PROFILING_ENABLE : 0;
        // clCreateCommandQueue (OpenCL 1.2) rather than ...WithProperties (2.0): NVIDIA and PoCL take both.
        this.queue = clCreateCommandQueue(context, deviceId, qprops, null);
        this.programs = new ClPrograms(this, context, deviceId, ProgramBinaryCache.fromSystemProperties());
    }

    public ClDeviceInfo info() { return info; }

    @Override public String id() { return info.id(); }

    @Override
    public String name() {
        return "OpenCL " + info.name() + " (" + info.platformName() + ", " + info.deviceVersion() + ", driver "
                + info.driverVersion() + ")";
    }

    cl_command_queue queue() { return queue; }

    cl_device_id deviceId() { return deviceId; }

    public cl_context context() { return context; }

    @Override public long globalMemoryBytes() { return info.globalMemBytes(); }

    // ---------------------------------------------------------------- memory

    @Override
    public Storage allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative allocation: " + bytes + " bytes");
        if (bytes > info.maxAllocBytes())
            throw new IllegalArgumentException(String.format("cannot allocate %.1f MiB on %s: its largest single "
                    + "allocation is %.1f MiB (CL_DEVICE_MAX_MEM_ALLOC_SIZE); use a smaller batch", bytes / 1048576.0,
                    info.name(), info.maxAllocBytes() / 1048576.0));
        long n = Math.max(bytes, 4);
        cl_mem mem = clCreateBuffer(context, CL_MEM_READ_WRITE, n, null, null);
        // Zero-fill so that fresh tensors are defined on every device, as on the Java device.
        clEnqueueFillBuffer(queue, mem, Pointer.to(new int[]{0}), 4, 0, n, 0, null, null);
        return new ClStorage(this, mem, bytes);
    }

    /**
     * A tensor of {@code shape} that owns its buffer and is NOT zero-filled: scratch a kernel writes completely before
     * anything reads it (padded copies, partial sums). Close it after enqueueing its last use; OpenCL defers the free.
     */
    public Tensor scratch(int... shape) {
        long bytes = Tensor.numel(shape) * 4;
        if (bytes > info.maxAllocBytes()) allocate(bytes); // throws the clear error
        cl_mem mem = clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(bytes, 4), null, null);
        return new Tensor(new ClStorage(this, mem, bytes), 0, shape, true);
    }

    @Override
    public void write(Storage dst, long byteOffset, MemorySegment src) {
        if (src.byteSize() == 0) return;
        clEnqueueWriteBuffer(queue, mem(dst), CL_TRUE, byteOffset, src.byteSize(), hostPointer(src), 0, null, null);
    }

    @Override
    public void read(Storage src, long byteOffset, MemorySegment dst) {
        if (dst.byteSize() == 0) return;
        if (dst.isNative()) {
            clEnqueueReadBuffer(queue, mem(src), CL_TRUE, byteOffset, dst.byteSize(), Pointer.to(dst.asByteBuffer()), 0, null, null);
        } else {
            byte[] tmp = new byte[Math.toIntExact(dst.byteSize())];
            clEnqueueReadBuffer(queue, mem(src), CL_TRUE, byteOffset, tmp.length, Pointer.to(tmp), 0, null, null);
            MemorySegment.copy(MemorySegment.ofArray(tmp), 0, dst, 0, tmp.length);
        }
    }

    /** JOCL reads direct ByteBuffers in place; heap segments are copied to a byte[] first. */
    private static Pointer hostPointer(MemorySegment src) {
        return src.isNative() ? Pointer.to(src.asByteBuffer())
                : Pointer.to(src.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Override
    public void copy(Storage src, long srcOffset, Storage dst, long dstOffset, long bytes) {
        if (bytes == 0) return;
        clEnqueueCopyBuffer(queue, mem(src), mem(dst), srcOffset, dstOffset, bytes, 0, null, null);
    }

    @Override public void finish() { clFinish(queue); }

    static cl_mem mem(Storage s) {
        if (!(s instanceof ClStorage cs)) throw new IllegalArgumentException("storage of " + s.device().id() + " used on an OpenCL device");
        if (cs.closed) throw new IllegalStateException("storage used after close()");
        return cs.mem;
    }

    /**
     * The buffer a kernel sees for {@code t}: the storage itself, or a cached sub-buffer for a view with an
     * offset. OpenCL requires sub-buffer origins aligned to CL_DEVICE_MEM_BASE_ADDR_ALIGN ({@link StrictMode}: at least
     * NVIDIA's 512 bytes).
     */
    cl_mem mem(Tensor t) {
        if (t.device() != this) throw new IllegalArgumentException("tensor on " + t.device().id() + " passed to a kernel on " + id());
        ClStorage s = (ClStorage) t.storage();
        if (s.closed) throw new IllegalStateException("tensor " + t + " used after its storage was closed");
        long off = t.byteOffset();
        if (off == 0) return s.mem;
        long align = StrictMode.subBufferAlignment(info);
        if (off % align != 0)
            throw new IllegalArgumentException("tensor view at byte offset " + off + " is not aligned to " + align
                    + " bytes, which " + (align > info.baseAddrAlignBytes() ? "NVIDIA's OpenCL (strict mode, "
                    + "-Ddiffuse.strict=true; " + info.name() + " itself needs " + info.baseAddrAlignBytes() + ")" : info.name())
                    + " needs for a kernel argument (an OpenCL sub-buffer); allocate views through Workspace.slab "
                    + "(aligned), pass the element offset as a kernel argument, or copy the view into its own tensor");
        return s.subBuffers.computeIfAbsent(off + ":" + t.byteSize(), k -> {
            cl_buffer_region region = new cl_buffer_region(off, Math.max(4, t.byteSize()));
            return clCreateSubBuffer(s.mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, region, null);
        });
    }

    // ---------------------------------------------------------------- programs

    /**
     * The kernel {@code kernelName} from classpath resource {@code resource} compiled with {@code defines}
     * (each becomes {@code -DNAME=value}). Compiled once per process, and loaded from the on-disk program cache when
     * an earlier process compiled it; a failed build throws {@link ClBuildException} with the build log.
     */
    public ClKernel kernel(String resource, String kernelName, Map<String, ?> defines) {
        return kernel(resource, kernelName, defines, true);
    }

    /**
     * As {@link #kernel(String, String, Map)}; {@code persist} false keeps the program out of the on-disk cache (a
     * tuning candidate that will probably never run again).
     */
    public ClKernel kernel(String resource, String kernelName, Map<String, ?> defines, boolean persist) {
        String options = ClPrograms.options(defines);
        String key = resource + "#" + kernelName + "#" + options;
        ClKernel k = kernels.get(key);
        if (k != null) return k;
        synchronized (kernels) {
            k = kernels.get(key);
            if (k == null) {
                cl_program p = programs.get(resource, options, persist);
                cl_kernel ck;
                try {
                    ck = clCreateKernel(p, kernelName, null);
                } catch (CLException e) {
                    throw new IllegalArgumentException("no kernel '" + kernelName + "' in " + resource + ": " + e.getMessage(), e);
                }
                k = new ClKernel(this, ck, kernelName);
                kernels.put(key, k);
            }
            return k;
        }
    }

    public ClKernel kernel(String resource, String kernelName) { return kernel(resource, kernelName, Map.of()); }

    /**
     * Releases the program built from {@code resource} with {@code defines} and every kernel made from it (a tuning
     * candidate that lost). Work already queued keeps running: OpenCL defers the release until it is done.
     */
    public void release(String resource, Map<String, ?> defines) {
        String options = ClPrograms.options(defines);
        synchronized (kernels) {
            kernels.entrySet().removeIf(e -> {
                boolean match = e.getKey().startsWith(resource + "#") && e.getKey().endsWith("#" + options);
                if (match) e.getValue().release();
                return match;
            });
            programs.release(resource, options);
        }
    }

    @Override public String toString() { return id(); }

    /** A cl_mem plus the sub-buffers made for views into it; closing releases all of them. */
    public static final class ClStorage implements Storage {
        private final ClDevice device;
        private final cl_mem mem;
        private final long bytes;
        private final Map<String, cl_mem> subBuffers = new ConcurrentHashMap<>();
        private volatile boolean closed;

        ClStorage(ClDevice device, cl_mem mem, long bytes) {
            this.device = device;
            this.mem = mem;
            this.bytes = bytes;
        }

        @Override public Device device() { return device; }

        @Override public long byteSize() { return bytes; }

        @Override public boolean isClosed() { return closed; }

        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            // Work still queued may use the buffer; OpenCL defers the free until it is done.
            subBuffers.values().forEach(org.jocl.CL::clReleaseMemObject);
            clReleaseMemObject(mem);
        }
    }
}
