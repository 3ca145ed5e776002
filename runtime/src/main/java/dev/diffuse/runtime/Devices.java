package dev.diffuse.runtime;

import static org.jocl.CL.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Discovery and selection of devices. Spec grammar ({@code -Ddiffuse.device}, CLI {@code --device}):
 * <pre>
 *   auto       an OpenCL GPU if there is one, else the Java device (always says which it picked)
 *   java       the pure-Java device
 *   cl         the first OpenCL device, GPUs first
 *   cl:gpu     the first OpenCL GPU        cl:cpu   the first OpenCL CPU device (e.g. PoCL)
 *   cl:P:I     device I of platform P, as listed by {@code diffuse devices}
 * </pre>
 * Devices are created once per JVM and shared (one context and queue each).
 */
public final class Devices {
    private static final Map<String, Device> OPEN = new ConcurrentHashMap<>();
    private static volatile List<Found> found;
    private static volatile String openClProblem;
    private static volatile boolean autoAnnounced;

    private Devices() {}

    private record Found(ClDeviceInfo info, cl_platform_id platform, cl_device_id device) {}

    /** The device named by {@code -Ddiffuse.device} (default {@code auto}). */
    public static Device fromSystemProperty() {
        return select(System.getProperty("diffuse.device", "auto"));
    }

