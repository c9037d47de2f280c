namespace Prodigy.Build.Trainer.Scoring;

/// <summary>A document as the scorers see it: token count, entities with the missing-token mask, cats, span groups.</summary>
public sealed class ScoredDoc
{
    public int Length { get; init; }

    /// <summary>The words, needed only when predicted and gold docs are tokenized differently (then aligned by characters, as spaCy's Example does).</summary>
    public IReadOnlyList<string>? Words { get; init; }

    /// <summary>Entities as (label, start, end); null = no ENT_IOB annotation at all.</summary>
    public IReadOnlyList<(string Label, int Start, int End)>? Entities { get; init; }

    /// <summary>Per token: ENT_IOB is 0 (missing). Null = none missing.</summary>
    public IReadOnlyList<bool>? EntityMissing { get; init; }

    /// <summary>doc.cats in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Cats { get; init; } = [];

    /// <summary>doc.spans: only keys the doc has.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(string Label, int Start, int End)>> Spans { get; init; } = new Dictionary<string, IReadOnlyList<(string, int, int)>>();
}

/// <summary>
/// spaCy 3.5's scorers (get_ner_prf, Scorer.score_cats, Scorer.score_spans), with its arithmetic to the
/// last bit (see ../shared/spacy/scorer/README.md). Predicted and gold docs have the same tokens.
/// </summary>
public static class SpacyScorer
{
    /// <summary>spaCy's get_ner_prf: ents_p/r/f and ents_per_type; predictions touching missing gold tokens are ignored.</summary>
    public static ScoreSet Ner(IEnumerable<(ScoredDoc Pred, ScoredDoc Gold)> examples)
    {
        var perType = new Dictionary<string, Prf>(StringComparer.Ordinal);
        var order = new List<string>();
        Prf For(string label)
        {
            if (!perType.TryGetValue(label, out var prf))
            {
                perType[label] = prf = new Prf();
                order.Add(label);
            }

            return prf;
        }

        foreach (var (pred, gold) in examples)
        {
            var annotated = gold.Length == 0 || (gold.Entities is not null && (gold.EntityMissing is null || gold.EntityMissing.Any(m => !m) || gold.Entities.Count > 0));
            if (!annotated)
            {
                continue;
            }

            var golds = new HashSet<(string, int, int)>(gold.Entities ?? []);
            foreach (var (label, predStart, predEnd) in pred.Entities ?? [])
            {
                var prf = For(label);
                if (predEnd <= predStart || predEnd > pred.Length)
                {
                    continue;
                }

                var (goldStart, goldEnd) = Align(pred, gold, predStart, predEnd);
                if (goldEnd <= goldStart)
                {
                    continue;
                }

                var (start, end) = (goldStart, goldEnd);
                var touchesMissing = false;
                for (var i = start; i < end; i++)
                {
                    if (gold.EntityMissing is { } missing && missing[i])
                    {
                        touchesMissing = true;
                        break;
                    }
                }

                if (touchesMissing)
                {
                    continue;
                }

                if (golds.Remove((label, start, end)))
                {
                    prf.Tp++;
                }
                else
                {
                    prf.Fp++;
                }
            }

            foreach (var (label, _, _) in golds)
            {
                For(label).Fn++;
            }
        }

        var totals = new Prf();
        foreach (var prf in perType.Values)
        {
            totals.Add(prf);
        }

        var scores = new ScoreSet();
        if (totals.Count > 0)
        {
            scores.Values["ents_p"] = totals.Precision;
            scores.Values["ents_r"] = totals.Recall;
            scores.Values["ents_f"] = totals.F;
            scores.PerType["ents_per_type"] = order.ToDictionary(l => l, l => perType[l].Values, StringComparer.Ordinal);
        }
        else
        {
            scores.Values["ents_p"] = scores.Values["ents_r"] = scores.Values["ents_f"] = null;
            scores.PerType["ents_per_type"] = null;
        }

        return scores;
    }

    /// <summary>spaCy's Scorer.score_spans with allow_overlap (spancat): sets of (label, start, end) per doc that has the key.</summary>
    public static ScoreSet Spans(IEnumerable<(ScoredDoc Pred, ScoredDoc Gold)> examples, string key, string? attr = null)
    {
        attr ??= "spans_" + key;
        var total = new Prf();
        var perType = new Dictionary<string, Prf>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (pred, gold) in examples)
        {
            if (!gold.Spans.TryGetValue(key, out var goldSpans))
            {
                continue;
            }

            var predSpans = pred.Spans.TryGetValue(key, out var p) ? p : [];
            var labels = new List<string>();
            foreach (var label in goldSpans.Select(s => s.Label).Concat(predSpans.Select(s => s.Label)))
            {
                if (!labels.Contains(label))
                {
                    labels.Add(label);
                }

                if (!perType.ContainsKey(label))
                {
                    perType[label] = new Prf();
                    order.Add(label);
                }
            }

            var goldSet = goldSpans.Select(s => (s.Label, s.Start, s.End - 1)).ToHashSet();
            var predSet = predSpans.Select(s => (s.Label, s.Start, s.End - 1)).ToHashSet();
            foreach (var label in labels)
            {
                perType[label].ScoreSet(predSet.Where(s => s.Label == label).ToHashSet(), goldSet.Where(s => s.Label == label).ToHashSet());
            }

            total.ScoreSet(predSet, goldSet);
        }

