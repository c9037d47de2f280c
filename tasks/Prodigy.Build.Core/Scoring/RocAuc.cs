namespace Prodigy.Build.Core.Scoring;

/// <summary>
/// spaCy's own ROC AUC (adapted by spaCy from scikit-learn), reproduced to the last bit, including
/// numpy's pairwise summation of the trapezoids.
/// </summary>
internal static class RocAuc
{
    // numpy's pairwise summation: blocks of up to this many terms are summed with 8 accumulators.
    private const int PairwiseBlockSize = 128;
    private const int Accumulators = 8;

    /// <summary>spaCy's <c>ROCAUCScore.is_binary</c>: the gold values take exactly two distinct values.</summary>
    public static bool IsBinary(IReadOnlyList<double> golds) => golds.Distinct().Take(3).Count() == 2;

    /// <summary>
    /// The area under the ROC curve; positives are gold values equal to 1.0. NaN when there is no
    /// positive or no negative among two distinct gold values (e.g. gold {0.5, 0.0}), as in spaCy.
    /// </summary>
    public static double Score(IReadOnlyList<double> golds, IReadOnlyList<double> scores)
    {
        // numpy sorts ascending (stable) and reverses; ties cannot change the counts taken below.
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).Reverse().ToArray();
        var truePositives = new List<double> { 0.0 };
        var falsePositives = new List<double> { 0.0 };
        var cumulativePositives = 0.0;
        for (var k = 0; k < order.Length; k++)
        {
            if (golds[order[k]] == 1.0)
            {
                cumulativePositives++;
            }

            // A point on the curve at every distinct score and at the end.
            if (k == order.Length - 1 || scores[order[k + 1]] - scores[order[k]] != 0)
            {
                truePositives.Add(cumulativePositives);
                falsePositives.Add(1 + k - cumulativePositives);
            }
        }

        var fpr = Rates(falsePositives);
        var tpr = Rates(truePositives);
        var trapezoids = new double[fpr.Length - 1];
        for (var i = 0; i < trapezoids.Length; i++)
        {
            trapezoids[i] = (fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i]) / 2.0;
        }

        return NumpySum(trapezoids);
    }

    /// <summary>Counts divided by the last one; all NaN when that is zero.</summary>
    private static double[] Rates(List<double> counts)
    {
        var last = counts[^1];
        return [.. counts.Select(c => last <= 0 ? double.NaN : c / last)];
    }

    /// <summary>numpy's <c>add.reduce</c> over doubles: 0.0 plus the pairwise sum.</summary>
    internal static double NumpySum(ReadOnlySpan<double> values) => 0.0 + PairwiseSum(values);

    private static double PairwiseSum(ReadOnlySpan<double> values)
    {
        var n = values.Length;
        if (n < Accumulators)
        {
            var sum = 0.0;
            foreach (var value in values)
            {
                sum += value;
            }

            return sum;
        }

        if (n <= PairwiseBlockSize)
        {
            Span<double> r = stackalloc double[Accumulators];
            values[..Accumulators].CopyTo(r);
            var i = Accumulators;
            for (; i < n - (n % Accumulators); i += Accumulators)
            {
                for (var j = 0; j < Accumulators; j++)
                {
                    r[j] += values[i + j];
                }
            }

            var result = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++)
            {
                result += values[i];
            }

            return result;
        }

        // Split in two halves, the first a multiple of the accumulator count.
        var half = n / 2;
        half -= half % Accumulators;
        return PairwiseSum(values[..half]) + PairwiseSum(values[half..]);
    }
}
