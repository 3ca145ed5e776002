package dev.diffuse.runtime;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How much device memory Diffuse may hold, checked before anything is allocated so that an oversized request ends in
 * a one-line error instead of an OutOfMemoryError or the kernel's OOM killer (native memory is not bounded by -Xmx).
 *
 * <p>The limit on a device is {@code -Ddiffuse.maxMemory=SIZE} (or the environment variable {@code DIFFUSE_MAX_MEMORY};
 * e.g. {@code 2g}, {@code 512m}) when set, else a safe share of what the device has: on the Java device 80% of the
 * host's currently available RAM (MemAvailable) plus what Diffuse already holds, on an OpenCL device 90% of its global
 * memory. Every {@link Workspace} allocation counts against it ({@link #reserve}); callers that can estimate a whole
 * request up front (a model at construction, a sampling request) call {@link #require} first, so the refusal names
 * the request, its estimate and the way out.
 */
public final class MemoryBudget {
    /** System property (and, upper-cased with '_', environment variable) that sets the limit on every device. */
    public static final String PROPERTY = "diffuse.maxMemory";

    private static final ConcurrentHashMap<String, AtomicLong> HELD = new ConcurrentHashMap<>();
    /** A limit set by the program (the CLI's --max-memory); wins over the property and the environment. */
    private static volatile Long override;

    private MemoryBudget() {}

    /** Bytes Diffuse workspaces currently hold on {@code device}. */
    public static long held(Device device) { return counter(device).get(); }

    /** The most Diffuse may hold on {@code device} now (see the class comment). */
    public static long limit(Device device) {
        Long set = configured();
        if (set != null) return set;
        return switch (device) {
            case JavaDevice j -> (long) (0.8 * hostAvailableBytes()) + held(device);
            case ClDevice c -> (long) (0.9 * c.globalMemoryBytes());
        };
    }

    /**
     * Sets the limit on every device for this process (the CLI's {@code --max-memory}), over {@code -Ddiffuse.maxMemory}
     * and {@code DIFFUSE_MAX_MEMORY}; null goes back to those (or the default share).
     */
    public static void setLimit(Long bytes) {
        if (bytes != null && bytes <= 0) throw new IllegalArgumentException("memory limit must be positive, got " + bytes);
        override = bytes;
    }

    /** The limit set with {@link #setLimit}, {@code -Ddiffuse.maxMemory} or {@code DIFFUSE_MAX_MEMORY}, or null when none is. */
    public static Long configured() {
        Long o = override;
        if (o != null) return o;
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) v = System.getenv("DIFFUSE_MAX_MEMORY");
        if (v == null || v.isBlank()) return null;
        return parseSize(v, "-D" + PROPERTY);
    }

    /**
     * Refuses, before anything is allocated, a request of {@code bytes} more on {@code device} that would exceed the
     * limit. {@code what} names the request ("U-Net for batch 64 (training)"), {@code wayOut} says how to ask for less
     * ("lower --batch").
     */
    public static void require(Device device, String what, long bytes, String wayOut) {
        if (bytes < 0) throw new MemoryBudgetException(what + ": size overflows (more than 8 EiB); " + wayOut);
        long limit = limit(device), held = held(device);
        if (held + bytes > limit)
            throw new MemoryBudgetException(String.format(Locale.ROOT,
                    "%s needs about %s on %s, but only %s of the %s memory limit is free (%s held by Diffuse). %s, or set "
                            + "the limit with --max-memory / -D%s=SIZE (e.g. 8g)%s.", what, size(bytes), device.id(),
                    size(Math.max(0, limit - held)), size(limit), size(held), capitalize(wayOut), PROPERTY,
                    configured() == null ? "" : " (now " + size(limit) + ")"));
    }

    /**
     * Refuses, before allocating, {@code bytes} of Java heap (host arrays: a data set, samples read back) that the heap
     * cannot hold: the JVM's -Xmx less what is in use (after one collection, so garbage does not count). {@code what}
     * and {@code wayOut} as in {@link #require}; the message also says how to give Java more heap.
     */
    public static void requireHeap(String what, long bytes, String wayOut) {
        if (bytes < 0) throw new MemoryBudgetException(what + ": size overflows (more than 8 EiB); " + wayOut);
        Runtime rt = Runtime.getRuntime();
        if (bytes <= rt.maxMemory() - (rt.totalMemory() - rt.freeMemory())) return;
        System.gc();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > free)
            throw new MemoryBudgetException(String.format(Locale.ROOT,
                    "%s needs about %s of Java heap, but only %s of the %s heap (-Xmx) is free. %s, or give Java more heap "
                            + "(e.g. DIFFUSE_JAVA_OPTS=-Xmx16g ./diffuse ...).", what, size(bytes), size(Math.max(0, free)),
                    size(rt.maxMemory()), capitalize(wayOut)));
    }

    /** The most elements a Java array may have (the VM refuses a few below Integer.MAX_VALUE). */
    public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * Refuses, before allocating, a host array of {@code elements} values of {@code bytesPerElement} bytes that does not
     * fit in one Java array or in the heap ({@link #requireHeap}).
     */
    public static void requireHostArray(String what, long elements, int bytesPerElement, String wayOut) {
        if (elements < 0 || elements > MAX_ARRAY)
            throw new MemoryBudgetException(String.format(Locale.ROOT, "%s needs %s values in one host array, more than the %,d a "
                    + "Java array holds. %s.", what, elements < 0 ? "more than 2^63" : String.format(Locale.ROOT, "%,d", elements),
                    MAX_ARRAY, capitalize(wayOut)));
        requireHeap(what, elements * bytesPerElement, wayOut);
    }

    /** Counts {@code bytes} against the limit (a {@link Workspace} allocation); throws when it would not fit. */
    static void reserve(Device device, String workspace, long bytes) {
        require(device, "workspace '" + workspace + "'", bytes, "use a smaller batch, resolution or number of samples");
        counter(device).addAndGet(bytes);
    }

    /** Returns {@code bytes} reserved earlier. */
    static void release(Device device, long bytes) { counter(device).addAndGet(-bytes); }

    private static AtomicLong counter(Device d) { return HELD.computeIfAbsent(d.id(), k -> new AtomicLong()); }

    /**
     * The host's available memory: MemAvailable in /proc/meminfo (what can be allocated without swapping), else the
     * free physical memory the JVM reports.
     */
    public static long hostAvailableBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    String[] f = line.trim().split("\\s+");
                    return Long.parseLong(f[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
            return os.getFreeMemorySize();
        return Runtime.getRuntime().maxMemory();
    }

    /** The host's physical memory. */
    public static long hostTotalBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
            return os.getTotalMemorySize();
        return Runtime.getRuntime().maxMemory();
    }

    /**
     * Parses a size such as {@code 512m}, {@code 2g}, {@code 1.5G}, {@code 4096} (bytes), {@code 64k}, {@code 1t}.
     * {@code source} names where it came from in the error.
     */
    public static long parseSize(String text, String source) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("ib")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("b") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) s = s.substring(0, s.length() - 1);
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> unit = 1;
            }
            if (unit != 1) s = s.substring(0, s.length() - 1);
        }
        double v;
        try {
            v = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": '" + text + "' is not a size; write e.g. 512m, 2g or 1073741824");
        }
        if (!(v > 0) || v * unit >= 0x1p63)
            throw new IllegalArgumentException(source + ": size must be positive and below 8 EiB, got '" + text + "'");
        return (long) (v * unit);
    }

    /** 1536 MiB -> "1.5 GiB". */
    public static String size(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        if (bytes >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        if (bytes >= 1L << 10) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        return bytes + " B";
    }

    private static String capitalize(String s) { return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1); }
}
