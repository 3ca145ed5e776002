package dev.diffuse.runtime;

import java.nio.file.Path;

/**
 * Where Diffuse keeps what it learns about a machine between processes: compiled OpenCL program binaries
 * ({@code programs/}, see {@link ProgramBinaryCache}) and the kernel tuning choices ({@code tuning.tsv}, next to
 * them). The folder is {@code -Ddiffuse.cache.dir}, else {@code $DIFFUSE_CACHE_DIR}, else
 * {@code $XDG_CACHE_HOME/diffuse}, else {@code ~/.cache/diffuse}. {@code -Ddiffuse.cache=off} turns both caches off
 * (every process then compiles from source and launches with default tunings).
 */
public final class CacheDir {
    private CacheDir() {}

    /** False when {@code -Ddiffuse.cache=off} (or {@code false}/{@code 0}). */
    public static boolean enabled() {
        String v = System.getProperty("diffuse.cache", "on").trim().toLowerCase(java.util.Locale.ROOT);
        return !(v.equals("off") || v.equals("false") || v.equals("0"));
    }

    /** The cache folder (not created here). */
    public static Path root() {
        String p = System.getProperty("diffuse.cache.dir");
        if (p == null || p.isBlank()) p = System.getenv("DIFFUSE_CACHE_DIR");
        if (p != null && !p.isBlank()) return Path.of(p);
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("diffuse");
    }

    /** Folder of the program binary cache. */
    public static Path programs() { return root().resolve("programs"); }

    /** The tuning cache file, next to the program cache. */
    public static Path tuningFile() { return root().resolve("tuning.tsv"); }
}
