package dev.diffuse.spark;

/** Spark wraps a task's exception in its own (job aborted, task failed while writing); users need the innermost reason. */
public final class Failures {
    private Failures() {}

    /** The message of the deepest cause that has one, e.g. "the model at ... has SHA-256 ... but the driver's has ...". */
    public static String rootMessage(Throwable e) {
        String msg = e.getMessage();
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause())
            if (c.getMessage() != null && !c.getMessage().isBlank()) msg = c.getMessage();
        return msg;
    }

    /** Every message in the cause chain, joined, for tests and logs. */
    public static String chain(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) b.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage()).append(" | ");
        return b.toString();
    }
}
