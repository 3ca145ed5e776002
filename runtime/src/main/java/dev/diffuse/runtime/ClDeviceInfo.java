package dev.diffuse.runtime;

import java.util.List;

/**
 * What an OpenCL device reports about itself; {@code diffuse devices} prints these.
 *
 * @param platformIndex  index of the platform in clGetPlatformIDs order
 * @param deviceIndex    index of the device within its platform
 * @param isGpu          CL_DEVICE_TYPE_GPU
 * @param maxWorkGroup   CL_DEVICE_MAX_WORK_GROUP_SIZE, e.g. 1024
 * @param localMemBytes  CL_DEVICE_LOCAL_MEM_SIZE, e.g. 49152
 * @param baseAddrAlignBytes CL_DEVICE_MEM_BASE_ADDR_ALIGN / 8: sub-buffer offsets must be multiples of it
 */
public record ClDeviceInfo(
        int platformIndex, int deviceIndex, String platformName, String platformVersion, String name,
        String vendor, String driverVersion, String deviceVersion, String openclCVersion, boolean isGpu,
        int computeUnits, int maxClockMHz, long maxWorkGroup, long localMemBytes, long globalMemBytes,
        long maxAllocBytes, long baseAddrAlignBytes, boolean fp64, List<String> extensions) {

    public String id() { return "cl:" + platformIndex + ":" + deviceIndex; }

    /** Extensions a kernel author cares about, out of the long list the driver prints. */
    public List<String> notableExtensions() {
        return extensions.stream()
                .filter(e -> e.equals("cl_khr_fp16") || e.equals("cl_khr_fp64") || e.contains("subgroup")
                        || e.equals("cl_khr_int64_base_atomics") || e.equals("cl_khr_global_int32_base_atomics")
                        || e.startsWith("cl_nv_") || e.startsWith("cl_intel_") || e.startsWith("cl_amd_"))
                .toList();
    }
}
