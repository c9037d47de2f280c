using System.Numerics.Tensors;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// The float32 arithmetic of spaCy's CPU layers, on row-major spans. Kept in one place so that the
/// kernels can be tuned without touching the architectures.
/// </summary>
public static class Ops
{
    /// <summary>
    /// <c>y[r, o] = bias[o] + Σ_i x[r, i] · w[o, i]</c> for <paramref name="rows"/> rows: thinc's
    /// <c>Linear</c> (<c>W</c> is nO x nI) and the affine part of <c>Maxout</c> (nO·nP x nI), one
    /// vectorised dot product per output. For the small and one-off layers (the parser's class scores,
    /// output layers); the large ones are prepared once as <see cref="DenseWeights"/>.
    /// </summary>
    public static void Affine(ReadOnlySpan<float> x, int rows, int nI, ReadOnlySpan<float> w, int nO, ReadOnlySpan<float> bias, Span<float> y)
    {
        for (var r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * nI, nI);
            var yr = y.Slice(r * nO, nO);
            for (var o = 0; o < nO; o++)
            {
                yr[o] = TensorPrimitives.Dot(xr, w.Slice(o * nI, nI)) + (bias.IsEmpty ? 0f : bias[o]);
            }
        }
    }

    /// <summary>Max over the <paramref name="pieces"/> of each output: <paramref name="z"/> is rows x nO x nP.</summary>
    public static void MaxPieces(ReadOnlySpan<float> z, int rows, int nO, int pieces, Span<float> y)
    {
        for (var i = 0; i < rows * nO; i++)
        {
            var best = z[i * pieces];
            for (var p = 1; p < pieces; p++)
            {
                best = MathF.Max(best, z[i * pieces + p]);
            }

            y[i] = best;
        }
    }

    /// <summary>
    /// numpy's float32 sum of a contiguous run (<c>np.add.reduce</c>): pairwise summation with eight
    /// accumulators over blocks of up to 128 values, so that means and softmax denominators round as
    /// numpy's do.
    /// </summary>
    public static float NumpySum(ReadOnlySpan<float> values)
    {
        const int blockSize = 128;
        var n = values.Length;
        if (n < 8)
        {
            var sum = 0f;
            for (var i = 0; i < n; i++)
            {
                sum += values[i];
            }

            return sum;
        }

        if (n <= blockSize)
        {
            float r0 = values[0], r1 = values[1], r2 = values[2], r3 = values[3];
            float r4 = values[4], r5 = values[5], r6 = values[6], r7 = values[7];
            var i = 8;
            for (; i < n - (n % 8); i += 8)
            {
                r0 += values[i];
                r1 += values[i + 1];
                r2 += values[i + 2];
                r3 += values[i + 3];
                r4 += values[i + 4];
                r5 += values[i + 5];
                r6 += values[i + 6];
                r7 += values[i + 7];
            }

            var total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
            for (; i < n; i++)
            {
                total += values[i];
            }

            return total;
        }

        var half = n / 2;
        half -= half % 8;
        return NumpySum(values[..half]) + NumpySum(values[half..]);
    }

    /// <summary>thinc's <c>ops.softmax</c> over one row, in place: shift by the max, exponentiate, divide by the sum.</summary>
    public static void SoftmaxInPlace(Span<float> row)
    {
        if (row.IsEmpty)
        {
            return;
        }

        var max = TensorPrimitives.Max(row);
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = MathF.Exp(row[i] - max);
        }

        var sum = NumpySum(row);
        for (var i = 0; i < row.Length; i++)
        {
            row[i] /= sum;
        }
    }

    /// <summary>thinc's <c>ops.sigmoid</c>, in place: inputs clipped to [-20, 20] first, as thinc does for stability.</summary>
    public static void SigmoidInPlace(Span<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var x = Math.Clamp(values[i], -20f, 20f);
            values[i] = 1f / (1f + MathF.Exp(-x));
        }
    }

    /// <summary>
    /// thinc's <c>LayerNorm</c> on <paramref name="rows"/> rows of width <paramref name="n"/>, in place:
    /// <c>(x - mean) * (var + 1e-8)^-0.5 * G + b</c>, mean and variance as numpy computes them.
    /// </summary>
    public static void LayerNormInPlace(Span<float> x, int rows, int n, ReadOnlySpan<float> gain, ReadOnlySpan<float> bias, Span<float> scratch)
    {
        var centered = scratch[..n];
        for (var r = 0; r < rows; r++)
        {
            var row = x.Slice(r * n, n);
            var mean = NumpySum(row) / n;
            TensorPrimitives.Subtract(row, mean, centered);
            TensorPrimitives.Multiply(centered, centered, centered);
            var variance = (NumpySum(centered) / n) + 1e-8f;
            var scale = MathF.Pow(variance, -0.5f);
            for (var i = 0; i < n; i++)
            {
                row[i] = ((row[i] - mean) * scale * gain[i]) + bias[i];
            }
        }
    }

    /// <summary>
    /// thinc's <c>Maxout</c>: the affine map to nO x nP pieces (<paramref name="w"/> is nO x nP x nI,
    /// <paramref name="bias"/> nO x nP), then the max piece of each output. <paramref name="pieces"/>
    /// is rows x nO x nP of scratch.
    /// </summary>
    public static void Maxout(ReadOnlySpan<float> x, int rows, int nI, ReadOnlySpan<float> w, int nO, int nP, ReadOnlySpan<float> bias, Span<float> pieces, Span<float> y)
    {
        Affine(x, rows, nI, w, nO * nP, bias, pieces);
        MaxPieces(pieces, rows, nO, nP, y);
    }
}
