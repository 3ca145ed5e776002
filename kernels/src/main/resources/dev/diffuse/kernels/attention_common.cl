/* attention_common.cl: defines and tile loader shared by attention.cl and attention_backward.cl (see attention.cl). */
#ifndef HEAD_DIM
#define HEAD_DIM 64
#endif
#ifndef DPAD
#define DPAD 64
#endif
#ifndef RM
#define RM 4
#endif
#ifndef CN
#define CN 2
#endif
#ifndef BR
#define BR 32
#endif
#ifndef BC
#define BC 32
#endif
#ifndef DC
#define DC DPAD
#endif

#define T 16
#ifndef TY
#define TY T            /* forward work-group rows; the backward always uses (T, T) */
#endif
#define DP1 (DPAD + 1)      /* padded local row stride: rows indexed by tx hit distinct banks */
#define DC1 (DC + 1)
#define DJ (DPAD / T)       /* output columns per thread */
#define NCHUNK (DPAD / DC)

/* rows [row0, row0 + rows) x columns [col0, col0 + cols) of a (N, D) matrix into dst (stride ld), zero-padded */
static void load_tile(__local float* dst, int ld, __global const float* src, int row0, int rows,
                      int col0, int cols, int n, int tid) {
    for (int e = tid; e < rows * cols; e += T * TY) {
        int r = e / cols, d = e - r * cols;
        int gr = row0 + r, gd = col0 + d;
        dst[r * ld + d] = (gr < n && gd < HEAD_DIM) ? src[gr * HEAD_DIM + gd] : 0.0f;
    }
}

