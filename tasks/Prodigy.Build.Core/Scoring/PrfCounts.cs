namespace Prodigy.Build.Core.Scoring;

/// <summary>Precision, recall and F, as spaCy's <c>PRFScore.to_dict()</c> reports them.</summary>
public readonly record struct Prf(double P, double R, double F)
{
    /// <summary>spaCy's <c>{"p": ..., "r": ..., "f": ...}</c>.</summary>
    public IReadOnlyDictionary<string, double> ToSpacyDictionary() =>
        new OrderedDictionary<string, double> { ["p"] = P, ["r"] = R, ["f"] = F };
}

/// <summary>
/// spaCy's <c>PRFScore</c>: true/false positive and false negative counts, and precision, recall
/// and F computed from them with spaCy's exact arithmetic.
/// </summary>
public sealed class PrfCounts
{
    // spaCy adds this to every denominator so that an empty one gives 0.0 instead of an error.
    private const double Epsilon = 1e-100;

    public int TruePositives { get; internal set; }

    public int FalsePositives { get; internal set; }

    public int FalseNegatives { get; internal set; }

    /// <summary>tp + fp + fn: zero means there was nothing to score (spaCy then reports None).</summary>
    public int Total => TruePositives + FalsePositives + FalseNegatives;

    // The integer sum comes first, then the epsilon, exactly as Python evaluates it.
    public double Precision => TruePositives / (TruePositives + FalsePositives + Epsilon);

    public double Recall => TruePositives / (TruePositives + FalseNegatives + Epsilon);

    public double FScore
    {
        get
        {
            var p = Precision;
            var r = Recall;
            return 2 * ((p * r) / (p + r + Epsilon));
        }
    }

    public Prf ToPrf() => new(Precision, Recall, FScore);

    internal void Add(PrfCounts other)
    {
        TruePositives += other.TruePositives;
        FalsePositives += other.FalsePositives;
        FalseNegatives += other.FalseNegatives;
    }

    /// <summary>spaCy's <c>score_set</c>: tp = |predicted ∩ gold|, fp = |predicted − gold|, fn = |gold − predicted|.</summary>
    internal void ScoreSets<T>(IReadOnlySet<T> predicted, IReadOnlySet<T> gold)
    {
        var overlap = predicted.Count(gold.Contains);
        TruePositives += overlap;
        FalsePositives += predicted.Count - overlap;
        FalseNegatives += gold.Count - overlap;
    }
}
