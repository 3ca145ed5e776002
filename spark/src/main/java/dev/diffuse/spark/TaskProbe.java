package dev.diffuse.spark;

import java.io.Serializable;

/**
 * Called on the executor before each image a task emits: a hook for fault-injection tests (throw on a task's first
 * attempt to see Spark retry it) and progress counters. The job's output must not depend on it.
 */
@FunctionalInterface
public interface TaskProbe extends Serializable {
    /** Nothing. */
    TaskProbe NONE = index -> {};

    void beforeImage(long index);
}