        var scores = new ScoreSet();
        if (total.Count > 0)
        {
            scores.Values[attr + "_p"] = total.Precision;
            scores.Values[attr + "_r"] = total.Recall;
            scores.Values[attr + "_f"] = total.F;
            scores.PerType[attr + "_per_type"] = order.ToDictionary(l => l, l => perType[l].Values, StringComparer.Ordinal);
        }
        else
        {
            scores.Values[attr + "_p"] = scores.Values[attr + "_r"] = scores.Values[attr + "_f"] = null;
            scores.PerType[attr + "_per_type"] = null;
        }

        return scores;
    }

    /// <summary>spaCy's Scorer.score_cats for the "cats" attribute.</summary>
    public static ScoreSet Cats(IEnumerable<(ScoredDoc Pred, ScoredDoc Gold)> examples, IReadOnlyList<string> labels, bool multiLabel, string? positiveLabel = null, double? threshold = null)
    {
        var cut = threshold ?? (multiLabel ? 0.5 : 0.0);
        var f = labels.Distinct().ToDictionary(l => l, _ => new Prf(), StringComparer.Ordinal);
        var auc = labels.Distinct().ToDictionary(l => l, _ => new List<(double Pred, double Gold)>(), StringComparer.Ordinal);
        var known = new HashSet<string>(labels, StringComparer.Ordinal);
        foreach (var (predDoc, goldDoc) in examples)
        {
            var pred = predDoc.Cats.Where(c => known.Contains(c.Key)).ToList();
            var gold = goldDoc.Cats.Where(c => known.Contains(c.Key)).ToList();
            var predMap = pred.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
            var goldMap = gold.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
            foreach (var label in f.Keys)
            {
                var predScore = predMap.GetValueOrDefault(label, 0.0);
                if (goldMap.TryGetValue(label, out var goldScore))
                {
                    auc[label].Add((predScore, goldScore));
                }
                else if (!multiLabel)
                {
                    auc[label].Add((predScore, 0.0));
                }
            }

            if (multiLabel)
            {
                foreach (var label in f.Keys)
                {
                    if (!goldMap.TryGetValue(label, out var goldScore))
                    {
                        continue;
                    }

                    var predScore = predMap.GetValueOrDefault(label, 0.0);
                    if (predScore >= cut && goldScore > 0)
                    {
                        f[label].Tp++;
                    }
                    else if (predScore >= cut && goldScore == 0)
                    {
                        f[label].Fp++;
                    }
                    else if (predScore < cut && goldScore > 0)
                    {
                        f[label].Fn++;
                    }
                }
            }
            else if (pred.Count > 0 && gold.Count > 0)
            {
                var (predLabel, predScore) = FirstMax(pred);
                var (goldLabel, _) = FirstMax(gold);
                if (predLabel == goldLabel && predScore >= cut)
                {
                    f[predLabel].Tp++;
                }
                else
                {
                    f[goldLabel].Fn++;
                    if (predScore >= cut)
                    {
                        f[predLabel].Fp++;
                    }
                }
            }
            else if (pred.Count > 0)
            {
                var (predLabel, predScore) = FirstMax(pred);
                if (predScore >= cut)
                {
                    f[predLabel].Fp++;
                }
            }
            else if (gold.Count > 0)
            {
                throw new InvalidOperationException("spaCy 3.5 raises here: a predicted doc without cats scored against gold cats");
            }
        }

        var micro = new Prf();
        foreach (var prf in f.Values)
        {
            micro.Add(prf);
        }

        var count = f.Count + 1e-100;
        double SumLeftToRight(Func<Prf, double> value)
        {
            var sum = 0.0;
            foreach (var label in f.Keys)
            {
                sum += value(f[label]);
            }

            return sum;
        }

        var aucPerType = f.Keys.ToDictionary(l => l, l => RocAuc(auc[l]), StringComparer.Ordinal);
        var aucSum = 0.0;
        foreach (var label in f.Keys)
        {
            aucSum += aucPerType[label] ?? 0.0;
        }

        var scores = new ScoreSet();
        scores.Values["cats_score"] = null;
        scores.Descriptions["cats_score_desc"] = null;
        scores.Values["cats_micro_p"] = micro.Precision;
        scores.Values["cats_micro_r"] = micro.Recall;
        scores.Values["cats_micro_f"] = micro.F;
        scores.Values["cats_macro_p"] = SumLeftToRight(p => p.Precision) / count;
        scores.Values["cats_macro_r"] = SumLeftToRight(p => p.Recall) / count;
        scores.Values["cats_macro_f"] = SumLeftToRight(p => p.F) / count;
        scores.Values["cats_macro_auc"] = aucSum / count;
        scores.PerType["cats_f_per_type"] = f.ToDictionary(p => p.Key, p => p.Value.Values, StringComparer.Ordinal);
        scores.AucPerType["cats_auc_per_type"] = aucPerType;
        if (f.Count == 2 && !multiLabel && !string.IsNullOrEmpty(positiveLabel) && f.TryGetValue(positiveLabel, out var positive))
        {
            scores.Values["cats_score"] = positive.F;
            scores.Descriptions["cats_score_desc"] = $"F ({positiveLabel})";
        }
        else if (!multiLabel)
        {
            scores.Values["cats_score"] = scores.Values["cats_macro_f"];
            scores.Descriptions["cats_score_desc"] = "macro F";
        }
        else
        {
            scores.Values["cats_score"] = scores.Values["cats_macro_auc"];
            scores.Descriptions["cats_score_desc"] = "macro AUC";
        }

        return scores;
    }

    /// <summary>
    /// The gold tokens a predicted token range covers: the same range when the docs have the same
    /// words, else the first to the last gold token sharing a character with it (spaces ignored).
    /// </summary>
    private static (int Start, int End) Align(ScoredDoc pred, ScoredDoc gold, int start, int end)
    {
        if (pred.Words is null || gold.Words is null || pred.Words.SequenceEqual(gold.Words))
        {
            return (start, end);
        }

        var predOffsets = Offsets(pred.Words);
        var goldOffsets = Offsets(gold.Words);
        var from = predOffsets[start];
        var to = predOffsets[end];
        var first = -1;
        var last = -1;
        for (var j = 0; j < gold.Words.Count; j++)
        {
            if (goldOffsets[j] < to && goldOffsets[j + 1] > from)
            {
                first = first < 0 ? j : first;
                last = j;
            }
        }

        return first < 0 ? (0, 0) : (first, last + 1);
    }

    private static int[] Offsets(IReadOnlyList<string> words)
    {
        var offsets = new int[words.Count + 1];
        for (var i = 0; i < words.Count; i++)
        {
            offsets[i + 1] = offsets[i] + words[i].Count(c => !char.IsWhiteSpace(c));
        }

        return offsets;
    }

    private static (string Label, double Score) FirstMax(List<KeyValuePair<string, double>> cats)
    {
        var best = cats[0];
        foreach (var cat in cats)
        {
            if (cat.Value > best.Value)
            {
                best = cat;
            }
        }

        return (best.Key, best.Value);
    }

    /// <summary>ROC AUC as spaCy computes it; null when the gold values are not exactly two distinct values.</summary>
    internal static double? RocAuc(List<(double Pred, double Gold)> values)
    {
        if (values.Select(v => v.Gold).Distinct().Count() != 2)
        {
            return null;
        }

        // numpy's argsort(kind="mergesort")[::-1]: a stable ascending sort, reversed.
        var ascending = values.Select((v, i) => (v, i)).OrderBy(x => x.v.Pred).ThenBy(x => x.i).Select(x => x.v).ToList();
        ascending.Reverse();
        var tps = new List<double> { 0 };
        var fps = new List<double> { 0 };
        var cumulative = 0.0;
        for (var i = 0; i < ascending.Count; i++)
        {
            cumulative += ascending[i].Gold == 1.0 ? 1 : 0;
            if (i == ascending.Count - 1 || ascending[i + 1].Pred != ascending[i].Pred)
            {
                tps.Add(cumulative);
                fps.Add(1 + i - cumulative);
            }
        }

        var lastFp = fps[^1];
        var lastTp = tps[^1];
        var fpr = fps.Select(v => lastFp <= 0 ? double.NaN : v / lastFp).ToArray();
        var tpr = tps.Select(v => lastTp <= 0 ? double.NaN : v / lastTp).ToArray();
        var terms = new double[fpr.Length - 1];
        for (var i = 0; i < terms.Length; i++)
        {
            terms[i] = (fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i]) / 2.0;
        }

        return PairwiseSum(terms, 0, terms.Length);
    }

    /// <summary>numpy's pairwise summation (the order numpy adds the trapezoid terms in).</summary>
    internal static double PairwiseSum(double[] values, int start, int count)
    {
        if (count < 8)
        {
            var sum = 0.0;
            for (var i = 0; i < count; i++)
            {
                sum += values[start + i];
            }

            return sum;
        }

        if (count <= 128)
        {
            var r = new double[8];
            for (var j = 0; j < 8; j++)
            {
                r[j] = values[start + j];
            }

            var i = 8;
            for (; i < count - (count % 8); i += 8)
            {
                for (var j = 0; j < 8; j++)
                {
                    r[j] += values[start + i + j];
                }
            }

            var result = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < count; i++)
            {
                result += values[start + i];
            }

            return result;
        }

        var half = count / 2;
        half -= half % 8;
        return PairwiseSum(values, start, half) + PairwiseSum(values, start + half, count - half);
    }
}
