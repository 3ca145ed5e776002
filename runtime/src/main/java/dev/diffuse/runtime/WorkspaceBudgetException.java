package dev.diffuse.runtime;

/** A {@link Workspace} was asked for more bytes than its budget allows. */
public final class WorkspaceBudgetException extends IllegalStateException {
    public WorkspaceBudgetException(String message) { super(message); }
}
