package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a saved network computes, so that a sampler can use it correctly. Stored beside diffusers' config.json as
 * {@code objective.json} (diffusers ignores the file); a folder without one is a DDPM epsilon-prediction model, as every
 * diffusers UNet2DModel with the default scheduler is.
 * <ul>
 *   <li>EPSILON: eps_theta(x_t, t) on the DDPM schedule (ddpm, ddim, the VP ODE/SDE samplers, ...).</li>
 *   <li>FLOW: the velocity v_theta(x_t, 1000 t) of the linear path x_t = (1 - t) eps + t x0 (flow-euler, flow-heun).</li>
 *   <li>CONSISTENCY: F of f(x, sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, 250 ln sigma) on the VE path
 *       x = x0 + sigma z, with sigma_min, sigma_max and sigma_data needed by c_skip, c_out, c_in and the prior.</li>
 *   <li>CONSISTENCY_DDPM: a consistency function on the DDPM schedule distilled from an epsilon teacher
 *       ({@code dev.diffuse.models.distill}): f(x, t) = c_skip(t) x + c_out(t) (x - sqrt(1 - ab_t) eps(x, t)) / sqrt(ab_t),
 *       the network an epsilon predictor, trained on the teacher's DDIM grid of {@code teacherSteps} steps
 *       (t = 0, 1000/teacherSteps, ..., topTimestep; sampling starts from N(0, I) at topTimestep); sigma_data in c_skip
 *       and c_out.</li>
 * </ul>
 */
public record ModelObjective(Kind kind, double sigmaMin, double sigmaMax, double sigmaData, int teacherSteps, int topTimestep) {
    public enum Kind { EPSILON, FLOW, CONSISTENCY, CONSISTENCY_DDPM }

    public static final String FILE = "objective.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelObjective {
        if (kind == null) throw new IllegalArgumentException("model objective: kind is null");
        if (kind == Kind.CONSISTENCY && !(sigmaMin > 0 && sigmaMax > sigmaMin && sigmaData > 0))
            throw new IllegalArgumentException("consistency objective: need 0 < sigma_min < sigma_max and sigma_data > 0, got "
                    + sigmaMin + ", " + sigmaMax + ", " + sigmaData);
        if (kind == Kind.CONSISTENCY_DDPM && !(teacherSteps >= 2 && teacherSteps <= 1000 && sigmaData > 0 && topTimestep >= 1000 / teacherSteps
                && topTimestep % (1000 / teacherSteps) == 0 && topTimestep < 1000))
            throw new IllegalArgumentException("consistency_ddpm objective: need 2 <= teacher_steps <= 1000, sigma_data > 0 and top_timestep a "
                    + "positive multiple of 1000 / teacher_steps below 1000, got " + teacherSteps + ", " + sigmaData + ", " + topTimestep);
    }

    /** Every kind but CONSISTENCY_DDPM: no teacher grid. */
    public ModelObjective(Kind kind, double sigmaMin, double sigmaMax, double sigmaData) { this(kind, sigmaMin, sigmaMax, sigmaData, 0, 0); }

    public static ModelObjective epsilon() { return new ModelObjective(Kind.EPSILON, 0, 0, 0); }
    public static ModelObjective flow() { return new ModelObjective(Kind.FLOW, 0, 0, 0); }
    public static ModelObjective consistency(double sigmaMin, double sigmaMax, double sigmaData) {
        return new ModelObjective(Kind.CONSISTENCY, sigmaMin, sigmaMax, sigmaData);
    }

    /**
     * A consistency function on the DDPM schedule distilled on a teacher's DDIM grid of {@code teacherSteps} steps, levels
     * up to {@code topTimestep}.
     */
    public static ModelObjective consistencyDdpm(int teacherSteps, int topTimestep, double sigmaData) {
        return new ModelObjective(Kind.CONSISTENCY_DDPM, 0, 0, sigmaData, teacherSteps, topTimestep);
    }

    /** The objective of a DDPM/flow training config. */
    public static ModelObjective of(TrainConfig cfg) { return cfg.objective() == TrainConfig.Objective.FLOW ? flow() : epsilon(); }

    /** Reads {@code folder/objective.json}; EPSILON when the file is absent. */
    public static ModelObjective read(Path folder) throws IOException {
        Path f = folder.resolve(FILE);
        if (!Files.isRegularFile(f)) return epsilon();
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + " is not valid JSON: " + e.getMessage(), e);
        }
        String k = n.path("objective").asText("");
        Kind kind;
        try {
            kind = Kind.valueOf(k.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": \"objective\" must be one of epsilon, flow, consistency, consistency_ddpm; got '" + k + "'");
        }
        if (kind == Kind.CONSISTENCY_DDPM) {
            if (!n.path("teacher_steps").isInt() || !n.path("sigma_data").isNumber())
                throw new IOException(f + ": a consistency_ddpm model needs an integer \"teacher_steps\" and a numeric \"sigma_data\"");
            try {
                int steps = n.get("teacher_steps").asInt();
                return consistencyDdpm(steps, n.path("top_timestep").asInt((steps - 1) * (1000 / Math.max(1, steps))), n.get("sigma_data").asDouble());
            } catch (IllegalArgumentException e) {
                throw new IOException(f + ": " + e.getMessage(), e);
            }
        }
        if (kind != Kind.CONSISTENCY) return new ModelObjective(kind, 0, 0, 0);
        for (String key : new String[]{"sigma_min", "sigma_max", "sigma_data"})
            if (!n.path(key).isNumber()) throw new IOException(f + ": a consistency model needs a numeric \"" + key + "\"");
        try {
            return consistency(n.get("sigma_min").asDouble(), n.get("sigma_max").asDouble(), n.get("sigma_data").asDouble());
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code folder/objective.json} (temp file + rename). */
    public void write(Path folder) throws IOException { write(folder, -1); }

    /**
     * Writes {@code folder/objective.json} (temp file + rename) with {@code "null_class": nullClass} when it is >= 0: the
     * class id a class-conditional model was trained to take as "no class" (label dropout), which classifier-free
     * guidance needs.
     */
    public void write(Path folder, int nullClass) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("objective", kind.name().toLowerCase(Locale.ROOT));
        if (kind == Kind.CONSISTENCY) {
            n.put("sigma_min", sigmaMin);
            n.put("sigma_max", sigmaMax);
            n.put("sigma_data", sigmaData);
        }
        if (nullClass >= 0) n.put("null_class", nullClass);
        if (kind == Kind.CONSISTENCY_DDPM) {
            n.put("teacher_steps", teacherSteps);
            n.put("top_timestep", topTimestep);
            n.put("sigma_data", sigmaData);
        }
        Path tmp = folder.resolve(FILE + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
        Files.move(tmp, folder.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The lower-case name used on the command line and in objective.json. */
    public String label() { return kind.name().toLowerCase(Locale.ROOT); }
}
