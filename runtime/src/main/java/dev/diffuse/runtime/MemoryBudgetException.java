package dev.diffuse.runtime;

/**
 * A request would take more memory than {@link MemoryBudget} allows; thrown before anything is allocated, so nothing
 * is left half-built. The message gives the estimate, the limit and the way out.
 */
public final class MemoryBudgetException extends IllegalStateException {
    public MemoryBudgetException(String message) { super(message); }
}
