package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;

import org.junit.jupiter.api.Test;

class OpenCl12CheckTest {

    private static void flags(String source, int line, String construct) {
        List<OpenCl12Check.Violation> v = OpenCl12Check.scan(source);
        assertFalse(v.isEmpty(), "expected '" + construct + "' to be found in:\n" + source);
        assertEquals(line, v.get(0).line(), v.toString());
        assertTrue(v.get(0).construct().contains(construct), v.toString());
    }

    @Test
    void findsEachOpenCl20Construct() {
        flags("static float f(__generic float* p) { return *p; }", 1, "generic address space");
        flags("__kernel void k(__global float* y) {\n  __global float* g = to_global(y);\n}", 2, "generic address space");
        flags("// scale\n__global float scale = 2.0f;\n__kernel void k(__global float* y) { y[0] = scale; }", 2, "program-scope variable");
        flags("static __global int counter;", 1, "program-scope variable");
        flags("float table[4];\n", 1, "program-scope variable");
        flags("__kernel void k(volatile __global atomic_int* c) { atomic_fetch_add(c, 1); }", 1, "C11 atomics");
        flags("__kernel void k(__global int* c) {\n atomic_store_explicit(c, 1, memory_order_relaxed);\n}", 2, "C11 atomics");
        flags("__kernel void k(__global float* y) {\n\n  y[0] = sub_group_reduce_add(y[0]);\n}", 3, "sub-groups");
        flags("#pragma OPENCL EXTENSION cl_khr_subgroups : enable", 1, "sub-groups");
        flags("__kernel void k(__global float* y) { y[0] = work_group_reduce_add(y[0]); }", 1, "work-group collective");
        flags("#pragma OPENCL EXTENSION cl_khr_fp16 : enable\n__kernel void k(__global half* y) {}", 1, "half precision");
        flags("__kernel void k(__global float* y) { half4 h; }", 1, "half precision");
        flags("__kernel void k(__global int* y) { y[0] = ctz(y[1]); }", 1, "ctz");
    }

    @Test
    void acceptsOpenCl12() {
        String ok = """
                // a comment naming sub_group_reduce_add, atomic_int and __generic is not code
                /* nor is this: __global float x; */
                #define SCALE 2.0f
                #define MACRO(x) \\
                    ((x) * SCALE)
                __constant float table[2] = {1.0f, 2.0f};
                constant int four = 4;
                typedef struct { float a, b; } pair_t;
                struct tagged { int n; };
                static float twice(float x);
                static inline float twice(float x) { return MACRO(x); }
                __kernel __attribute__((reqd_work_group_size(64, 1, 1)))
                void k(__global float* y, __global const float* x, __global int* counter) {
                    __local float tile[64];
                    float acc[4] = {0, 0, 0, 0};
                    tile[get_local_id(0)] = x[get_global_id(0)];
                    barrier(CLK_LOCAL_MEM_FENCE);
                    atomic_add(counter, 1);
                    vstore_half(acc[0], 0, (__global void*)0);
                    y[get_global_id(0)] = twice(tile[0]) + table[1] + vload_half(0, (__global const void*)0);
                    const char* s = "half sub_group_broadcast";
                }
                """;
        assertEquals(List.of(), OpenCl12Check.scan(ok));
    }

    @Test
    void requireNamesTheResourceAndEveryFinding() {
        var e = assertThrows(ClBuildException.class,
                () -> OpenCl12Check.require("x/bad.cl", "__global int g;\n__kernel void k(__global half* y) {}"));
        assertTrue(e.getMessage().contains("x/bad.cl") && e.getMessage().contains("line 1") && e.getMessage().contains("line 2"),
                e.getMessage());
    }

    @Test
    void runtimeSourcesAreOpenCl12() {
        for (String r : List.of("dev/diffuse/runtime/philox.cl", "dev/diffuse/runtime/rng.cl"))
            assertEquals(List.of(), OpenCl12Check.scan(KernelSources.load(r)), r);
    }
}
