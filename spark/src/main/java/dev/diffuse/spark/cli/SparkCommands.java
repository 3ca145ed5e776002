package dev.diffuse.spark.cli;

import java.io.IOException;
import java.io.PrintWriter;

import org.apache.spark.sql.SparkSession;

import dev.diffuse.spark.Failures;
import dev.diffuse.spark.Manifest;
import dev.diffuse.spark.SparkSessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code diffuse generate} and {@code diffuse evaluate}: the Spark jobs as commands. In local mode ({@code --master
 * local[N]}) they start Spark inside this JVM (the {@code ./diffuse} launcher puts Spark on the class path for these two
 * commands only); under spark-submit the cluster's session is used and {@code --master} is left out.
 */
@Command(name = "diffuse", mixinStandardHelpOptions = true, versionProvider = SparkCommands.Version.class,
        description = "Generate and evaluate data sets on Apache Spark (local mode here, a cluster through spark-submit).",
        subcommands = {GenerateCommand.class, EvaluateCommand.class, CommandLine.HelpCommand.class})
public final class SparkCommands implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(System.out); }

    public static void main(String[] args) {
        if (System.getProperty("log4j2.configurationFile") == null)
            System.setProperty("log4j2.configurationFile", "dev/diffuse/spark/log4j2-cli.properties");
        System.exit(commandLine().execute(args));
    }

    /** The command line: a failure prints one line naming its reason (the innermost, not Spark's wrapper). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SparkCommands());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            String msg = e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof IOException
                    ? e.getMessage() : Failures.rootMessage(e);
            err.println("diffuse: " + msg);
            if (Boolean.getBoolean("diffuse.stacktrace")) e.printStackTrace(err);
            return 2;
        });
        return cl;
    }

    /** The session: local mode for {@code --master local...}; the cluster's when spark-submit started this JVM. */
    static SparkSession session(String master, String app) {
        if (master != null) return SparkSessions.local(master, app);
        if (System.getProperty("spark.master") != null) return SparkSession.builder().appName(app).getOrCreate();
        return SparkSessions.local("local[*]", app);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() { return new String[]{"diffuse " + Manifest.diffuseVersion() + " (Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION() + ")"}; }
    }
}
