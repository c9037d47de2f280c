using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// The dense kernel behind <see cref="Ops.Affine"/>: <c>Y = X · Wᵀ + b</c> with X (rows x k) and W
/// (n x k) both row-major, so every output is a dot product of two contiguous rows. Blocks of 4 rows
/// by 4 outputs share their loads (16 running dot products in vector registers), which is what makes
/// a 288-wide maxout layer compute-bound instead of load-bound.
/// </summary>
internal static class AffineKernel
{
    public static void Run(ReadOnlySpan<float> x, int rows, int k, ReadOnlySpan<float> w, int n, ReadOnlySpan<float> bias, Span<float> y)
    {
        if (x.Length < rows * k || w.Length < n * k || y.Length < rows * n || (!bias.IsEmpty && bias.Length < n))
        {
            throw new ArgumentException("affine: span lengths do not match the shapes");
        }

        ref var x0 = ref MemoryMarshal.GetReference(x);
        ref var w0 = ref MemoryMarshal.GetReference(w);
        var r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            var o = 0;
            for (; o + 4 <= n; o += 4)
            {
                Block4x4(ref x0, r, k, ref w0, o, bias, y, n);
            }

            for (; o < n; o++)
            {
                for (var rr = r; rr < r + 4; rr++)
                {
                    y[rr * n + o] = Dot(ref Unsafe.Add(ref x0, rr * k), ref Unsafe.Add(ref w0, o * k), k) + (bias.IsEmpty ? 0f : bias[o]);
                }
            }
        }

        for (; r < rows; r++)
        {
            for (var o = 0; o < n; o++)
            {
                y[r * n + o] = Dot(ref Unsafe.Add(ref x0, r * k), ref Unsafe.Add(ref w0, o * k), k) + (bias.IsEmpty ? 0f : bias[o]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ref float a, ref float b, int k)
    {
        var i = 0;
        var sum = 0f;
        if (Vector256.IsHardwareAccelerated && k >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= k; i += 8)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc);
            }

            sum = Vector256.Sum(acc);
        }

