package dev.diffuse.cli;

import java.io.PrintWriter;

import dev.diffuse.runtime.Debug;
import dev.diffuse.runtime.MemoryBudget;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code diffuse} command: {@code diffuse sample}, {@code diffuse train}, {@code diffuse devices}, ... */
@Command(name = "diffuse", mixinStandardHelpOptions = true, version = "diffuse 0.1.0",
        description = "Diffusion models on GPUs through hand-written OpenCL kernels, with a pure-Java reference device.",
        footer = {"", "On Apache Spark (through the ./diffuse launcher, which adds Spark to the class path; see the README):",
                "  generate   generate a Parquet data set, the same bits at any cluster size",
                "  evaluate   sliced-W2, class counts and bits/dim of a data set, split across executors"},
        subcommands = {SampleCommand.class, ServeCommand.class, LoadTestCommand.class, TrainCommand.class, TrainVaeCommand.class, DistillCommand.class, EvalFastCommand.class, ForwardCommand.class, LikelihoodCommand.class, DevicesCommand.class, BenchCommand.class, TuneCommand.class, EvalSamplersCommand.class, CommandLine.HelpCommand.class})
public final class DiffuseCommand implements Runnable {
    /** Exit code of every failure after parsing (bad input, missing files, budgets, diverged training, internal errors). */
    public static final int FAILED = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "on failure, print the stack trace after the one-line message (as -Ddiffuse.debug=1 does)")
    boolean debug;

    @Option(names = "--max-memory", scope = ScopeType.INHERIT, paramLabel = "SIZE", converter = SizeConverter.class,
            description = "most memory Diffuse may hold on the device, e.g. 4g or 512m; requests over it are refused before "
                    + "allocating (default: 80%% of available RAM on the Java device, 90%% of an OpenCL device's memory; "
                    + "also -Ddiffuse.maxMemory=SIZE or DIFFUSE_MAX_MEMORY)")
    Long maxMemory;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line. Every failure of a command prints one line naming the cause (and the file) and
     * exits with {@link #FAILED}: the exception handler catches everything a command throws, OutOfMemoryError
     * included; a bad option prints picocli's message and where the help is.
     */
    public static CommandLine commandLine() {
        DiffuseCommand root = new DiffuseCommand();
        CommandLine cl = new CommandLine(root);
        cl.setExecutionStrategy(parsed -> {
            MemoryBudget.setLimit(root.maxMemory);
            try {
                return new CommandLine.RunLast().execute(parsed);
            } catch (Error e) { // OutOfMemoryError, StackOverflowError: picocli lets Errors through
                CommandLine.ParseResult leaf = parsed;
                while (leaf.hasSubcommand()) leaf = leaf.subcommand();
                throw new CommandLine.ExecutionException(leaf.commandSpec().commandLine(), String.valueOf(e.getMessage()), e);
            } finally {
                MemoryBudget.setLimit(null);
            }
        });
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println("diffuse: " + Failures.oneLine(e.getMessage()) + " (see 'diffuse " + cmd.getCommandSpec().qualifiedName(" ")
                    .replaceFirst("^diffuse ?", "") + (cmd.getCommandSpec().parent() == null ? "" : " ") + "--help')");
            err.flush();
            return FAILED;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println("diffuse: " + Failures.describe(e));
            if (root.debug || Debug.level() >= 1 || Boolean.getBoolean("diffuse.stacktrace")) Failures.cause(e).printStackTrace(err);
            err.flush();
            return FAILED;
        });
        return cl;
    }

    /** Parses --max-memory sizes (512m, 2g, 1.5GiB, bytes). */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return MemoryBudget.parseSize(value, "--max-memory");
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
