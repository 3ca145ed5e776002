package dev.diffuse.tornado;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.diffuse.models.unet.UNet2DModel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The weights of a model laid out for the TornadoVM executor in one array (copied once from the loaded model, kept on
 * the device for the whole run): named parameters in the order the graph builder asks for them, and derived blocks
 * that the builder stacks for fused kernels (Q, K and V weights as one (3C, C) matrix; every resnet's time-embedding
 * projection as one (sum C_out, T) matrix). Offsets are element offsets, aligned like {@link ArenaPlan}.
 */
public final class ParamPack {
    private final Function<String, float[]> source;
    private final Map<String, Integer> named = new LinkedHashMap<>();
    private final List<float[]> blocks = new ArrayList<>();
    private final List<Integer> offsets = new ArrayList<>();
    private int size;

    /** @param source the host values of a named parameter (e.g. {@code name -> model.namedParameters().get(name).toArray()}) */
    public ParamPack(Function<String, float[]> source) {
        this.source = source;
    }

    /** The host values of a loaded model's parameters, by diffusers name (copied when a plan asks for them). */
    public static Function<String, float[]> weightsOf(UNet2DModel model) {
        return name -> {
            var t = model.namedParameters().get(name);
            return t == null ? null : t.toArray();
        };
    }

    /** Offset of parameter {@code name} (copied on first use). */
    public int param(String name) {
        Integer off = named.get(name);
        if (off == null) {
            off = add(values(name));
            named.put(name, off);
        }
        return off;
    }

    /** Offset of a new block holding the named parameters one after the other (row-stacked matrices, joined biases). */
    public int stack(List<String> names) {
        int n = 0;
        List<float[]> parts = new ArrayList<>();
        for (String s : names) {
            float[] v = values(s);
            parts.add(v);
            n += v.length;
        }
        float[] all = new float[n];
        int at = 0;
        for (float[] v : parts) {
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return add(all);
    }

    private float[] values(String name) {
        float[] v = source.apply(name);
        if (v == null) throw new IllegalArgumentException("TornadoVM U-Net: the model has no parameter " + name);
        return v;
    }

    private int add(float[] v) {
        int off = size;
        blocks.add(v);
        offsets.add(off);
        size = Math.addExact(size, (v.length + ArenaPlan.ALIGN - 1) / ArenaPlan.ALIGN * ArenaPlan.ALIGN);
        return off;
    }

    /** Floats in the pack. */
    public int size() { return Math.max(size, ArenaPlan.ALIGN); }

    /** The host array to transfer once to the device. */
    public FloatArray toArray() {
        FloatArray a = new FloatArray(size());
        for (int k = 0; k < blocks.size(); k++) {
            float[] v = blocks.get(k);
            int off = offsets.get(k);
            for (int i = 0; i < v.length; i++) a.set(off + i, v[i]);
        }
        return a;
    }
}
