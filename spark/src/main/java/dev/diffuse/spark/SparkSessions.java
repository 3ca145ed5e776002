package dev.diffuse.spark;

import org.apache.spark.sql.SparkSession;

/** Spark sessions for the CLI and tests: local mode on the loopback interface, no web UI, few shuffle partitions. */
public final class SparkSessions {
    private SparkSessions() {}

    /**
     * A session with {@code master} (e.g. "local[2]", or "local[2,3]": 2 threads, a task may fail 3 times). For a
     * cluster, run the job with spark-submit instead; its session comes from the cluster's configuration.
     */
    public static SparkSession local(String master, String appName) {
        if (!master.startsWith("local"))
            throw new IllegalArgumentException("--master " + master + ": the diffuse command runs Spark in local mode (local, local[N], local[*], "
                    + "local[N,F]); for a cluster use spark-submit with diffuse-spark.jar (see the README)");
        return SparkSession.builder().master(master).appName(appName)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "8")
                .getOrCreate();
    }
}
