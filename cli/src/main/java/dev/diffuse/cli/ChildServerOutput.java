package dev.diffuse.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The output of a {@code diffuse serve} child process, read on its own thread (every line echoed) so that waiting for its
 * "listening on http://127.0.0.1:PORT" line is bounded in time even when the child prints nothing, and a child that
 * exits before it listens is reported with its exit status at once.
 * <pre>{@code
 * var out = new ChildServerOutput(server, line -> System.out.println("  server: " + line));
 * String url = out.awaitUrl(Duration.ofSeconds(120));   // e.g. http://127.0.0.1:41234
 * }</pre>
 */
final class ChildServerOutput {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");
    /** Put on the queue when the child's output ends (compared by identity). */
    private static final String END = new String("end of output");

    private final Process child;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Thread reader;
    /** After the URL is found, lines are only echoed, not queued (a long run must not pile them up). */
    private volatile boolean found;

    ChildServerOutput(Process child, Consumer<String> echo) {
        this.child = child;
        this.reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    echo.accept(line);
                    if (!found) lines.add(line);
                }
            } catch (IOException | UncheckedIOException e) {
                // the pipe closes when the child exits
            } finally {
                lines.add(END);
            }
        });
    }

    /**
     * The URL the child says it listens on; waits at most {@code limit}. Throws IllegalStateException when the time
     * passes first or when the child's output ends (it exited) before that line.
     */
    String awaitUrl(Duration limit) throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        for (long left; (left = until - System.nanoTime()) > 0; ) {
            String line = lines.poll(left, TimeUnit.NANOSECONDS);
            if (line == null) break;
            if (line == END) {
                String status = child.waitFor(10, TimeUnit.SECONDS) ? "exit status " + child.exitValue() : "its output closed";
                throw new IllegalStateException("the server stopped before it listened (" + status + "); its output is above");
            }
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                found = true;
                lines.clear();
                return m.group(1);
            }
        }
        throw new IllegalStateException("the server did not say where it listens within " + limit.toSeconds() + " s");
    }

    /** Waits at most {@code millis} for the child's output to end (after it exited). */
    void join(long millis) throws InterruptedException {
        reader.join(millis);
    }
}
