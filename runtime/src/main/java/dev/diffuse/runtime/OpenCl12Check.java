package dev.diffuse.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds OpenCL C 2.0+ constructs in kernel source. NVIDIA's driver compiles OpenCL C 1.2 only, while PoCL (and
 * Intel, AMD) accept 2.0/3.0, so a kernel that uses one of these would pass CI on PoCL and fail on the first GPU.
 * {@code -cl-std=CL1.2} already makes PoCL's clang reject most of them, but which ones depends on the PoCL build (a
 * PoCL with {@code cl_khr_fp16} or sub-groups accepts those in 1.2 mode too), so this check reads the source itself:
 * <ul>
 *   <li>the generic address space ({@code __generic}, {@code to_global}/{@code to_local}/{@code to_private});
 *   <li>program-scope variables outside {@code __constant} (only {@code __constant} ones exist in 1.2);
 *   <li>C11 atomics ({@code atomic_int}, {@code atomic_fetch_add}, {@code memory_order_*}, ...; the 1.2
 *       {@code atomic_add}/{@code atom_add} family is fine);
 *   <li>sub-groups ({@code sub_group_*}, {@code get_sub_group_*}, {@code cl_khr_subgroups}, Intel's variants) and
 *       work-group collectives ({@code work_group_reduce_*}, {@code work_group_broadcast}, ...);
 *   <li>{@code cl_khr_fp16} and the {@code half} type in arithmetic ({@code vload_half}/{@code vstore_half} are 1.2
 *       core and allowed), device-side enqueue, pipes, {@code read_write} images, {@code ctz}.
 * </ul>
 * Comments and string literals are ignored; preprocessor lines are scanned for the words above (a {@code #define}
 * that names a sub-group function is as bad as a call) but not for program-scope variables.
 */
public final class OpenCl12Check {
    /** One finding: 1-based line of the (include-expanded) source, what it is, and the line's text. */
    public record Violation(int line, String construct, String text) {
        @Override public String toString() { return "line " + line + ": " + construct + ": " + text.strip(); }
    }

    private record Rule(Pattern pattern, String construct) {}

    private static final List<Rule> RULES = List.of(
            rule("\\b__generic\\b|\\bgeneric\\b|\\bto_(global|local|private)\\s*\\(|\\bget_fence\\s*\\(",
                    "generic address space (OpenCL C 2.0)"),
            rule("\\batomic_(int|uint|long|ulong|float|double|flag|intptr_t|uintptr_t|size_t|ptrdiff_t)\\b"
                    + "|\\batomic_(load|store|exchange|compare_exchange_\\w+|fetch_\\w+|init|work_item_fence|flag_\\w+)\\b"
                    + "|\\bmemory_(order|scope)\\w*", "C11 atomics (OpenCL C 2.0)"),
            rule("\\b(get_)?sub_group_\\w+|\\bget_(num|max|enqueued_num)_sub_groups?\\w*|\\bcl_(khr|intel)_subgroups\\b"
                    + "|\\bintel_sub_group\\w*|reqd_sub_group_size", "sub-groups (OpenCL C 2.1 / extension NVIDIA lacks)"),
            rule("\\bwork_group_(reduce|scan_inclusive|scan_exclusive|broadcast|all|any)\\w*",
                    "work-group collective functions (OpenCL C 2.0)"),
            rule("\\bcl_khr_fp16\\b|\\bhalf(2|3|4|8|16)?\\b", "half precision (cl_khr_fp16, which NVIDIA's OpenCL lacks)"),
            rule("\\benqueue_kernel\\b|\\bget_default_queue\\b|\\bndrange_[123]D\\b|\\bclk_event_t\\b|\\bqueue_t\\b",
                    "device-side enqueue (OpenCL C 2.0)"),
            rule("\\bpipe\\b|\\b(read|write)_pipe\\b|\\breserve_id_t\\b", "pipes (OpenCL C 2.0)"),
            rule("\\b__read_write\\b|\\bread_write\\b", "read_write images (OpenCL C 2.0)"),
            rule("\\bctz\\s*\\(", "ctz (OpenCL C 2.0 built-in)"));

    private static final Pattern CONSTANT = Pattern.compile("\\b(__constant|constant)\\b");
    private static final Pattern TAG_ONLY = Pattern.compile("^(struct|union|enum)\\b[^=;]*(\\{\\})?$");

    private OpenCl12Check() {}

    private static Rule rule(String regex, String construct) { return new Rule(Pattern.compile(regex), construct); }

    /** Every 2.0+ construct in {@code source}, in line order (empty: the source is OpenCL C 1.2). */
    public static List<Violation> scan(String source) {
        String code = stripCommentsAndStrings(source);
        String[] original = source.split("\n", -1), lines = code.split("\n", -1);
        List<Violation> out = new ArrayList<>();
        for (int i = 0; i < lines.length; i++)
            for (Rule r : RULES) {
                Matcher m = r.pattern.matcher(lines[i]);
                if (m.find()) out.add(new Violation(i + 1, r.construct + " '" + m.group() + "'", original[i]));
            }
        for (int line : programScopeVariables(lines))
            out.add(new Violation(line, "program-scope variable outside __constant (OpenCL C 2.0)", original[line - 1]));
        out.sort(java.util.Comparator.comparingInt(Violation::line));
        return out;
    }

    /** Throws {@link ClBuildException} naming {@code resource} and every finding when the source is not OpenCL C 1.2. */
    public static void require(String resource, String source) {
        List<Violation> v = scan(source);
        if (v.isEmpty()) return;
        StringBuilder sb = new StringBuilder("OpenCL source " + resource + " uses OpenCL C 2.0+ features, which NVIDIA's "
                + "OpenCL 1.2 compiler rejects (strict mode, -Ddiffuse.strict=true); rewrite them in OpenCL C 1.2:");
        for (Violation x : v) sb.append("\n  ").append(x);
        throw new ClBuildException(sb.toString());
    }

    /** Blanks comments and the insides of string/char literals, keeping every newline (so line numbers hold). */
    static String stripCommentsAndStrings(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                while (i < n && s.charAt(i) != '\n') i++;
                if (i < n) out.append('\n');
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                i += 2;
                while (i < n && !(s.charAt(i) == '*' && i + 1 < n && s.charAt(i + 1) == '/')) {
                    if (s.charAt(i) == '\n') out.append('\n');
                    i++;
                }
                i++;
                out.append(' ');
            } else if (c == '"' || c == '\'') {
                out.append(c);
                for (i++; i < n && s.charAt(i) != c && s.charAt(i) != '\n'; i++) if (s.charAt(i) == '\\') i++;
                out.append(c);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Lines of declarations at file scope that are neither functions, prototypes, typedefs, tag declarations nor
     * {@code __constant}: in OpenCL C 1.2 a program-scope variable must be {@code __constant}. Preprocessor lines
     * (with their continuations) are skipped; function bodies are skipped by brace depth.
     */
    static List<Integer> programScopeVariables(String[] lines) {
        List<Integer> out = new ArrayList<>();
        StringBuilder stmt = new StringBuilder();
        int depth = 0, parens = 0, stmtLine = -1;
        boolean inFunction = false, continuation = false;
        for (int li = 0; li < lines.length; li++) {
            String line = lines[li];
            boolean directive = continuation || line.stripLeading().startsWith("#");
            continuation = directive && line.stripTrailing().endsWith("\\");
            if (directive) continue;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (depth == 0 && stmtLine < 0 && !Character.isWhitespace(c)) stmtLine = li + 1;
                switch (c) {
                    case '{' -> {
                        if (depth == 0) inFunction = parens == 0 && stmt.indexOf("(") >= 0 && stmt.indexOf("=") < 0;
                        depth++;
                    }
                    case '}' -> {
                        depth = Math.max(0, depth - 1);
                        if (depth == 0) {
                            if (inFunction) { stmt.setLength(0); stmtLine = -1; inFunction = false; }
                            else stmt.append("{}");
                        }
                    }
                    case '(' -> { if (depth == 0) { parens++; stmt.append(c); } }
                    case ')' -> { if (depth == 0) { parens = Math.max(0, parens - 1); stmt.append(c); } }
                    case ';' -> {
                        if (depth == 0 && parens == 0) {
                            if (isVariable(stmt.toString().strip())) out.add(stmtLine);
                            stmt.setLength(0);
                            stmtLine = -1;
                        }
                    }
                    default -> { if (depth == 0) stmt.append(c); }
                }
            }
            if (depth == 0) stmt.append(' ');
        }
        return out;
    }

    private static boolean isVariable(String s) {
        if (s.isEmpty() || s.startsWith("typedef") || CONSTANT.matcher(s).find() || TAG_ONLY.matcher(s).matches()) return false;
        int paren = s.indexOf('('), eq = s.indexOf('=');
        return !(paren >= 0 && (eq < 0 || paren < eq)); // a '(' before any '=': a function prototype
    }
}
