using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A weight matrix prepared once, at load time, for <see cref="Multiply"/>: thinc's W (nO x nI) stored
/// transposed (nI x stride, the outputs padded with zeros to a whole number of vector blocks), so that
/// each step of the kernel broadcasts one input value and multiplies it into a run of outputs. Unlike
/// a dot-product kernel this needs no horizontal sums, which is what makes the tok2vec's 288-wide
/// maxout layers run near the CPU's multiply-add rate.
/// </summary>
internal sealed class DenseWeights
{
    private const int Block = 32;

    private readonly float[] _transposed;
    private readonly float[] _bias;

    private DenseWeights(int outputs, int inputs, int stride, float[] transposed, float[] bias)
    {
        Outputs = outputs;
        Inputs = inputs;
        Stride = stride;
        _transposed = transposed;
        _bias = bias;
    }

    public int Outputs { get; }

    public int Inputs { get; }

    private int Stride { get; }

    /// <summary>Prepares <paramref name="w"/> (nO x nI, row-major as thinc stores it) and its bias (empty for none).</summary>
    public static DenseWeights From(ReadOnlySpan<float> w, int outputs, int inputs, ReadOnlySpan<float> bias)
    {
        var stride = (outputs + Block - 1) / Block * Block;
        var transposed = new float[inputs * stride];
        for (var o = 0; o < outputs; o++)
        {
            for (var i = 0; i < inputs; i++)
            {
                transposed[(i * stride) + o] = w[(o * inputs) + i];
            }
        }

        var padded = new float[stride];
        if (!bias.IsEmpty)
        {
            bias.CopyTo(padded);
        }

        return new DenseWeights(outputs, inputs, stride, transposed, padded);
    }

    /// <summary><c>y = x · Wᵀ + b</c> for <paramref name="rows"/> rows of x (rows x nI) into y (rows x nO).</summary>
    public void Multiply(ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        if (x.Length < rows * Inputs || y.Length < rows * Outputs)
        {
            throw new ArgumentException("dense: span lengths do not match the shapes");
        }

        Span<float> tail = stackalloc float[4 * Block];
        for (var r = 0; r < rows; r += 4)
        {
            var count = Math.Min(4, rows - r);
            for (var o = 0; o < Stride; o += Block)
            {
                var width = Math.Min(Block, Outputs - o);
                if (count == 4 && width == Block)
                {
                    Kernel(x, r, count, o, y.Slice((r * Outputs) + o), Outputs);
                }
                else
                {
                    Kernel(x, r, count, o, tail, Block);
                    for (var rr = 0; rr < count; rr++)
                    {
                        tail.Slice(rr * Block, width).CopyTo(y.Slice(((r + rr) * Outputs) + o, width));
                    }
                }
            }
        }
    }

