package dev.diffuse.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Properties;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code _manifest.json} beside a data set's Parquet files: what made it (model hash, request, Diffuse version,
 * layout, devices). Spark and Parquet readers skip files whose name starts with '_', so the folder stays a plain
 * Parquet data set. Written through Hadoop's file system (local, HDFS, object stores alike), under a temporary name
 * renamed into place, after the data is written and checked: a folder with a manifest is complete.
 */
public final class Manifest {
    public static final String FILE = "_manifest.json";
    /** The format of the data sets this version writes. */
    public static final String FORMAT = "diffuse-samples/1";
    static final ObjectMapper JSON = new ObjectMapper();

    private Manifest() {}

    /** Diffuse's version (the Maven project version this module was built as). */
    public static String diffuseVersion() {
        try (InputStream in = Manifest.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** A new manifest node with the format and version filled in. */
    static ObjectNode create() {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", FORMAT);
        m.put("diffuse_version", diffuseVersion());
        return m;
    }

    /** Writes {@code manifest} as {@code dir/_manifest.json} (temporary file, then rename). */
    static void write(Configuration conf, String dir, JsonNode manifest) throws IOException {
        Path target = new Path(dir, FILE), tmp = new Path(dir, "_manifest.json." + System.nanoTime() + ".tmp");
        FileSystem fs = target.getFileSystem(conf);
        try (OutputStream out = fs.create(tmp, false)) {
            JSON.writerWithDefaultPrettyPrinter().writeValue(out, manifest);
        }
        fs.delete(target, false);
        if (!fs.rename(tmp, target)) {
            fs.delete(tmp, false);
            throw new IOException("cannot rename " + tmp + " to " + target);
        }
    }

    /** The manifest of the data set in {@code dir}; a clear error when there is none (not a finished diffuse data set). */
    public static JsonNode read(Configuration conf, String dir) throws IOException {
        Path p = new Path(dir, FILE);
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p))
            throw new IllegalArgumentException(dir + " has no " + FILE + ": not a data set written by 'diffuse generate', or its job did not finish");
        try (InputStream in = fs.open(p)) {
            JsonNode m = JSON.readTree(in);
            if (!FORMAT.equals(m.path("format").asText()))
                throw new IllegalArgumentException(p + ": format '" + m.path("format").asText() + "', this version reads " + FORMAT);
            return m;
        }
    }
}
