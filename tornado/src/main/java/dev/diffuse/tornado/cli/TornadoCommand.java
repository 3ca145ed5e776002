package dev.diffuse.tornado.cli;

import dev.diffuse.cli.DiffuseCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code diffuse <command> --device tornado}: the commands that run on the TornadoVM executor. The {@code ./diffuse}
 * launcher starts this class (with TornadoVM's argfile and {@code tornado/tornado.jvmflags}) instead of the usual CLI
 * when {@code --device tornado} is given and {@code TORNADOVM_HOME} is set; errors print one line, as the usual CLI.
 */
@Command(name = "diffuse", mixinStandardHelpOptions = true, version = "diffuse 0.1.0 (TornadoVM executor)",
        description = "The TornadoVM executor: DDIM sampling and the three-way benchmark (--device tornado).",
        subcommands = {TornadoSampleCommand.class, TornadoBenchCommand.class, CommandLine.HelpCommand.class})
public final class TornadoCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new TornadoCommand()), diffuse = DiffuseCommand.commandLine();
        cl.setExecutionExceptionHandler(diffuse.getExecutionExceptionHandler());
        cl.setParameterExceptionHandler(diffuse.getParameterExceptionHandler());
        System.exit(cl.execute(args));
    }

    /** The TornadoVM device the plans run on (TornadoVM's default device), e.g. "Portable Computing Language: pthread-...". */
    static String deviceName() {
        var d = uk.ac.manchester.tornado.api.TornadoExecutionPlan.DEFAULT_DEVICE;
        return d.getPlatformName().trim() + ": " + d.getPhysicalDevice().getDeviceName().trim();
    }
}
