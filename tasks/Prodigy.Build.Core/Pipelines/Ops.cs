namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// The float32 arithmetic of spaCy's CPU layers, on row-major spans. Kept in one place so that the
/// kernels can be tuned without touching the architectures.
/// </summary>
public static class Ops
{
    /// <summary>
    /// <c>y[r, o] = bias[o] + Σ_i x[r, i] · w[o, i]</c> for <paramref name="rows"/> rows: thinc's
    /// <c>Linear</c> (<c>W</c> is nO x nI) and the affine part of <c>Maxout</c> (nO·nP x nI).
    /// </summary>
    public static void Affine(ReadOnlySpan<float> x, int rows, int nI, ReadOnlySpan<float> w, int nO, ReadOnlySpan<float> bias, Span<float> y) =>
        AffineKernel.Run(x, rows, nI, w, nO, bias, y);

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
}
