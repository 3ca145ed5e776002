package dev.diffuse.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code diffuse} command: {@code diffuse sample}, {@code diffuse devices}. */
@Command(name = "diffuse", mixinStandardHelpOptions = true, version = "diffuse 0.1.0",
        description = "Diffusion models on GPUs through hand-written OpenCL kernels, with a pure-Java reference device.",
        subcommands = {SampleCommand.class, TrainCommand.class, ForwardCommand.class, LikelihoodCommand.class, DevicesCommand.class, BenchCommand.class, TuneCommand.class, EvalSamplersCommand.class, CommandLine.HelpCommand.class})
public final class DiffuseCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: errors print one clear line (and the usage for bad options), not a stack trace. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new DiffuseCommand());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof java.io.IOException) {
                String msg = switch (e) {
                    case java.nio.file.NoSuchFileException nf -> "no such file or folder: " + nf.getFile();
                    case java.nio.file.AccessDeniedException ad -> "permission denied: " + ad.getFile();
                    default -> e.getMessage();
                };
                cmd.getErr().println("diffuse: " + msg);
                if (Boolean.getBoolean("diffuse.stacktrace")) e.printStackTrace(cmd.getErr());
                return 2;
            }
            throw e;
        });
        return cl;
    }
}
