package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import picocli.CommandLine;

/**
 * The rule for flags given with {@code diffuse train --resume}: a resumed run continues as recorded in its checkpoint.
 * A flag that was not given takes the recorded value; one that agrees with it is fine; one that differs is refused,
 * naming both values, unless {@code --override} is given and the flag may change (data, batch, learning rate,
 * warm-up, EMA, seed: the next checkpoints then record the new values). The architecture and the objective never
 * change on resume: the weights would not fit.
 */
final class ResumeFlags {
    private final CommandLine.ParseResult parsed;
    private final boolean override;
    private final Path checkpoint;
    private final List<String> refused = new ArrayList<>(), fixed = new ArrayList<>();

    ResumeFlags(CommandLine.ParseResult parsed, boolean override, Path checkpoint) {
        this.parsed = parsed;
        this.override = override;
        this.checkpoint = checkpoint;
    }

    /** Whether {@code flag} was given on the command line (not a default). */
    boolean given(String flag) { return parsed.hasMatchedOption(flag); }

    /** The value to use for a flag that may change with --override. */
    <T> T pick(String flag, T given, T recorded) { return pick(flag, given, recorded, true); }

    /** The value to use for a flag that must stay as recorded (architecture, objective). */
    <T> T keep(String flag, T given, T recorded) { return pick(flag, given, recorded, false); }

    private <T> T pick(String flag, T given, T recorded, boolean changeable) {
        if (!given(flag) || same(given, recorded)) return recorded;
        String clash = flag + " " + text(recorded) + " (given " + text(given) + ")";
        if (!changeable) fixed.add(clash);
        else if (override) return given;
        else refused.add(clash);
        return recorded;
    }

    /** Throws one error listing every conflicting flag; does nothing when there is none. */
    void check() {
        if (fixed.isEmpty() && refused.isEmpty()) return;
        StringBuilder sb = new StringBuilder("--resume: ").append(checkpoint).append(" was trained with ");
        List<String> all = new ArrayList<>(fixed);
        all.addAll(refused);
        sb.append(String.join(", ", all)).append(". ");
        if (!fixed.isEmpty())
            sb.append("The model and objective cannot change when resuming (the weights would not fit); drop ")
                    .append(fixed.stream().map(f -> f.substring(0, f.indexOf(' '))).toList()).append(" or train into another --out. ");
        if (!refused.isEmpty())
            sb.append("Drop ").append(refused.stream().map(f -> f.substring(0, f.indexOf(' '))).toList())
                    .append(" to continue the run as recorded, or add --override to change ").append(refused.size() == 1 ? "it" : "them")
                    .append(" from here on.");
        throw new IllegalArgumentException(sb.toString().strip());
    }

    private static boolean same(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) return x.doubleValue() == y.doubleValue();
        if (a instanceof Path x && b instanceof Path y) return x.toAbsolutePath().normalize().equals(y.toAbsolutePath().normalize());
        return Objects.equals(a, b);
    }

    private static String text(Object v) {
        if (v instanceof Double d) return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : d.toString().toLowerCase(Locale.ROOT);
        return String.valueOf(v);
    }
}
