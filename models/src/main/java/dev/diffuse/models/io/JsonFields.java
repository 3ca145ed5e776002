package dev.diffuse.models.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Typed reads of diffusers config.json fields (UNet2DModel, AutoencoderKL): a missing key gives the default; a value
 * of the wrong type is an error that names the key and the value.
 */
public final class JsonFields {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonFields() {}

    /** Reads {@code file} and parses it with {@code parse}; a parse error is prefixed with the file's path. */
    public static <T> T read(Path file, Function<String, T> parse) throws IOException {
        try {
            return parse.apply(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The top-level object of a diffusers config.json for model class {@code className}: not JSON, not an object, or a
     * {@code _class_name} naming another class is an error (a missing one is accepted).
     */
    public static JsonNode configObject(String json, String className) {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("config.json is not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) throw new IllegalArgumentException("config.json must be a JSON object");
        if (n.hasNonNull("_class_name") && !n.get("_class_name").asText().equals(className))
            throw new IllegalArgumentException("_class_name is \"" + n.get("_class_name").asText() + "\"; this is not a " + className
                    + " config (only " + className + " configs are read here)");
        return n;
    }

    public static String text(JsonNode n, String key, String def) {
        JsonNode v = n.get(key);
        if (v == null) return def;
        if (!v.isTextual()) throw new IllegalArgumentException(key + " = " + v + " must be a string");
        return v.asText();
    }

    public static boolean bool(JsonNode n, String key, boolean def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isBoolean()) throw new IllegalArgumentException(key + " = " + v + " must be true or false");
        return v.asBoolean();
    }

    public static double number(JsonNode n, String key, double def) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber()) throw new IllegalArgumentException(key + " = " + v + " must be a number");
        return v.asDouble();
    }

    public static Integer integer(JsonNode n, String key, Integer def) {
        JsonNode v = n.get(key);
        if (v == null) return def;
        if (v.isNull()) {
            if (def != null) throw new IllegalArgumentException(key + " is null; it must be an integer (default " + def + ")");
            return null;
        }
        if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble())))
            throw new IllegalArgumentException(key + " = " + v + " must be an integer");
        return v.asInt();
    }

    public static List<String> strings(JsonNode n, String key, List<String> def) {
        JsonNode v = n.get(key);
        if (v == null) return def;
        if (!v.isArray()) throw new IllegalArgumentException(key + " = " + v + " must be a list of names (block types)");
        List<String> out = new ArrayList<>();
        for (Iterator<JsonNode> it = v.elements(); it.hasNext(); ) out.add(it.next().asText());
        return out;
    }

    public static List<Integer> ints(JsonNode n, String key, List<Integer> def) {
        JsonNode v = n.get(key);
        if (v == null) return def;
        if (!v.isArray()) throw new IllegalArgumentException(key + " = " + v + " must be a list of integers");
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isIntegralNumber()) throw new IllegalArgumentException(key + " = " + v + " must be a list of integers");
            out.add(e.asInt());
        }
        return out;
    }
}
