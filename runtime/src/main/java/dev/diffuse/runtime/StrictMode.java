package dev.diffuse.runtime;

/**
 * {@code -Ddiffuse.strict=true}: make any OpenCL device (PoCL in CI) refuse what NVIDIA's OpenCL driver would refuse,
 * so a kernel or launch that would fail on the first GPU fails in CI instead. The target is an H100/H200 on NVIDIA's
 * OpenCL 3.0 driver, which compiles OpenCL C 1.2 only. In strict mode:
 * <ul>
 *   <li>every program is built with {@code -cl-std=CL1.2} (always true) and its source must pass
 *       {@link OpenCl12Check} (no generic address space, program-scope globals, C11 atomics, sub-groups, fp16);
 *   <li>a tensor view passed to a kernel (an OpenCL sub-buffer) must start on a multiple of
 *       {@value #BASE_ADDR_ALIGN_BYTES} bytes, NVIDIA's CL_DEVICE_MEM_BASE_ADDR_ALIGN (4096 bits), even where the
 *       device needs less (PoCL: 128 bytes);
 *   <li>a launch may use at most {@value #MAX_WORK_GROUP} work-items per work-group and
 *       {@value #MAX_LOCAL_MEM_BYTES} bytes of local memory (static {@code __local} arrays plus local arguments).
 * </ul>
 * The root pom turns it on for every test JVM, so the README's test command (what CI runs) is strict.
 */
public final class StrictMode {
    /** NVIDIA's CL_DEVICE_MEM_BASE_ADDR_ALIGN, 4096 bits: sub-buffer origins must be multiples of it. */
    public static final int BASE_ADDR_ALIGN_BYTES = 512;
    /** NVIDIA's CL_DEVICE_LOCAL_MEM_SIZE on H100/H200 (static allocations per work-group). */
    public static final long MAX_LOCAL_MEM_BYTES = 48 * 1024;
    /** NVIDIA's CL_DEVICE_MAX_WORK_GROUP_SIZE. */
    public static final long MAX_WORK_GROUP = 1024;

    private StrictMode() {}

    /** Whether {@code -Ddiffuse.strict=true} is set (read on every call, so tests may switch it). */
    public static boolean enabled() {
        return Boolean.parseBoolean(System.getProperty("diffuse.strict", "false").trim());
    }

    /** Alignment a sub-buffer origin must have on {@code info}: the device's own, raised to NVIDIA's in strict mode. */
    public static long subBufferAlignment(ClDeviceInfo info) {
        return enabled() ? Math.max(info.baseAddrAlignBytes(), BASE_ADDR_ALIGN_BYTES) : info.baseAddrAlignBytes();
    }

    /** Work-group size limit for launches on {@code info}. */
    public static long maxWorkGroup(ClDeviceInfo info) {
        return enabled() ? Math.min(info.maxWorkGroup(), MAX_WORK_GROUP) : info.maxWorkGroup();
    }

    /** Local-memory limit per work-group on {@code info}. */
    public static long maxLocalMemBytes(ClDeviceInfo info) {
        return enabled() ? Math.min(info.localMemBytes(), MAX_LOCAL_MEM_BYTES) : info.localMemBytes();
    }
}