    public static Device select(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.isEmpty()) s = "auto";
        return switch (s) {
            case "java" -> JavaDevice.get();
            case "auto" -> {
                Optional<ClDeviceInfo> gpu = openCl().stream().filter(ClDeviceInfo::isGpu).findFirst();
                Device d = gpu.isPresent() ? open(gpu.get()) : JavaDevice.get();
                if (!autoAnnounced) {
                    autoAnnounced = true;
                    System.err.println("[diffuse] device auto -> " + d.id() + ": " + d.name()
                            + (gpu.isEmpty() ? " (no OpenCL GPU found" + (openClProblem != null ? ": " + openClProblem : "") + ")" : ""));
                }
                yield d;
            }
            case "cl" -> open(openCl().stream().filter(ClDeviceInfo::isGpu).findFirst()
                    .or(() -> openCl().stream().findFirst()).orElseThrow(() -> noDevice("OpenCL device")));
            case "cl:gpu" -> open(openCl().stream().filter(ClDeviceInfo::isGpu).findFirst().orElseThrow(() -> noDevice("OpenCL GPU")));
            case "cl:cpu" -> open(openCl().stream().filter(i -> !i.isGpu()).findFirst().orElseThrow(() -> noDevice("OpenCL CPU device")));
            case "tornado" -> throw new IllegalArgumentException("'tornado' is not a Device but the TornadoVM executor of whole "
                    + "pipelines: run ./diffuse with TORNADOVM_HOME set to a TornadoVM SDK (docs/tornadovm.md)");
            default -> {
                String[] p = s.split(":");
                if (p.length == 3 && p[0].equals("cl")) {
                    try {
                        int pi = Integer.parseInt(p[1]), di = Integer.parseInt(p[2]);
                        yield open(openCl().stream().filter(i -> i.platformIndex() == pi && i.deviceIndex() == di).findFirst()
                                .orElseThrow(() -> outOfRange(pi, di)));
                    } catch (NumberFormatException e) {
                        // fall through to the error below
                    }
                }
                throw new IllegalArgumentException("unknown device '" + spec + "': use auto, java, cl, cl:gpu, cl:cpu or cl:P:I "
                        + "(platform and device index as listed by 'diffuse devices')");
            }
        };
    }

    /** The first OpenCL device (GPU first), if any platform is installed. */
    public static Optional<ClDevice> firstOpenCl() {
        List<ClDeviceInfo> all = openCl();
        return all.stream().filter(ClDeviceInfo::isGpu).findFirst().or(() -> all.stream().findFirst()).map(Devices::open);
    }

    /** Every OpenCL device on every platform, in (platform, device) order; empty if OpenCL is missing. */
    public static List<ClDeviceInfo> openCl() {
        discover();
        return found.stream().map(Found::info).toList();
    }

    /** Why no OpenCL devices were found, or null. */
    public static String openClProblem() {
        discover();
        return openClProblem;
    }

    /**
     * "no OpenCL GPU found": with the devices that do exist when there are some (a driver is installed, the kind asked
     * for is not there), else why OpenCL is missing and how to install a driver.
     */
    private static IllegalStateException noDevice(String what) {
        discover();
        if (!found.isEmpty())
            return new IllegalStateException("no " + what + " found; the OpenCL devices here are " + listing()
                    + ". Use one of those with --device, or --device java");
        return new IllegalStateException("no " + what + " found" + (openClProblem != null ? " (" + openClProblem + ")" : "")
                + ". Install an OpenCL driver (NVIDIA's, or PoCL for CPUs: apt-get install pocl-opencl-icd ocl-icd-opencl-dev), "
                + "or use --device java / -Ddiffuse.device=java");
    }

    /** cl:P:I names no device: say which index is out of range and list the devices that exist. */
    private static IllegalArgumentException outOfRange(int platform, int index) {
        discover();
        if (found.isEmpty())
            return new IllegalArgumentException("no OpenCL device cl:" + platform + ":" + index + ": there are no OpenCL devices here"
                    + (openClProblem != null ? " (" + openClProblem + ")" : "") + "; use --device java");
        boolean platformExists = found.stream().anyMatch(f -> f.info().platformIndex() == platform);
        String why = platformExists ? "platform " + platform + " has no device " + index : "there is no platform " + platform;
        return new IllegalArgumentException("no OpenCL device cl:" + platform + ":" + index + " (" + why + "); the devices here are "
                + listing() + " (see 'diffuse devices')");
    }

    /** "cl:0:0 (pthread-Intel Xeon, CPU), cl:1:0 (NVIDIA H100, GPU)". */
    private static String listing() {
        return String.join(", ", found.stream().map(f -> f.info().id() + " (" + f.info().name() + ", "
                + (f.info().isGpu() ? "GPU" : "CPU") + ")").toList());
    }

    private static ClDevice open(ClDeviceInfo info) {
        return (ClDevice) OPEN.computeIfAbsent(info.id(), id -> {
            Found f = found.stream().filter(x -> x.info().id().equals(id)).findFirst().orElseThrow();
            ClDevice d = new ClDevice(f.info(), f.platform(), f.device());
            Debug.log(1, "opened " + d.id() + ": " + d.name());
            return d;
        });
    }

    private static synchronized void discover() {
        if (found != null) return;
        List<Found> list = new ArrayList<>();
        try {
            CL.setExceptionsEnabled(true);
            int[] np = new int[1];
            try {
                clGetPlatformIDs(0, null, np);
            } catch (org.jocl.CLException e) {
                openClProblem = "no OpenCL platform installed (" + e.getMessage() + ")";
            }
            cl_platform_id[] platforms = new cl_platform_id[np[0]];
            if (np[0] > 0) clGetPlatformIDs(np[0], platforms, null);
            for (int p = 0; p < platforms.length; p++) {
                int[] nd = new int[1];
                try {
                    clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, null, nd);
                } catch (org.jocl.CLException e) {
                    continue; // a platform without devices
                }
                cl_device_id[] devs = new cl_device_id[nd[0]];
                clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, nd[0], devs, null);
                for (int d = 0; d < devs.length; d++) list.add(new Found(describe(p, d, platforms[p], devs[d]), platforms[p], devs[d]));
            }
            if (list.isEmpty() && openClProblem == null) openClProblem = "OpenCL platforms report no devices";
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            openClProblem = "the OpenCL library (libOpenCL.so) could not be loaded: " + e.getMessage();
        } catch (RuntimeException e) {
            openClProblem = "OpenCL discovery failed: " + e;
        }
        found = List.copyOf(list);
    }

    private static ClDeviceInfo describe(int p, int d, cl_platform_id platform, cl_device_id dev) {
        long type = getLong(dev, CL_DEVICE_TYPE);
        List<String> ext = Arrays.stream(getString(dev, CL_DEVICE_EXTENSIONS).trim().split("\\s+")).filter(x -> !x.isEmpty()).toList();
        return new ClDeviceInfo(p, d, platformString(platform, CL_PLATFORM_NAME), platformString(platform, CL_PLATFORM_VERSION),
                getString(dev, CL_DEVICE_NAME), getString(dev, CL_DEVICE_VENDOR), getString(dev, CL_DRIVER_VERSION),
                getString(dev, CL_DEVICE_VERSION), getString(dev, CL_DEVICE_OPENCL_C_VERSION), (type & CL_DEVICE_TYPE_GPU) != 0,
                getInt(dev, CL_DEVICE_MAX_COMPUTE_UNITS), getInt(dev, CL_DEVICE_MAX_CLOCK_FREQUENCY),
                getSizeT(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE), getLong(dev, CL_DEVICE_LOCAL_MEM_SIZE),
                getLong(dev, CL_DEVICE_GLOBAL_MEM_SIZE), getLong(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                Math.max(1, getInt(dev, CL_DEVICE_MEM_BASE_ADDR_ALIGN) / 8), ext.contains("cl_khr_fp64"), ext);
    }

    private static String getString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return new String(buf, 0, Math.max(0, buf.length - 1)).trim();
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return new String(buf, 0, Math.max(0, buf.length - 1)).trim();
    }

    private static int getInt(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    private static long getLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    private static long getSizeT(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }
}
