package dev.diffuse.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;

import dev.diffuse.runtime.MemoryBudget;
import picocli.CommandLine;

/**
 * The one line a user sees when a command fails, whatever failed: bad input and missing files say what was wrong (and
 * the file), an OutOfMemoryError says which budget to lower, and anything unexpected is named as an internal error
 * with its cause. The CLI prints it after "diffuse: " and exits with code 2; {@code --debug} adds the stack trace.
 */
final class Failures {
    /** Longest line printed; longer messages (e.g. every missing tensor of a checkpoint) are cut with a count. */
    static final int MAX_LINE = 2000;

    private Failures() {}

    /** The failure behind wrappers (picocli's ExecutionException, UncheckedIOException, ...). */
    static Throwable cause(Throwable t) {
        Throwable c = t;
        for (int i = 0; i < 8 && c.getCause() != null && isWrapper(c); i++) c = c.getCause();
        return c;
    }

    private static boolean isWrapper(Throwable t) {
        return t instanceof CommandLine.ExecutionException || t instanceof UncheckedIOException
                || t instanceof java.util.concurrent.ExecutionException || t instanceof java.util.concurrent.CompletionException
                || t instanceof java.lang.reflect.InvocationTargetException
                || (t.getClass() == RuntimeException.class && (t.getMessage() == null || t.getMessage().equals(String.valueOf(t.getCause()))));
    }

    /** One line (no newlines) saying what failed. */
    static String describe(Throwable failure) {
        Throwable c = cause(failure);
        String msg = switch (c) {
            case OutOfMemoryError oom -> outOfMemory(oom);
            case StackOverflowError so -> "internal error: stack overflow (a bug: rerun with --debug for the stack trace and report it)";
            case NoSuchFileException nf -> "no such file or folder: " + nf.getFile();
            case AccessDeniedException ad -> "permission denied: " + ad.getFile();
            case FileAlreadyExistsException fe -> "already exists: " + fe.getFile();
            case DirectoryNotEmptyException de -> "folder is not empty: " + de.getFile();
            case NotDirectoryException nd -> "not a folder: " + nd.getFile();
            case FileSystemException fs -> fs.getFile() + ": " + (fs.getReason() != null ? fs.getReason() : "file system error")
                    + (fs.getOtherFile() != null ? " (" + fs.getOtherFile() + ")" : "");
            case JsonProcessingException jp -> json(jp);
            default -> expected(c) ? (c.getMessage() != null && !c.getMessage().isBlank() ? c.getMessage() : c.getClass().getSimpleName())
                    : "internal error: " + c.getClass().getSimpleName() + (c.getMessage() != null ? ": " + c.getMessage() : "")
                    + " (a bug: rerun with --debug for the stack trace and report it)";
        };
        return oneLine(msg);
    }

    /** Failures whose message is written for the user: bad input, files, state, budgets, OpenCL errors. */
    private static boolean expected(Throwable c) {
        return c instanceof IOException || c instanceof IllegalArgumentException || c instanceof IllegalStateException
                || c instanceof UnsupportedOperationException || c instanceof org.jocl.CLException;
    }

    /** Joins the lines of a message with "; " and cuts it at {@link #MAX_LINE} characters. */
    static String oneLine(String msg) {
        String s = msg.strip().replaceAll("\\s*\\R\\s*", "; ");
        return s.length() <= MAX_LINE ? s : s.substring(0, MAX_LINE) + " ... (" + (s.length() - MAX_LINE) + " more characters)";
    }

    private static String json(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        return "invalid JSON: " + e.getOriginalMessage()
                + (at != null && at.getLineNr() > 0 ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : "");
    }

    /** Which memory ran out and what to lower: the Java heap (-Xmx) or native memory (--max-memory). */
    static String outOfMemory(OutOfMemoryError e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        Runtime rt = Runtime.getRuntime();
        if (m.contains("Java heap") || m.contains("GC overhead") || m.contains("array size"))
            return String.format(Locale.ROOT, "out of memory in the Java heap (%s, limit %s): the request holds too much in host "
                    + "arrays. Lower --n or --batch, or give Java more heap (e.g. DIFFUSE_JAVA_OPTS=-Xmx16g ./diffuse ...)",
                    m, MemoryBudget.size(rt.maxMemory()));
        if (m.toLowerCase(Locale.ROOT).contains("direct buffer"))
            return "out of direct buffer memory (" + m + "): the JVM's -XX:MaxDirectMemorySize (by default the heap limit, "
                    + MemoryBudget.size(rt.maxMemory()) + ") is used up. Lower --n or --batch, or raise it (e.g. "
                    + "DIFFUSE_JAVA_OPTS=-XX:MaxDirectMemorySize=8g ./diffuse ...)";
        if (m.contains("thread"))
            return "out of memory: could not start a thread (" + m + "); lower the thread count (-Djava.util.concurrent.ForkJoinPool"
                    + ".common.parallelism=N) or the memory in use";
        return "out of native memory (" + (m.isEmpty() ? "allocation failed" : m) + "): lower --batch or --n, or set a lower "
                + "--max-memory so Diffuse refuses such requests before allocating (now " + MemoryBudget.size(
                MemoryBudget.configured() != null ? MemoryBudget.configured() : MemoryBudget.hostAvailableBytes()) + ")";
    }
}
