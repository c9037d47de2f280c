namespace Prodigy.Build.Core.Scoring;

/// <summary>How spaCy's <c>Scorer.score_cats</c> is called for a text classifier.</summary>
public sealed record CatsScoringOptions
{
    /// <summary>The component's labels, in its order: the order of the per-type results and of the macro sums. Other cats are ignored.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    /// <summary>true for <c>textcat_multilabel</c>, false for the exclusive <c>textcat</c>.</summary>
    public required bool MultiLabel { get; init; }

    /// <summary>The exclusive binary task's positive label: with exactly 2 labels the main score is its F.</summary>
    public string? PositiveLabel { get; init; }

    /// <summary>
    /// Multilabel only: a score at or above it is a positive prediction; null = 0.5. The exclusive
    /// scorer takes each doc's highest score instead (spaCy 3.5.4 ignores the threshold there).
    /// </summary>
    public double? Threshold { get; init; }

    /// <summary>The textcat component's settings: exclusive, with an optional positive label.</summary>
    public static CatsScoringOptions Exclusive(IReadOnlyList<string> labels, string? positiveLabel = null) =>
        new() { Labels = labels, MultiLabel = false, PositiveLabel = positiveLabel };

    /// <summary>The textcat_multilabel component's settings.</summary>
    public static CatsScoringOptions Multilabel(IReadOnlyList<string> labels, double? threshold = null) =>
        new() { Labels = labels, MultiLabel = true, Threshold = threshold };
}

/// <summary>
/// What spaCy's <c>Scorer.score_cats</c> returns, typed: the per-label counts and AUCs, and the
/// averages and main score derived from them with spaCy's arithmetic.
/// </summary>
public sealed class CatsScores
{
    // spaCy divides by the label count plus this, so that no labels gives 0.0.
    private const double LabelCountEpsilon = 1e-100;

    /// <param name="countsPerType">Counts per label, in the labels' order.</param>
    /// <param name="aucPerType">AUC per label (null = undefined), in the labels' order.</param>
    /// <param name="multiLabel">Whether the main score is the macro AUC (multilabel) rather than an F.</param>
    /// <param name="positiveLabel">The exclusive binary task's positive label, whose F is then the main score; null = macro F.</param>
    internal CatsScores(
        IReadOnlyDictionary<string, PrfCounts> countsPerType,
        IReadOnlyDictionary<string, double?> aucPerType,
        bool multiLabel,
        string? positiveLabel)
    {
        CountsPerType = countsPerType;
        AucPerType = aucPerType;
        foreach (var counts in countsPerType.Values)
        {
            Micro.Add(counts);
        }

        var labelCount = countsPerType.Count + LabelCountEpsilon;
        Macro = new Prf(
            SumInOrder(countsPerType.Values.Select(c => c.Precision)) / labelCount,
            SumInOrder(countsPerType.Values.Select(c => c.Recall)) / labelCount,
            SumInOrder(countsPerType.Values.Select(c => c.FScore)) / labelCount);
        MacroAuc = SumInOrder(aucPerType.Values.Select(auc => auc ?? 0.0)) / labelCount;
        (Score, ScoreDescription) = positiveLabel is not null
            ? (countsPerType[positiveLabel].FScore, $"F ({positiveLabel})")
            : multiLabel ? (MacroAuc, "macro AUC") : (Macro.F, "macro F");
    }

    /// <summary>The main score: F of the positive label, macro F (exclusive) or macro AUC (multilabel).</summary>
    public double Score { get; }

    /// <summary><c>F (LABEL)</c>, <c>macro F</c> or <c>macro AUC</c>.</summary>
    public string ScoreDescription { get; }

    /// <summary>Counts pooled over the labels.</summary>
    public PrfCounts Micro { get; } = new();

    /// <summary>The unweighted means of the per-label P, R and F.</summary>
    public Prf Macro { get; }

    /// <summary>The mean AUC over all labels, an undefined AUC counting as 0.0; NaN when a label's AUC is NaN.</summary>
    public double MacroAuc { get; }

    /// <summary>Counts per label, in the labels' order.</summary>
    public IReadOnlyDictionary<string, PrfCounts> CountsPerType { get; }

    /// <summary>ROC AUC per label, in the labels' order; null where the gold values are not exactly two distinct values.</summary>
    public IReadOnlyDictionary<string, double?> AucPerType { get; }

    /// <summary>spaCy's result dict, in its key order (<c>cats_score</c> … <c>cats_auc_per_type</c>).</summary>
    public OrderedDictionary<string, object?> ToSpacyDictionary()
    {
        var fPerType = new OrderedDictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var (label, counts) in CountsPerType)
        {
            fPerType[label] = counts.ToPrf().ToSpacyDictionary();
        }

        return new OrderedDictionary<string, object?>
        {
            ["cats_score"] = Score,
            ["cats_score_desc"] = ScoreDescription,
            ["cats_micro_p"] = Micro.Precision,
            ["cats_micro_r"] = Micro.Recall,
            ["cats_micro_f"] = Micro.FScore,
            ["cats_macro_p"] = Macro.P,
            ["cats_macro_r"] = Macro.R,
            ["cats_macro_f"] = Macro.F,
            ["cats_macro_auc"] = MacroAuc,
            ["cats_f_per_type"] = fPerType,
            ["cats_auc_per_type"] = AucPerType,
        };
    }

    /// <summary>Python's <c>sum()</c>: left to right from 0, in the labels' order.</summary>
    private static double SumInOrder(IEnumerable<double> values)
    {
        var sum = 0.0;
        foreach (var value in values)
        {
            sum += value;
        }

        return sum;
    }
}
