using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

public sealed class OpsTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 7, 5)]
    [InlineData(4, 8, 4)]
    [InlineData(9, 288, 289)]
    [InlineData(17, 96, 6)]
    public void Affine_equals_the_dot_products_in_double_precision(int rows, int k, int n)
    {
        var random = new Random(rows * 1000 + k * 10 + n);
        var x = Enumerable.Range(0, rows * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var b = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
        var y = new float[rows * n];
        Ops.Affine(x, rows, k, w, n, b, y);
        var withoutBias = new float[rows * n];
        Ops.Affine(x, rows, k, w, n, [], withoutBias);
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < n; o++)
            {
                var expected = 0.0;
                for (var i = 0; i < k; i++)
                {
                    expected += (double)x[r * k + i] * w[o * k + i];
                }

                Assert.Equal(expected + b[o], y[r * n + o], 1e-4 * Math.Sqrt(k));
                Assert.Equal(expected, withoutBias[r * n + o], 1e-4 * Math.Sqrt(k));
            }
        }
    }
}