    // Up to 4 rows x 32 outputs: 8 accumulators of 8 floats (or 4 of 16 with AVX-512), one broadcast
    // per row and input. Rows past count read row 0 again (their results are not stored).
    private void Kernel(ReadOnlySpan<float> x, int r, int count, int o, Span<float> y, int yStride)
    {
        ref var x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), r * Inputs);
        ref var x1 = ref Unsafe.Add(ref x0, count > 1 ? Inputs : 0);
        ref var x2 = ref Unsafe.Add(ref x0, count > 2 ? 2 * Inputs : 0);
        ref var x3 = ref Unsafe.Add(ref x0, count > 3 ? 3 * Inputs : 0);
        ref var w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_transposed), o);
        ref var b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_bias), o);
        var stride = (nuint)Stride;
        if (Vector512.IsHardwareAccelerated)
        {
            var b0 = Vector512.LoadUnsafe(ref b);
            var b1 = Vector512.LoadUnsafe(ref b, 16);
            Vector512<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
            for (var i = 0; i < Inputs; i++)
            {
                var offset = (nuint)i * stride;
                var w0 = Vector512.LoadUnsafe(ref w, offset);
                var w1 = Vector512.LoadUnsafe(ref w, offset + 16);
                var v = Vector512.Create(Unsafe.Add(ref x0, i));
                a00 = Vector512.FusedMultiplyAdd(v, w0, a00);
                a01 = Vector512.FusedMultiplyAdd(v, w1, a01);
                v = Vector512.Create(Unsafe.Add(ref x1, i));
                a10 = Vector512.FusedMultiplyAdd(v, w0, a10);
                a11 = Vector512.FusedMultiplyAdd(v, w1, a11);
                v = Vector512.Create(Unsafe.Add(ref x2, i));
                a20 = Vector512.FusedMultiplyAdd(v, w0, a20);
                a21 = Vector512.FusedMultiplyAdd(v, w1, a21);
                v = Vector512.Create(Unsafe.Add(ref x3, i));
                a30 = Vector512.FusedMultiplyAdd(v, w0, a30);
                a31 = Vector512.FusedMultiplyAdd(v, w1, a31);
            }

            ref var y0 = ref MemoryMarshal.GetReference(y);
            a00.StoreUnsafe(ref y0);
            a01.StoreUnsafe(ref y0, 16);
            if (count > 1)
            {
                a10.StoreUnsafe(ref y0, (nuint)yStride);
                a11.StoreUnsafe(ref y0, (nuint)yStride + 16);
            }

            if (count > 2)
            {
                a20.StoreUnsafe(ref y0, (nuint)(2 * yStride));
                a21.StoreUnsafe(ref y0, (nuint)(2 * yStride) + 16);
            }

            if (count > 3)
            {
                a30.StoreUnsafe(ref y0, (nuint)(3 * yStride));
                a31.StoreUnsafe(ref y0, (nuint)(3 * yStride) + 16);
            }

            return;
        }

        for (var half = 0; half < Block; half += 16)
        {
            var c0 = Vector256.LoadUnsafe(ref b, (nuint)half);
            var c1 = Vector256.LoadUnsafe(ref b, (nuint)half + 8);
            Vector256<float> a00 = c0, a01 = c1, a10 = c0, a11 = c1, a20 = c0, a21 = c1, a30 = c0, a31 = c1;
            for (var i = 0; i < Inputs; i++)
            {
                var offset = ((nuint)i * stride) + (nuint)half;
                var w0 = Vector256.LoadUnsafe(ref w, offset);
                var w1 = Vector256.LoadUnsafe(ref w, offset + 8);
                var v = Vector256.Create(Unsafe.Add(ref x0, i));
                a00 = Vector256.FusedMultiplyAdd(v, w0, a00);
                a01 = Vector256.FusedMultiplyAdd(v, w1, a01);
                v = Vector256.Create(Unsafe.Add(ref x1, i));
                a10 = Vector256.FusedMultiplyAdd(v, w0, a10);
                a11 = Vector256.FusedMultiplyAdd(v, w1, a11);
                v = Vector256.Create(Unsafe.Add(ref x2, i));
                a20 = Vector256.FusedMultiplyAdd(v, w0, a20);
                a21 = Vector256.FusedMultiplyAdd(v, w1, a21);
                v = Vector256.Create(Unsafe.Add(ref x3, i));
                a30 = Vector256.FusedMultiplyAdd(v, w0, a30);
                a31 = Vector256.FusedMultiplyAdd(v, w1, a31);
            }

            ref var y0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), half);
            a00.StoreUnsafe(ref y0);
            a01.StoreUnsafe(ref y0, 8);
            if (count > 1)
            {
                a10.StoreUnsafe(ref y0, (nuint)yStride);
                a11.StoreUnsafe(ref y0, (nuint)yStride + 8);
            }

            if (count > 2)
            {
                a20.StoreUnsafe(ref y0, (nuint)(2 * yStride));
                a21.StoreUnsafe(ref y0, (nuint)(2 * yStride) + 8);
            }

            if (count > 3)
            {
                a30.StoreUnsafe(ref y0, (nuint)(3 * yStride));
                a31.StoreUnsafe(ref y0, (nuint)(3 * yStride) + 8);
            }
        }
    }
}
