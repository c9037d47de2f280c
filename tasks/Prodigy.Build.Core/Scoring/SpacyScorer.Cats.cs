namespace Prodigy.Build.Core.Scoring;

public static partial class SpacyScorer
{
    /// <summary>
    /// spaCy's <c>Scorer.score_cats</c> as the textcat (exclusive) and textcat_multilabel components
    /// call it. Cats outside <see cref="CatsScoringOptions.Labels"/> are ignored; a predicted cat that
    /// is absent counts as 0.0. Multilabel: a label absent from the gold cats is not scored for that doc.
    /// Exclusive: absent gold values count as 0.0, and each doc compares the first highest predicted
    /// label with the first highest gold label.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// Exclusive scoring of a doc whose gold has cats but whose prediction has none (spaCy 3.5.4 crashes
    /// there), or a positive label that is not one of the two labels.
    /// </exception>
    public static CatsScores ScoreCats(IEnumerable<(ScoreDoc Pred, ScoreDoc Gold)> examples, CatsScoringOptions options)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(options);
        var labels = options.Labels.Distinct(StringComparer.Ordinal).ToArray();
        var labelSet = labels.ToHashSet(StringComparer.Ordinal);
        // Python treats an empty positive label like None.
        var positiveLabel = string.IsNullOrEmpty(options.PositiveLabel) ? null : options.PositiveLabel;
        var usesPositiveLabel = !options.MultiLabel && labels.Length == 2 && positiveLabel is not null;
        if (usesPositiveLabel && !labelSet.Contains(positiveLabel!))
        {
            throw new ArgumentException($"The positive label '{positiveLabel}' is not one of the labels {string.Join(", ", labels)}.", nameof(options));
        }

        var threshold = options.Threshold ?? (options.MultiLabel ? 0.5 : 0.0);
        // Ordered: the labels' order is the order of the results and of the macro sums.
        var counts = new OrderedDictionary<string, PrfCounts>(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            counts[label] = new PrfCounts();
        }

        var aucGolds = labels.ToDictionary(label => label, _ => new List<double>(), StringComparer.Ordinal);
        var aucScores = labels.ToDictionary(label => label, _ => new List<double>(), StringComparer.Ordinal);
        var index = 0;
        foreach (var (pred, gold) in examples)
        {
            var predCats = pred.Cats.Where(c => labelSet.Contains(c.Key)).ToArray();
            var goldCats = gold.Cats.Where(c => labelSet.Contains(c.Key)).ToArray();
            var predByLabel = predCats.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
            var goldByLabel = goldCats.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
            foreach (var label in labels)
            {
                var predScore = predByLabel.GetValueOrDefault(label, 0.0);
                double? goldScore = goldByLabel.TryGetValue(label, out var g) ? g : null;
                if (!options.MultiLabel && (goldScore is null || goldScore == 0.0))
                {
                    goldScore = 0.0;
                }

                if (goldScore is not { } goldValue)
                {
                    continue;
                }

                aucGolds[label].Add(goldValue);
                aucScores[label].Add(predScore);
                if (options.MultiLabel)
                {
                    CountMultilabelDecision(counts[label], predScore >= threshold, goldValue);
                }
            }

            if (!options.MultiLabel)
            {
                CountExclusiveDecision(counts, predCats, goldCats, index);
            }

            index++;
        }

        var aucPerType = new OrderedDictionary<string, double?>(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            aucPerType[label] = RocAuc.IsBinary(aucGolds[label]) ? RocAuc.Score(aucGolds[label], aucScores[label]) : null;
        }

        return new CatsScores(counts, aucPerType, options.MultiLabel, usesPositiveLabel ? positiveLabel : null);
    }

    private static void CountMultilabelDecision(PrfCounts counts, bool predictedPositive, double gold)
    {
        if (predictedPositive && gold > 0)
        {
            counts.TruePositives++;
        }
        else if (predictedPositive && gold == 0)
        {
            counts.FalsePositives++;
        }
        else if (!predictedPositive && gold > 0)
        {
            counts.FalseNegatives++;
        }
    }

    private static void CountExclusiveDecision(
        OrderedDictionary<string, PrfCounts> counts,
        KeyValuePair<string, double>[] predCats,
        KeyValuePair<string, double>[] goldCats,
        int exampleIndex)
    {
        if (predCats.Length > 0 && goldCats.Length > 0)
        {
            var predLabel = FirstHighest(predCats);
            var goldLabel = FirstHighest(goldCats);
            if (predLabel == goldLabel)
            {
                counts[predLabel].TruePositives++;
            }
            else
            {
                counts[goldLabel].FalseNegatives++;
                counts[predLabel].FalsePositives++;
            }
        }
        else if (goldCats.Length > 0)
        {
            throw new ArgumentException(
                $"Example {exampleIndex}: the gold doc has cats but the predicted doc has none of the labels; spaCy 3.5.4 cannot score this "
                + "(ValueError: too many values to unpack).",
                "examples");
        }
        else if (predCats.Length > 0)
        {
            counts[FirstHighest(predCats)].FalsePositives++;
        }
    }

    /// <summary>Python's <c>max(cats.items(), key=value)</c>: the first of the highest values wins.</summary>
    private static string FirstHighest(KeyValuePair<string, double>[] cats)
    {
        var best = cats[0];
        foreach (var cat in cats.AsSpan(1))
        {
            if (cat.Value > best.Value)
            {
                best = cat;
            }
        }

        return best.Key;
    }
}
