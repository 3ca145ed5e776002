package dev.diffuse.runtime;

import static org.jocl.CL.*;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/**
 * The compiled programs of one {@link ClDevice}: built once per (device, driver, source hash, options) and kept for
 * the life of the device; across processes through the {@link ProgramBinaryCache} (a second process loads the binary
 * instead of compiling). Every build uses {@code -cl-std=CL1.2}; in {@link StrictMode} the source must also pass
 * {@link OpenCl12Check} first.
 */
final class ClPrograms {
    /** Every program is compiled as OpenCL C 1.2, the newest NVIDIA's driver accepts. */
    static final String STD = "-cl-std=CL1.2";

    private final ClDevice device;
    private final cl_context context;
    private final cl_device_id deviceId;
    private final ProgramBinaryCache disk;
    private final Map<String, cl_program> programs = new ConcurrentHashMap<>();
    /** How many programs this store compiled from source and loaded from the disk cache (for tests and logs). */
    final java.util.concurrent.atomic.AtomicInteger compiled = new java.util.concurrent.atomic.AtomicInteger(),
            loaded = new java.util.concurrent.atomic.AtomicInteger();

    ClPrograms(ClDevice device, cl_context context, cl_device_id deviceId, ProgramBinaryCache disk) {
        this.device = device;
        this.context = context;
        this.deviceId = deviceId;
        this.disk = disk;
    }

    /** Build options for {@code defines}: the language standard, then {@code -DNAME=value} in name order. */
    static String options(Map<String, ?> defines) {
        StringBuilder sb = new StringBuilder(STD);
        for (var e : new TreeMap<>(defines).entrySet()) sb.append(" -D").append(e.getKey()).append('=').append(e.getValue());
        return sb.toString();
    }

    /** The key of a program: what the driver, the device and the compiler's input are. */
    String key(String source, String options) {
        ClDeviceInfo i = device.info();
        return "device=" + i.name() + "|platform=" + i.platformVersion() + "|driver=" + i.driverVersion() + "|version="
                + i.deviceVersion() + "|source=" + KernelSources.sha256(source) + "|options=" + options;
    }

    /** The program for {@code resource} built with {@code options}; {@code persist} false keeps it out of the disk cache. */
    cl_program get(String resource, String options, boolean persist) {
        String source = KernelSources.load(resource);
        String key = key(source, options);
        return programs.computeIfAbsent(key, k -> build(resource, source, options, k, persist));
    }

    /** Releases the program for {@code resource} and {@code options} if it was built (kernels made from it must be released first). */
    void release(String resource, String options) {
        cl_program p = programs.remove(key(KernelSources.load(resource), options));
        if (p != null) clReleaseProgram(p);
    }

    private cl_program build(String resource, String source, String options, String key, boolean persist) {
        if (!options.startsWith(STD)) throw new IllegalArgumentException("build options must start with " + STD + ": " + options);
        if (StrictMode.enabled()) OpenCl12Check.require(resource, source);
        long t0 = System.nanoTime();
        if (disk != null && persist) {
            byte[] bin = disk.load(key);
            if (bin != null) {
                cl_program p = fromBinary(bin, options);
                if (p != null) {
                    loaded.incrementAndGet();
                    Debug.log(1, String.format("loaded %s [%s] from the program cache in %.0f ms", resource, options, ms(t0)));
                    return p;
                }
                Debug.log(1, "program cache: the driver refused the binary of " + resource + " [" + options + "]; rebuilding");
                disk.remove(key);
            }
        }
        cl_program p = clCreateProgramWithSource(context, 1, new String[]{source}, null, null);
        try {
            clBuildProgram(p, 1, new cl_device_id[]{deviceId}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p);
            clReleaseProgram(p);
            throw new ClBuildException("OpenCL build of " + resource + " with '" + options + "' failed on " + device.name() + ":\n" + log);
        }
        compiled.incrementAndGet();
        Debug.log(1, String.format("compiled %s [%s] on %s in %.0f ms", resource, options, device.info().name(), ms(t0)));
        if (disk != null && persist) disk.store(key, binary(p));
        return p;
    }

    /** A program from a cached binary, or null when the driver refuses it (another driver build, damaged in a way the checksum missed). */
    private cl_program fromBinary(byte[] bin, String options) {
        cl_program p = null;
        try {
            int[] status = new int[1];
            p = clCreateProgramWithBinary(context, 1, new cl_device_id[]{deviceId}, new long[]{bin.length},
                    new byte[][]{bin}, status, null);
            if (status[0] != CL_SUCCESS) throw new CLException("binary status " + status[0]);
            clBuildProgram(p, 1, new cl_device_id[]{deviceId}, options, null, null);
            return p;
        } catch (CLException e) {
            if (p != null) clReleaseProgram(p);
            return null;
        }
    }

    /** The device binary of a built program (empty when the driver offers none). */
    private static byte[] binary(cl_program p) {
        try {
            long[] size = new long[1];
            clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null);
            if (size[0] <= 0 || size[0] > Integer.MAX_VALUE) return new byte[0];
            byte[] bin = new byte[(int) size[0]];
            clGetProgramInfo(p, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(new Pointer[]{Pointer.to(bin)}), null);
            return bin;
        } catch (CLException e) {
            Debug.log(1, "program cache: the driver gave no binary: " + e.getMessage());
            return new byte[0];
        }
    }

    private String buildLog(cl_program p) {
        long[] size = new long[1];
        clGetProgramBuildInfo(p, deviceId, CL_PROGRAM_BUILD_LOG, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetProgramBuildInfo(p, deviceId, CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
        return new String(buf, 0, Math.max(0, buf.length - 1), StandardCharsets.UTF_8);
    }

    private static double ms(long t0) { return (System.nanoTime() - t0) / 1e6; }
}
