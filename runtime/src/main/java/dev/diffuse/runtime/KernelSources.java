package dev.diffuse.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loads OpenCL C source from the classpath. A line {@code // @include dev/diffuse/runtime/philox.cl} is replaced by
 * that resource (once per program), so shared device code such as the RNG lives in one file.
 */
public final class KernelSources {
    private static final Map<String, String> CACHE = new ConcurrentHashMap<>();

    private KernelSources() {}

    public static String load(String resource) {
        return CACHE.computeIfAbsent(resource, r -> expand(r, new LinkedHashSet<>()));
    }

    private static String expand(String resource, Set<String> seen) {
        if (!seen.add(resource)) return "";
        StringBuilder out = new StringBuilder();
        for (String line : raw(resource).split("\n", -1)) {
            String s = line.strip();
            if (s.startsWith("// @include ")) out.append(expand(s.substring("// @include ".length()).strip(), seen));
            else out.append(line).append('\n');
        }
        return out.toString();
    }

    private static String raw(String resource) {
        try (InputStream in = KernelSources.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IllegalArgumentException("OpenCL source " + resource + " not found on the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }

    static String sha256(String s) { return ProgramBinaryCache.sha256(s.getBytes(StandardCharsets.UTF_8)); }
}
