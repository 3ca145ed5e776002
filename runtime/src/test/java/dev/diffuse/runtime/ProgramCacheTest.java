package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.jocl.cl_kernel;
import org.jocl.cl_program;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-disk program cache: a second program store (as in a second process) loads the binary instead of compiling;
 * damaged, stale or driver-refused entries are detected, rebuilt from source and rewritten, never a crash.
 */
class ProgramCacheTest {
    private static final String SRC = "dev/diffuse/runtime/strict/scale.cl";
    private static final String OPTIONS = ClPrograms.options(Map.of("FACTOR", "5.0f"));

    @TempDir
    Path dir;

    private static ClPrograms store(ClDevice cl, Path dir) {
        return new ClPrograms(cl, cl.context(), cl.deviceId(), new ProgramBinaryCache(dir));
    }

    /** Runs the cached program's kernel: y = 5 x. */
    private static void assertScales(ClDevice cl, cl_program p) {
        cl_kernel k = org.jocl.CL.clCreateKernel(p, "scale", null);
        try (Tensor x = Tensor.of(cl, new float[]{1, 2, 3}, 3); Tensor y = Tensor.allocate(cl, 3)) {
            new ClKernel(cl, k, "scale").launch1d(3, 64, y, x, 3);
            assertArrayEquals(new float[]{5, 10, 15}, y.toArray());
        } finally {
            org.jocl.CL.clReleaseKernel(k);
        }
    }

    @Test
    void secondStoreLoadsTheBinaryInsteadOfCompiling() {
        ClDevice cl = TestDevices.openCl();
        ClPrograms first = store(cl, dir);
        assertScales(cl, first.get(SRC, OPTIONS, true));
        assertEquals(1, first.compiled.get());
        ClPrograms second = store(cl, dir);
        assertScales(cl, second.get(SRC, OPTIONS, true));
        assertEquals(0, second.compiled.get(), "the second store must not compile");
        assertEquals(1, second.loaded.get());
    }

    @Test
    void transientProgramsStayOutOfTheCache() throws Exception {
        ClDevice cl = TestDevices.openCl();
        store(cl, dir).get(SRC, OPTIONS, false);
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void damagedOrStaleEntriesAreRebuiltAndRewritten() throws Exception {
        ClDevice cl = TestDevices.openCl();
        ClPrograms first = store(cl, dir);
        String key = first.key(KernelSources.load(SRC), OPTIONS);
        first.get(SRC, OPTIONS, true);
        ProgramBinaryCache cache = new ProgramBinaryCache(dir);
        Path entry = cache.entry(key);
        byte[] good = Files.readAllBytes(entry);

        // one flipped byte in the binary: the checksum no longer matches
        byte[] flipped = good.clone();
        flipped[flipped.length - 10] ^= 0x5a;
        // cut in half; empty; another key's header; not ours at all
        byte[] truncated = java.util.Arrays.copyOf(good, good.length / 2);
        String text = new String(good, StandardCharsets.ISO_8859_1);
        byte[] otherKey = text.replaceFirst("options=", "options=-DX=1 ").getBytes(StandardCharsets.ISO_8859_1);
        for (byte[] bad : new byte[][]{flipped, truncated, new byte[0], otherKey, "garbage".getBytes(StandardCharsets.UTF_8)}) {
            Files.write(entry, bad);
            ClPrograms s = store(cl, dir);
            assertScales(cl, s.get(SRC, OPTIONS, true));
            assertEquals(1, s.compiled.get(), "a damaged entry must be rebuilt from source");
            assertEquals(good.length, Files.readAllBytes(entry).length, "rewritten");
            ClPrograms again = store(cl, dir);
            again.get(SRC, OPTIONS, true);
            assertEquals(1, again.loaded.get(), "the rewritten entry is loadable");
        }
    }

    @Test
    void aWellFramedBinaryTheDriverRefusesIsRebuilt() throws Exception {
        ClDevice cl = TestDevices.openCl();
        String key = store(cl, dir).key(KernelSources.load(SRC), OPTIONS);
        // correct header and checksum around bytes that are no program: only the driver can tell
        new ProgramBinaryCache(dir).store(key, "not a program binary, but checksummed correctly".getBytes(StandardCharsets.UTF_8));
        ClPrograms s = store(cl, dir);
        assertScales(cl, s.get(SRC, OPTIONS, true));
        assertEquals(1, s.compiled.get());
        assertEquals(0, s.loaded.get());
        ClPrograms again = store(cl, dir);
        again.get(SRC, OPTIONS, true);
        assertEquals(1, again.loaded.get(), "the refused entry was replaced by a loadable one");
    }

    @Test
    void trimmingDeletesTheLeastRecentlyUsedEntries() throws Exception {
        ProgramBinaryCache cache = new ProgramBinaryCache(dir);
        byte[] kb = new byte[1000];
        for (int i = 0; i < 5; i++) {
            cache.store("key" + i, kb);
            Files.setLastModifiedTime(cache.entry("key" + i), java.nio.file.attribute.FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        assertNotNull(cache.load("key0")); // used now: the newest
        long entry = Files.size(cache.entry("key0"));
        cache.trim(3 * entry);
        assertNotNull(cache.load("key0"));
        assertNull(cache.load("key1"), "oldest use goes first");
        assertNull(cache.load("key2"));
        assertNotNull(cache.load("key3"));
        assertNotNull(cache.load("key4"));
    }

    @Test
    void cacheFolderFollowsTheProperty() {
        String saved = System.getProperty("diffuse.cache.dir");
        try {
            System.setProperty("diffuse.cache.dir", dir.toString());
            assertEquals(dir.resolve("programs"), CacheDir.programs());
            assertEquals(dir.resolve("tuning.tsv"), CacheDir.tuningFile());
        } finally {
            if (saved == null) System.clearProperty("diffuse.cache.dir");
            else System.setProperty("diffuse.cache.dir", saved);
        }
    }
}
