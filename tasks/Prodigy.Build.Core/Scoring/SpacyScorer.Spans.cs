using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Scoring;

/// <summary>
/// spaCy 3.5.4's scorers for the components the SDK trains, with spaCy's exact arithmetic. Each
/// example is a predicted doc scored against its gold doc (spaCy's <c>Example(predicted, reference)</c>).
/// </summary>
public static partial class SpacyScorer
{
    /// <summary>The span group key spancat uses unless configured otherwise.</summary>
    public const string DefaultSpansKey = "sc";

    /// <summary>
    /// spaCy's <c>get_ner_prf</c> (the <c>ner</c> component's scorer). Gold docs without entity
    /// annotation are skipped. A predicted entity is mapped onto the gold tokens (through the
    /// character alignment when the tokenizations differ); one that touches a gold token whose
    /// annotation is missing is neither right nor wrong, but its label is still listed.
    /// </summary>
    /// <exception cref="ArgumentException">A predicted and a gold doc spell different texts.</exception>
    public static SpanScores ScoreNer(IEnumerable<(ScoreDoc Pred, ScoreDoc Gold)> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var perType = new Dictionary<string, PrfCounts>(StringComparer.Ordinal);
        foreach (var (pred, gold) in examples)
        {
            if (!gold.HasEntityAnnotation)
            {
                continue;
            }

            var golds = gold.Entities.Select(e => (e.Label, e.Start, e.End)).ToHashSet();
            var predToGold = TokenAlignment.PredictedToGold(pred.Words, gold.Words);
            foreach (var entity in pred.Entities)
            {
                // spaCy registers the label before deciding whether the prediction counts.
                var counts = CountsFor(perType, entity.Label);
                if (GoldTokensOf(entity, predToGold) is not { } range || AnyMissing(gold, range.First, range.Last))
                {
                    continue;
                }

                if (golds.Remove((entity.Label, range.First, range.Last + 1)))
                {
                    counts.TruePositives++;
                }
                else
                {
                    counts.FalsePositives++;
                }
            }

            foreach (var (label, _, _) in golds)
            {
                CountsFor(perType, label).FalseNegatives++;
            }
        }

        return Result("ents", perType);
    }

    /// <summary>
    /// spaCy's <c>spancat</c> scorer: <see cref="ScoreSpans"/> on the span group
    /// <paramref name="spansKey"/>, as <c>spans_{key}</c>, overlapping spans allowed; a doc counts as
    /// annotated when it has a group under the key (an empty group counts).
    /// </summary>
    public static SpanScores ScoreSpancat(IEnumerable<(ScoreDoc Pred, ScoreDoc Gold)> examples, string spansKey = DefaultSpansKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(spansKey);
        return ScoreSpans(
            examples,
            "spans_" + spansKey,
            doc => doc.SpanGroups.GetValueOrDefault(spansKey) ?? [],
            doc => doc.SpanGroups.ContainsKey(spansKey),
            allowOverlap: true);
    }

    /// <summary>
    /// spaCy's <c>Scorer.score_spans(examples, "ents")</c>: the generic span scorer on the entities.
    /// Unlike <see cref="ScoreNer"/> it has no missing-token rule and scores every doc.
    /// </summary>
    public static SpanScores ScoreEntitySpans(IEnumerable<(ScoreDoc Pred, ScoreDoc Gold)> examples, bool allowOverlap = false) =>
        ScoreSpans(examples, "ents", doc => doc.Entities, hasAnnotation: null, allowOverlap);

    /// <summary>
    /// spaCy's <c>Scorer.score_spans</c> (labelled). Spans are compared as sets of (label, start, end),
    /// so duplicates count once. Predicted spans are aligned to the gold tokens and kept only when
    /// they cover the same text; without <paramref name="allowOverlap"/> a span loses the gold
    /// tokens an earlier span already took.
    /// </summary>
    /// <param name="examples">Predicted docs with their gold docs.</param>
    /// <param name="attr">The key prefix of the results (<c>ents</c>, <c>spans_sc</c>).</param>
    /// <param name="getSpans">The spans of a doc.</param>
    /// <param name="hasAnnotation">Whether a doc is annotated: gold docs that are not are skipped, and a predicted doc that is not contributes no spans. null = every doc is.</param>
    /// <param name="allowOverlap">Whether aligned predicted spans may share gold tokens.</param>
    public static SpanScores ScoreSpans(
        IEnumerable<(ScoreDoc Pred, ScoreDoc Gold)> examples,
        string attr,
        Func<ScoreDoc, IReadOnlyList<ScoreSpan>> getSpans,
        Func<ScoreDoc, bool>? hasAnnotation,
        bool allowOverlap)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentException.ThrowIfNullOrEmpty(attr);
        ArgumentNullException.ThrowIfNull(getSpans);
        var perType = new Dictionary<string, PrfCounts>(StringComparer.Ordinal);
        var totals = new PrfCounts();
        foreach (var (pred, gold) in examples)
        {
            if (hasAnnotation is not null && !hasAnnotation(gold))
            {
                continue;
            }

            var predIsAnnotated = hasAnnotation is null || hasAnnotation(pred);
            var goldSpans = getSpans(gold);
            var predSpans = predIsAnnotated ? getSpans(pred) : [];
            var labels = goldSpans.Select(s => s.Label).Concat(predSpans.Select(s => s.Label)).ToHashSet(StringComparer.Ordinal);
            var goldSet = goldSpans.Select(SpanKey).ToHashSet();
            var predSet = predIsAnnotated
                ? AlignSpans(predSpans, pred, gold, allowOverlap).Select(SpanKey).ToHashSet()
                : [];
            foreach (var label in labels)
            {
                CountsFor(perType, label).ScoreSets(
                    predSet.Where(s => s.Label == label).ToHashSet(),
                    goldSet.Where(s => s.Label == label).ToHashSet());
            }

            totals.ScoreSets(predSet, goldSet);
        }

