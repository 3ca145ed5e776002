package dev.diffuse.runtime;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Devices for tests. {@link #openCl()} is the OpenCL device under test: the one {@code -Ddiffuse.device} names if
 * it is an OpenCL device (e.g. {@code cl:gpu} on a GPU host), else the first OpenCL device. With no OpenCL platform
 * the test is skipped, unless {@code -Ddiffuse.requireOpenCL=true} (CI), which turns that into a failure.
 */
public final class TestDevices {
    private TestDevices() {}

    public static JavaDevice java() { return JavaDevice.get(); }

    public static ClDevice openCl() {
        String spec = System.getProperty("diffuse.device", "auto");
        if (spec.startsWith("cl")) {
            Device d = Devices.select(spec);
            return (ClDevice) d;
        }
        var cl = Devices.firstOpenCl();
        if (cl.isEmpty()) {
            String why = "no OpenCL device: " + Devices.openClProblem();
            if (Boolean.getBoolean("diffuse.requireOpenCL")) Assertions.fail(why + " (and -Ddiffuse.requireOpenCL=true)");
            Assumptions.abort(why);
        }
        return cl.get();
    }
}