        for (; i < k; i++)
        {
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), sum);
        }

        return sum;
    }

    private static void Block4x4(ref float x0, int r, int k, ref float w0, int o, ReadOnlySpan<float> bias, Span<float> y, int n)
    {
        ref var xa = ref Unsafe.Add(ref x0, r * k);
        ref var xb = ref Unsafe.Add(ref xa, k);
        ref var xc = ref Unsafe.Add(ref xb, k);
        ref var xd = ref Unsafe.Add(ref xc, k);
        ref var wa = ref Unsafe.Add(ref w0, o * k);
        ref var wb = ref Unsafe.Add(ref wa, k);
        ref var wc = ref Unsafe.Add(ref wb, k);
        ref var wd = ref Unsafe.Add(ref wc, k);
        Span<float> sums = stackalloc float[16];
        var i = 0;
        if (Vector512.IsHardwareAccelerated && k >= 16)
        {
            i = Block4x4Wide(ref xa, ref xb, ref xc, ref xd, ref wa, ref wb, ref wc, ref wd, k, sums);
        }
        else if (Vector256.IsHardwareAccelerated && k >= 8)
        {
            Vector256<float> aa = default, ab = default, ac = default, ad = default;
            Vector256<float> ba = default, bb = default, bc = default, bd = default;
            Vector256<float> ca = default, cb = default, cc = default, cd = default;
            Vector256<float> da = default, db = default, dc = default, dd = default;
            for (; i + 8 <= k; i += 8)
            {
                var ui = (nuint)i;
                var va = Vector256.LoadUnsafe(ref wa, ui);
                var vb = Vector256.LoadUnsafe(ref wb, ui);
                var vc = Vector256.LoadUnsafe(ref wc, ui);
                var vd = Vector256.LoadUnsafe(ref wd, ui);
                var xv = Vector256.LoadUnsafe(ref xa, ui);
                aa = Vector256.FusedMultiplyAdd(xv, va, aa);
                ab = Vector256.FusedMultiplyAdd(xv, vb, ab);
                ac = Vector256.FusedMultiplyAdd(xv, vc, ac);
                ad = Vector256.FusedMultiplyAdd(xv, vd, ad);
                xv = Vector256.LoadUnsafe(ref xb, ui);
                ba = Vector256.FusedMultiplyAdd(xv, va, ba);
                bb = Vector256.FusedMultiplyAdd(xv, vb, bb);
                bc = Vector256.FusedMultiplyAdd(xv, vc, bc);
                bd = Vector256.FusedMultiplyAdd(xv, vd, bd);
                xv = Vector256.LoadUnsafe(ref xc, ui);
                ca = Vector256.FusedMultiplyAdd(xv, va, ca);
                cb = Vector256.FusedMultiplyAdd(xv, vb, cb);
                cc = Vector256.FusedMultiplyAdd(xv, vc, cc);
                cd = Vector256.FusedMultiplyAdd(xv, vd, cd);
                xv = Vector256.LoadUnsafe(ref xd, ui);
                da = Vector256.FusedMultiplyAdd(xv, va, da);
                db = Vector256.FusedMultiplyAdd(xv, vb, db);
                dc = Vector256.FusedMultiplyAdd(xv, vc, dc);
                dd = Vector256.FusedMultiplyAdd(xv, vd, dd);
            }

            sums[0] = Vector256.Sum(aa); sums[1] = Vector256.Sum(ab); sums[2] = Vector256.Sum(ac); sums[3] = Vector256.Sum(ad);
            sums[4] = Vector256.Sum(ba); sums[5] = Vector256.Sum(bb); sums[6] = Vector256.Sum(bc); sums[7] = Vector256.Sum(bd);
            sums[8] = Vector256.Sum(ca); sums[9] = Vector256.Sum(cb); sums[10] = Vector256.Sum(cc); sums[11] = Vector256.Sum(cd);
            sums[12] = Vector256.Sum(da); sums[13] = Vector256.Sum(db); sums[14] = Vector256.Sum(dc); sums[15] = Vector256.Sum(dd);
        }

        for (; i < k; i++)
        {
            for (var rr = 0; rr < 4; rr++)
            {
                var xv = Unsafe.Add(ref x0, (r + rr) * k + i);
                for (var oo = 0; oo < 4; oo++)
                {
                    sums[rr * 4 + oo] = MathF.FusedMultiplyAdd(xv, Unsafe.Add(ref w0, (o + oo) * k + i), sums[rr * 4 + oo]);
                }
            }
        }

        for (var rr = 0; rr < 4; rr++)
        {
            var row = y.Slice((r + rr) * n + o, 4);
            for (var oo = 0; oo < 4; oo++)
            {
                row[oo] = sums[rr * 4 + oo] + (bias.IsEmpty ? 0f : bias[o + oo]);
            }
        }
    }

    // The 4x4 block with 512-bit vectors (where the CPU has AVX-512): 16 accumulators, 8 loads per step.
    private static int Block4x4Wide(ref float xa, ref float xb, ref float xc, ref float xd, ref float wa, ref float wb, ref float wc, ref float wd, int k, Span<float> sums)
    {
        Vector512<float> aa = default, ab = default, ac = default, ad = default;
        Vector512<float> ba = default, bb = default, bc = default, bd = default;
        Vector512<float> ca = default, cb = default, cc = default, cd = default;
        Vector512<float> da = default, db = default, dc = default, dd = default;
        var i = 0;
        for (; i + 16 <= k; i += 16)
        {
            var ui = (nuint)i;
            var va = Vector512.LoadUnsafe(ref wa, ui);
            var vb = Vector512.LoadUnsafe(ref wb, ui);
            var vc = Vector512.LoadUnsafe(ref wc, ui);
            var vd = Vector512.LoadUnsafe(ref wd, ui);
            var xv = Vector512.LoadUnsafe(ref xa, ui);
            aa = Vector512.FusedMultiplyAdd(xv, va, aa);
            ab = Vector512.FusedMultiplyAdd(xv, vb, ab);
            ac = Vector512.FusedMultiplyAdd(xv, vc, ac);
            ad = Vector512.FusedMultiplyAdd(xv, vd, ad);
            xv = Vector512.LoadUnsafe(ref xb, ui);
            ba = Vector512.FusedMultiplyAdd(xv, va, ba);
            bb = Vector512.FusedMultiplyAdd(xv, vb, bb);
            bc = Vector512.FusedMultiplyAdd(xv, vc, bc);
            bd = Vector512.FusedMultiplyAdd(xv, vd, bd);
            xv = Vector512.LoadUnsafe(ref xc, ui);
            ca = Vector512.FusedMultiplyAdd(xv, va, ca);
            cb = Vector512.FusedMultiplyAdd(xv, vb, cb);
            cc = Vector512.FusedMultiplyAdd(xv, vc, cc);
            cd = Vector512.FusedMultiplyAdd(xv, vd, cd);
            xv = Vector512.LoadUnsafe(ref xd, ui);
            da = Vector512.FusedMultiplyAdd(xv, va, da);
            db = Vector512.FusedMultiplyAdd(xv, vb, db);
            dc = Vector512.FusedMultiplyAdd(xv, vc, dc);
            dd = Vector512.FusedMultiplyAdd(xv, vd, dd);
        }

        sums[0] = Vector512.Sum(aa); sums[1] = Vector512.Sum(ab); sums[2] = Vector512.Sum(ac); sums[3] = Vector512.Sum(ad);
        sums[4] = Vector512.Sum(ba); sums[5] = Vector512.Sum(bb); sums[6] = Vector512.Sum(bc); sums[7] = Vector512.Sum(bd);
        sums[8] = Vector512.Sum(ca); sums[9] = Vector512.Sum(cb); sums[10] = Vector512.Sum(cc); sums[11] = Vector512.Sum(cd);
        sums[12] = Vector512.Sum(da); sums[13] = Vector512.Sum(db); sums[14] = Vector512.Sum(dc); sums[15] = Vector512.Sum(dd);
        return i;
    }
}
