package dev.diffuse.runtime;

import static org.jocl.CL.*;

import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_event;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

/**
 * One compiled kernel on one device. Arguments are set and the launch enqueued under one lock, so a kernel
 * object may be shared between threads. Argument mapping: {@link Tensor} -> its buffer (a sub-buffer for an
 * offset view), {@code Integer} -> int, {@code Long} -> long, {@code Float}/{@code Double} -> float,
 * {@link ClArg.Local} -> local memory.
 *
 * <p>In {@link StrictMode} every launch is checked against NVIDIA's limits: at most 1024 work-items per group and
 * 48 KB of local memory (the kernel's static {@code __local} arrays plus its local arguments).
 */
public final class ClKernel {
    private final ClDevice device;
    private final cl_kernel kernel;
    private final String name;
    /** CL_KERNEL_LOCAL_MEM_SIZE before any local argument is set: the static {@code __local} arrays; -1 until asked. */
    private long staticLocalBytes = -1;

    ClKernel(ClDevice device, cl_kernel kernel, String name) {
        this.device = device;
        this.kernel = kernel;
        this.name = name;
    }

    public String name() { return name; }

    /** Bytes of static {@code __local} memory the compiled kernel uses (CL_KERNEL_LOCAL_MEM_SIZE). */
    public synchronized long staticLocalMemBytes() {
        if (staticLocalBytes < 0) {
            long[] v = new long[1];
            clGetKernelWorkGroupInfo(kernel, device.deviceId(), CL_KERNEL_LOCAL_MEM_SIZE, Sizeof.cl_ulong, Pointer.to(v), null);
            staticLocalBytes = v[0];
        }
        return staticLocalBytes;
    }

    synchronized void release() { clReleaseKernel(kernel); }

    /** 1-D launch over {@code n} work-items rounded up to a multiple of {@code wg}; kernels guard the tail. */
    public void launch1d(long n, int wg, Object... args) {
        long global = Math.max(wg, (n + wg - 1) / wg * wg);
        launch(new long[]{global}, new long[]{wg}, args);
    }

    /**
     * 2-D launch of {@code n0 x n1} work-items in work-groups of {@code wg0 x 1}, dim 0 rounded up to a multiple of
     * {@code wg0}; kernels guard the tail. (An explicit group: left to PoCL, a CPU driver may pick groups so large that
     * their private arrays overflow a worker thread's stack.)
     */
    public void launch2d(long n0, long n1, int wg0, Object... args) {
        launch(new long[]{Math.max(wg0, (n0 + wg0 - 1) / wg0 * wg0), n1}, new long[]{wg0, 1}, args);
    }

    /** Launch with explicit global and (nullable) local sizes. */
    public synchronized void launch(long[] global, long[] local, Object... args) {
        if (StrictMode.enabled()) checkLimits(local, args);
        for (int i = 0; i < args.length; i++) setArg(i, args[i]);
        boolean profile = Debug.level() >= 2;
        cl_event ev = profile ? new cl_event() : null;
        clEnqueueNDRangeKernel(device.queue(), kernel, global.length, null, global, local, 0, null, ev);
        if (profile) {
            clWaitForEvents(1, new cl_event[]{ev});
            long[] t0 = new long[1], t1 = new long[1];
            clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, Sizeof.cl_ulong, Pointer.to(t0), null);
            clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, Sizeof.cl_ulong, Pointer.to(t1), null);
            clReleaseEvent(ev);
            Debug.log(2, String.format("launch %s global=%s local=%s %.3f ms", name,
                    java.util.Arrays.toString(global), java.util.Arrays.toString(local), (t1[0] - t0[0]) / 1e6));
        }
    }

    /** Strict mode: the work-group and its local memory must fit NVIDIA's limits (and the device's own). */
    private void checkLimits(long[] local, Object[] args) {
        ClDeviceInfo info = device.info();
        if (local != null) {
            long items = 1;
            for (long l : local) items *= l;
            long max = StrictMode.maxWorkGroup(info);
            if (items > max)
                throw new IllegalArgumentException("kernel " + name + ": work-group of " + items + " work-items "
                        + java.util.Arrays.toString(local) + " exceeds " + max + " (NVIDIA's limit; strict mode); use a smaller work-group");
        }
        long bytes = staticLocalMemBytes();
        for (Object a : args) if (a instanceof ClArg.Local l) bytes += l.bytes();
        long max = StrictMode.maxLocalMemBytes(info);
        if (bytes > max)
            throw new IllegalArgumentException("kernel " + name + ": " + bytes + " bytes of local memory per work-group exceed "
                    + max + " (48 KB on NVIDIA H100/H200; strict mode); use smaller tiles");
    }

    private void setArg(int i, Object a) {
        switch (a) {
            case Tensor t -> {
                cl_mem m = device.mem(t);
                clSetKernelArg(kernel, i, Sizeof.cl_mem, Pointer.to(m));
            }
            case Integer v -> clSetKernelArg(kernel, i, Sizeof.cl_int, Pointer.to(new int[]{v}));
            case Long v -> clSetKernelArg(kernel, i, Sizeof.cl_long, Pointer.to(new long[]{v}));
            case ClArg.U64 v -> clSetKernelArg(kernel, i, Sizeof.cl_long, Pointer.to(new long[]{v.value()}));
            case Float v -> clSetKernelArg(kernel, i, Sizeof.cl_float, Pointer.to(new float[]{v}));
            case Double v -> clSetKernelArg(kernel, i, Sizeof.cl_float, Pointer.to(new float[]{v.floatValue()}));
            case ClArg.Local l -> clSetKernelArg(kernel, i, l.bytes(), null);
            case null -> throw new IllegalArgumentException("kernel " + name + ": argument " + i + " is null");
            default -> throw new IllegalArgumentException("kernel " + name + ": argument " + i + " has unsupported type "
                    + a.getClass().getName());
        }
    }
}
