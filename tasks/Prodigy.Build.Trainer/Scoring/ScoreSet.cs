using Prodigy.Build.Core.Scoring;

namespace Prodigy.Build.Trainer.Scoring;

/// <summary>
/// What spaCy's scorers return, typed: numeric scores by key (<c>ents_f</c>, <c>cats_score</c>, ...;
/// null where spaCy says None), the per-type tables (<c>ents_per_type</c>, <c>cats_f_per_type</c>,
/// <c>spans_sc_per_type</c>), <c>cats_auc_per_type</c>, and <c>cats_score_desc</c>.
/// </summary>
public sealed class ScoreSet
{
    public Dictionary<string, double?> Values { get; } = new(StringComparer.Ordinal);

    /// <summary>Per-type p/r/f tables by key; a key with a null table is spaCy's None.</summary>
    public Dictionary<string, IReadOnlyDictionary<string, Prf>?> PerType { get; } = new(StringComparer.Ordinal);

    /// <summary><c>cats_auc_per_type</c>: label → AUC (null when the gold values are not binary).</summary>
    public Dictionary<string, IReadOnlyDictionary<string, double?>> AucPerType { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string?> Descriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>spaCy's NER or span scores.</summary>
    public static ScoreSet From(SpanScores scores)
    {
        var set = new ScoreSet();
        set.Values[scores.Attr + "_p"] = scores.Precision;
        set.Values[scores.Attr + "_r"] = scores.Recall;
        set.Values[scores.Attr + "_f"] = scores.F;
        set.PerType[scores.Attr + "_per_type"] = scores.PerType;
        return set;
    }

    /// <summary>spaCy's text classification scores (the "cats" attribute).</summary>
    public static ScoreSet From(CatsScores scores)
    {
        var set = new ScoreSet();
        set.Values["cats_score"] = scores.Score;
        set.Descriptions["cats_score_desc"] = scores.ScoreDescription;
        set.Values["cats_micro_p"] = scores.Micro.Precision;
        set.Values["cats_micro_r"] = scores.Micro.Recall;
        set.Values["cats_micro_f"] = scores.Micro.FScore;
        set.Values["cats_macro_p"] = scores.Macro.P;
        set.Values["cats_macro_r"] = scores.Macro.R;
        set.Values["cats_macro_f"] = scores.Macro.F;
        set.Values["cats_macro_auc"] = scores.MacroAuc;
        set.PerType["cats_f_per_type"] = scores.CountsPerType.ToDictionary(c => c.Key, c => new Prf(c.Value.Precision, c.Value.Recall, c.Value.FScore), StringComparer.Ordinal);
        set.AucPerType["cats_auc_per_type"] = scores.AucPerType;
        return set;
    }

    /// <summary>Adds another component's scores; later keys win, as in spaCy's nlp.evaluate.</summary>
    public void Merge(ScoreSet other)
    {
        foreach (var (k, v) in other.Values)
        {
            Values[k] = v;
        }

        foreach (var (k, v) in other.PerType)
        {
            PerType[k] = v;
        }

        foreach (var (k, v) in other.AucPerType)
        {
            AucPerType[k] = v;
        }

        foreach (var (k, v) in other.Descriptions)
        {
            Descriptions[k] = v;
        }
    }

    /// <summary>
    /// The weighted score spaCy's training loop ranks models by: the sum of weight × score over the
    /// score_weights with a weight, scores that are None counting as 0.
    /// </summary>
    public double Weighted(IEnumerable<KeyValuePair<string, double?>> weights) =>
        weights.Where(w => w.Value is not null).Sum(w => (Values.GetValueOrDefault(w.Key) is { } v && !double.IsNaN(v) ? v : 0.0) * w.Value!.Value);
}
