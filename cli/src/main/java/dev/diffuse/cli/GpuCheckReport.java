package dev.diffuse.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * Gathers what scripts/gpu-check.sh left in its output folder into report.json and report.md: each step's exit code
 * and time (steps.tsv), the devices, the test counts (the JUnit XML, or the console tree when the suite was cut
 * short), the tuning report (tune/tune.json), the op benchmarks (bench/ops.json), and the sampling and training
 * times from their logs. Usage: {@code GpuCheckReport OUT DEVICE}.
 */
public final class GpuCheckReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GpuCheckReport() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: GpuCheckReport OUT DEVICE");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        Map<String, Object> r = build(out, args[1]);
        JSON.writeValue(out.resolve("report.json").toFile(), r);
        Files.writeString(out.resolve("report.md"), markdown(r), StandardCharsets.UTF_8);
    }

    static Map<String, Object> build(Path out, String device) throws IOException {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("device_spec", device);
        r.put("steps", steps(out.resolve("steps.tsv")));
        r.put("devices", text(out.resolve("devices.txt")));
        r.put("tests", tests(out));
        r.put("tune", json(out.resolve("tune/tune.json")));
        r.put("bench", json(out.resolve("bench/ops.json")));
        r.put("sample", firstMatch(out.resolve("sample.log"), "sampled: .*"));
        r.put("train", lastLines(out.resolve("train.log"), 4));
        return r;
    }

    private static List<Map<String, String>> steps(Path f) throws IOException {
        List<Map<String, String>> rows = new ArrayList<>();
        if (!Files.exists(f)) return rows;
        List<String> lines = Files.readAllLines(f);
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] c = line.split("\t");
            if (c.length < 4) continue;
            Map<String, String> m = new LinkedHashMap<>();
            m.put("step", c[0]);
            m.put("exit", c[1]);
            m.put("seconds", c[2]);
            m.put("limit", c[3]);
            m.put("status", c[1].equals("0") ? "ok" : c[1].equals("124") || c[1].equals("137") ? "timed out" : c[1].equals("-1") ? "skipped" : "failed");
            rows.add(m);
        }
        return rows;
    }

    /** Counts from the JUnit XML when the suite finished, else from the console tree (a suite cut short by its limit). */
    private static Map<String, Object> tests(Path out) throws IOException {
        Map<String, Object> t = new LinkedHashMap<>();
        Path xml = out.resolve("junit/TEST-junit-jupiter.xml");
        if (Files.exists(xml)) {
            String head = Files.readString(xml).lines().filter(l -> l.contains("<testsuite")).findFirst().orElse("");
            for (String k : new String[]{"tests", "failures", "errors", "skipped", "time"}) {
                Matcher m = Pattern.compile("\\b" + k + "=\"([^\"]*)\"").matcher(head);
                if (m.find()) t.put(k, m.group(1));
            }
            t.put("complete", true);
        } else if (Files.exists(out.resolve("tests.log"))) {
            String log = Files.readString(out.resolve("tests.log"));
            t.put("passed", count(log, "\u2714"));
            t.put("failed", count(log, "\u2718"));
            t.put("complete", false);
        }
        List<String> failed = new ArrayList<>();
        if (Files.exists(out.resolve("tests.log")))
            for (String l : Files.readAllLines(out.resolve("tests.log"))) if (l.contains("\u2718")) failed.add(l.strip());
        t.put("failed_tests", failed.subList(0, Math.min(40, failed.size())));
        return t;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
        return n;
    }

    private static JsonNode json(Path f) {
        try {
            return Files.exists(f) ? JSON.readTree(f.toFile()) : null;
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode("unreadable: " + e.getMessage());
        }
    }

    private static String text(Path f) throws IOException { return Files.exists(f) ? Files.readString(f) : null; }

    private static String firstMatch(Path f, String regex) throws IOException {
        if (!Files.exists(f)) return null;
        Pattern p = Pattern.compile(regex);
        for (String l : Files.readAllLines(f)) {
            Matcher m = p.matcher(l);
            if (m.find()) return m.group();
        }
        return null;
    }

    private static List<String> lastLines(Path f, int n) throws IOException {
        if (!Files.exists(f)) return List.of();
        List<String> l = Files.readAllLines(f).stream().filter(s -> !s.isBlank()).toList();
        return l.subList(Math.max(0, l.size() - n), l.size());
    }

    @SuppressWarnings("unchecked")
    static String markdown(Map<String, Object> r) {
        StringBuilder md = new StringBuilder("# GPU check (" + r.get("device_spec") + ")\n\n| step | status | seconds | limit |\n|---|---|---|---|\n");
        for (Map<String, String> s : (List<Map<String, String>>) r.get("steps"))
            md.append(String.format(Locale.ROOT, "| %s | %s (exit %s) | %s | %s |%n", s.get("step"), s.get("status"), s.get("exit"),
                    s.get("seconds"), s.get("limit")));
        md.append("\n## Tests\n\n").append(r.get("tests")).append("\n");
        JsonNode tune = (JsonNode) r.get("tune");
        if (tune != null && tune.has("model_timings_ms")) {
            md.append("\n## U-Net timings (ms, median)\n\n").append("Device: ").append(tune.path("device").asText()).append(", driver ")
                    .append(tune.path("driver").asText()).append("\n\n| batch | forward default | forward tuned | forward Java | fwd+bwd default | fwd+bwd tuned | fwd+bwd Java |\n|---|---|---|---|---|---|---|\n");
            for (JsonNode m : tune.path("model_timings_ms"))
                md.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n", m.path("batch").asInt(),
                        m.path("fwdDefault").asDouble(), m.path("fwdTuned").asDouble(), m.path("fwdJava").asDouble(),
                        m.path("trainDefault").asDouble(), m.path("trainTuned").asDouble(), m.path("trainJava").asDouble()));
            md.append("\n| op | shape | default ms | tuned ms | speedup | params |\n|---|---|---|---|---|---|\n");
            for (JsonNode o : tune.path("ops"))
                md.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.2f | %s |%n", o.path("op").asText(), o.path("shape").asText(),
                        o.path("default_ms").asDouble(), o.path("tuned_ms").asDouble(), o.path("speedup").asDouble(), o.path("params").asText()));
        }
        JsonNode bench = (JsonNode) r.get("bench");
        if (bench != null) md.append("\n## Op benchmarks\n\n```\n").append(bench.toPrettyString(), 0, Math.min(6000, bench.toPrettyString().length())).append("\n```\n");
        md.append("\n## Sampling\n\n").append(r.get("sample")).append("\n\n## Training (40 steps, batch 64)\n\n```\n");
        for (String l : (List<String>) r.get("train")) md.append(l).append('\n');
        md.append("```\n");
        return md.toString();
    }
}
