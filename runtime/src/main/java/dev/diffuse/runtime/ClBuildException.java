package dev.diffuse.runtime;

/** An OpenCL program failed to compile; the message carries the driver's build log. */
public final class ClBuildException extends RuntimeException {
    public ClBuildException(String message) { super(message); }
}
