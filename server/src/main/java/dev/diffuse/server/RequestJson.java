package dev.diffuse.server;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.pipeline.SampleRequest;

/**
 * The JSON body of {@code POST /v1/samples}: an object with the fields of {@link SampleRequest}, each optional,
 * e.g. {@code {"n": 4, "sampler": "ddim", "steps": 25, "seed": 7, "classLabel": 3, "guidance": 3.0, "eta": 0, "clip": true}}.
 * Anything else (not JSON, not an object, an unknown field, a wrong type, a value out of range) is a one-line
 * IllegalArgumentException naming the field, which the server answers with 400.
 */
final class RequestJson {
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).maxNumberLength(40).maxStringLength(1 << 12).build()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** The fields and what each holds, in the order error messages list them. */
    static final Map<String, String> FIELDS = new java.util.LinkedHashMap<>();

    static {
        FIELDS.put("n", "an integer");
        FIELDS.put("sampler", "a string");
        FIELDS.put("steps", "an integer");
        FIELDS.put("seed", "an integer in 0..2^63-1");
        FIELDS.put("classLabel", "an integer");
        FIELDS.put("guidance", "a number");
        FIELDS.put("eta", "a number");
        FIELDS.put("clip", "true or false");
    }

    private RequestJson() {}

    /** Parses a request body; an empty body is the default request (one image). */
    static SampleRequest parse(byte[] body) {
        JsonNode root;
        if (body.length == 0 || new String(body, java.nio.charset.StandardCharsets.UTF_8).isBlank()) return SampleRequest.of(1);
        try {
            root = JSON.readTree(body);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("the body is not valid JSON: " + oneLine(e.getOriginalMessage().replaceAll("\\s*\\(start marker at .*$", "")) + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the body is not valid JSON: " + oneLine(e.getOriginalMessage()));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("the body could not be read: " + oneLine(e.getMessage()));
        }
        if (root == null || !root.isObject())
            throw new IllegalArgumentException("the body must be a JSON object such as {\"n\": 4, \"seed\": 7}, got " + (root == null ? "nothing" : kind(root)));
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.containsKey(f)) throw new IllegalArgumentException("unknown field '" + oneLine(f) + "'; a request has " + List.copyOf(FIELDS.keySet()));
        }
        SampleRequest.Builder b = SampleRequest.builder();
        JsonNode v;
        if (present(v = root.get("n"))) b.n(intOf("n", v));
        if (present(v = root.get("sampler"))) {
            if (!v.isTextual()) throw wrong("sampler", v);
            b.sampler(v.asText());
        }
        if (present(v = root.get("steps"))) b.steps(intOf("steps", v));
        if (present(v = root.get("seed"))) {
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) throw wrong("seed", v);
            b.seed(v.asLong());
        }
        if (present(v = root.get("classLabel"))) b.classLabel(intOf("classLabel", v));
        if (present(v = root.get("guidance"))) b.guidance(numberOf("guidance", v));
        if (present(v = root.get("eta"))) b.eta(numberOf("eta", v));
        if (present(v = root.get("clip"))) {
            if (!v.isBoolean()) throw wrong("clip", v);
            b.clip(v.asBoolean());
        }
        return b.build();
    }

    private static boolean present(JsonNode v) { return v != null && !v.isNull(); }

    private static int intOf(String field, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw wrong(field, v);
        return v.asInt();
    }

    private static double numberOf(String field, JsonNode v) {
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) throw wrong(field, v);
        return v.asDouble();
    }

    private static IllegalArgumentException wrong(String field, JsonNode v) {
        String shown = v.toString();
        if (shown.length() > 40) shown = shown.substring(0, 40) + "...";
        return new IllegalArgumentException(field + " must be " + FIELDS.get(field) + ", got " + kind(v) + " " + oneLine(shown));
    }

    private static String kind(JsonNode v) { return v.getNodeType().name().toLowerCase(java.util.Locale.ROOT); }

    /** A message on one line, at most 200 characters (client text never spans lines in an answer). */
    static String oneLine(String s) {
        if (s == null) return "";
        String t = s.replaceAll("[\\r\\n\\t]+", " ").replaceAll("\\p{Cntrl}", "?");
        return t.length() > 200 ? t.substring(0, 200) + "..." : t;
    }
}
