package dev.diffuse.runtime;

/**
 * {@code -Ddiffuse.debug=1} logs device choice and program compile times; {@code =2} also logs every kernel
 * launch with its sizes and event time (the queue is then created with profiling enabled).
 */
public final class Debug {
    private Debug() {}

    public static int level() {
        try {
            return Integer.parseInt(System.getProperty("diffuse.debug", "0").trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public static void log(int atLevel, String message) {
        if (level() >= atLevel) System.err.println("[diffuse] " + message);
    }
}