        return new SpanScores(attr, totals, SortedByLabel(perType));
    }

    // spaCy keys spans by their last token, not their exclusive end.
    private static (string Label, int Start, int Last) SpanKey(ScoreSpan span) => (span.Label, span.Start, span.End - 1);

    private static PrfCounts CountsFor(Dictionary<string, PrfCounts> perType, string label)
    {
        if (!perType.TryGetValue(label, out var counts))
        {
            counts = new PrfCounts();
            perType[label] = counts;
        }

        return counts;
    }

    private static SpanScores Result(string attr, Dictionary<string, PrfCounts> perType)
    {
        var totals = new PrfCounts();
        foreach (var counts in perType.Values)
        {
            totals.Add(counts);
        }

        return new SpanScores(attr, totals, SortedByLabel(perType));
    }

    private static OrderedDictionary<string, PrfCounts> SortedByLabel(Dictionary<string, PrfCounts> perType)
    {
        var sorted = new OrderedDictionary<string, PrfCounts>(StringComparer.Ordinal);
        foreach (var label in perType.Keys.Order(StringComparer.Ordinal))
        {
            sorted[label] = perType[label];
        }

        return sorted;
    }

    /// <summary>The gold tokens a predicted span maps onto, in alignment order (spaCy's flattened <c>x2y[start:end]</c>).</summary>
    private static IEnumerable<int> AlignedIndices(ScoreSpan span, int[][] predToGold) =>
        Enumerable.Range(span.Start, span.End - span.Start).SelectMany(i => predToGold[i]);

    /// <summary>First and last gold token of a predicted span, or null when it maps onto none.</summary>
    private static (int First, int Last)? GoldTokensOf(ScoreSpan span, int[][] predToGold)
    {
        var indices = AlignedIndices(span, predToGold).ToArray();
        return indices.Length == 0 ? null : (indices[0], indices[^1]);
    }

    private static bool AnyMissing(ScoreDoc gold, int first, int last)
    {
        for (var i = first; i <= last; i++)
        {
            if (gold.IsEntityMissing(i))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>spaCy's <c>Example.get_aligned_spans_x2y</c>: predicted spans moved onto the gold tokens.</summary>
    private static List<ScoreSpan> AlignSpans(IReadOnlyList<ScoreSpan> spans, ScoreDoc pred, ScoreDoc gold, bool allowOverlap)
    {
        var predToGold = TokenAlignment.PredictedToGold(pred.Words, gold.Words);
        var taken = new HashSet<int>();
        var aligned = new List<ScoreSpan>();
        foreach (var span in spans)
        {
            var indices = AlignedIndices(span, predToGold).Where(i => allowOverlap || !taken.Contains(i)).ToArray();
            if (indices.Length == 0)
            {
                continue;
            }

            var candidate = new ScoreSpan(indices[0], indices[^1] + 1, span.Label);
            // A span that lands on gold tokens spelling something else is dropped.
            if (ComparableText(gold, candidate) == ComparableText(pred, span))
            {
                aligned.Add(candidate);
                taken.UnionWith(indices);
            }
        }

        return aligned;
    }

    /// <summary>spaCy's <c>span.text.lower().strip().replace(" ", "")</c>; tokens past the doc's end are left out.</summary>
    private static string ComparableText(ScoreDoc doc, ScoreSpan span)
    {
        var builder = new System.Text.StringBuilder();
        var end = Math.Min(span.End, doc.Length);
        for (var i = span.Start; i < end; i++)
        {
            builder.Append(doc.Words[i]);
            // Span.text keeps the spaces between its tokens but not the one after its last token.
            if (i < end - 1 && doc.HasSpaceAfter(i))
            {
                builder.Append(' ');
            }
        }

        return StripPythonSpace(PythonText.Lower(builder.ToString())).Replace(" ", "", StringComparison.Ordinal);
    }

    private static string StripPythonSpace(string text)
    {
        var start = 0;
        var end = text.Length;
        // No whitespace lies outside the BMP, so UTF-16 units are safe to test here.
        while (start < end && PythonText.IsSpace(text[start]))
        {
            start++;
        }

        while (end > start && PythonText.IsSpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }
}
