namespace Prodigy.Build.Core.Scoring;

/// <summary>
/// Micro P/R/F over labelled spans and per-label counts: what spaCy reports as
/// <c>{attr}_p</c>, <c>{attr}_r</c>, <c>{attr}_f</c> and <c>{attr}_per_type</c>
/// (<c>ents</c> for NER, <c>spans_{key}</c> for spancat).
/// </summary>
public sealed class SpanScores
{
    internal SpanScores(string attr, PrfCounts totals, IReadOnlyDictionary<string, PrfCounts> countsPerType)
    {
        Attr = attr;
        Totals = totals;
        CountsPerType = countsPerType;
    }

    /// <summary>The key prefix: <c>ents</c> or <c>spans_{key}</c>.</summary>
    public string Attr { get; }

    /// <summary>Counts pooled over every label.</summary>
    public PrfCounts Totals { get; }

    /// <summary>Counts per label, by label (ordinal); spaCy's own order is Python's string-hash order.</summary>
    public IReadOnlyDictionary<string, PrfCounts> CountsPerType { get; }

    /// <summary>False when there was nothing to count (no tp, fp or fn): spaCy then reports every value as None.</summary>
    public bool HasScores => Totals.Total > 0;

    public double? Precision => HasScores ? Totals.Precision : null;

    public double? Recall => HasScores ? Totals.Recall : null;

    public double? F => HasScores ? Totals.FScore : null;

    /// <summary>P/R/F of every label seen in a scored doc, or null when there was nothing to count.</summary>
    public IReadOnlyDictionary<string, Prf>? PerType =>
        HasScores ? CountsPerType.ToDictionary(e => e.Key, e => e.Value.ToPrf(), StringComparer.Ordinal) : null;

    /// <summary>spaCy's result dict, in its key order: <c>{attr}_p</c>, <c>_r</c>, <c>_f</c>, <c>_per_type</c> (label → {p, r, f}).</summary>
    public OrderedDictionary<string, object?> ToSpacyDictionary() => new()
    {
        [Attr + "_p"] = Precision,
        [Attr + "_r"] = Recall,
        [Attr + "_f"] = F,
        [Attr + "_per_type"] = HasScores ? PerTypeDictionary() : null,
    };

    private OrderedDictionary<string, IReadOnlyDictionary<string, double>> PerTypeDictionary()
    {
        var result = new OrderedDictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var (label, counts) in CountsPerType)
        {
            result[label] = counts.ToPrf().ToSpacyDictionary();
        }

        return result;
    }
}
