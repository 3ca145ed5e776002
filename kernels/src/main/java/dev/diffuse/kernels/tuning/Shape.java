package dev.diffuse.kernels.tuning;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sizes an op was launched with, as named integers in a fixed order, e.g.
 * {@code B=64,Cin=32,H=28,W=28,Cout=32,K=3,S=1,PT=1,PL=1,PB=1,PR=1}. Its text is the shape column of the tuning cache
 * and is enough to rebuild the op's inputs for tuning ({@link OpTuning#trial}).
 */
public record Shape(Map<String, Integer> dims) {
    public Shape {
        dims = Collections.unmodifiableMap(new LinkedHashMap<>(dims));
    }

    /** {@code Shape.of("M", 64, "N", 128)}: names and values alternating. */
    public static Shape of(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) throw new IllegalArgumentException("Shape.of needs name, value pairs");
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) m.put((String) namesAndValues[i], (Integer) namesAndValues[i + 1]);
        return new Shape(m);
    }

    /** Inverse of {@link #toString()}. */
    public static Shape parse(String text) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String kv : text.split(",")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("shape '" + text + "': expected NAME=value pairs separated by commas");
            m.put(kv.substring(0, eq).strip(), Integer.parseInt(kv.substring(eq + 1).strip()));
        }
        return new Shape(m);
    }

    /** The value of {@code name}; throws naming the shape when it has none. */
    public int get(String name) {
        Integer v = dims.get(name);
        if (v == null) throw new IllegalArgumentException("shape " + this + " has no " + name);
        return v;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (var e : dims.entrySet()) {
            if (!sb.isEmpty()) sb.append(',');
            sb.append(e.getKey()).append('=').append(e.getValue());
        }
        return sb.toString();
    }
}
