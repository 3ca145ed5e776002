package dev.diffuse.tornado.kernels;

/**
 * The tiling shared by {@link Conv2dTornado} and {@link LinearTornado} (that of {@code conv2d.cl} and
 * {@code linear.cl}): a work-group of WN x WM = 16 x 16 items computes a TM x TN = 64 x 64 tile of C = A B; per K step
 * of TK = 16 the group stages A (TM x TK) and B (TK x TN) in local memory as [TK][T+1] (the +1 keeps transposed stores
 * off one bank), and item (tx, ty) accumulates rows ty + i WM, columns tx + j WN of the tile (a 4 x 4 block) in a
 * private array: {@code acc[i RN + j] += sum_kq As[kq][ty + i WM] Bs[kq][tx + j WN]}.
 *
 * <p>Both kernels write that loop out: moved into a static helper taking the local and private arrays as arguments,
 * TornadoVM 5.2.1 compiled it to code that produced NaN or wrong values in every conv2d and linear test (a helper
 * taking only a private array, as {@code PhiloxTornado.block}, compiles correctly).
 */
final class TileGemm {
    static final int TM = 64, TN = 64, TK = 16, WM = 16, WN = 16;
    static final int WG = WM * WN, RM = TM / WM, RN = TN / WN, TM1 = TM + 1, TN1 = TN + 1;

    private TileGemm() {}
}
