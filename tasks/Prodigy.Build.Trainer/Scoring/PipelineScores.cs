using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model;

namespace Prodigy.Build.Trainer.Scoring;

/// <summary>Scores a pipeline's predictions on gold examples, component by component, as spaCy's nlp.evaluate does.</summary>
public static class PipelineScores
{
    public static ScoreSet Compute(TrainingSettings settings, PipelineLabels labels, IReadOnlyList<Example> gold, IReadOnlyList<Prediction> predictions)
    {
        var scores = new ScoreSet();
        if (settings.Ner is not null)
        {
            scores.Merge(SpacyScorer.Ner(gold.Select((g, i) => (
                new ScoredDoc { Length = g.Length, Entities = predictions[i].Entities.Select(e => (e.Label, e.Start, e.End)).ToList() },
                new ScoredDoc { Length = g.Length, Entities = g.Entities?.Select(e => (e.Label, e.Start, e.End)).ToList(), EntityMissing = g.EntityMissing }))));
        }

        foreach (var textcat in settings.Textcats)
        {
            var componentLabels = labels.Textcat.GetValueOrDefault(textcat.Component) ?? [];
            var known = componentLabels.ToHashSet(StringComparer.Ordinal);
            // Docs without an annotated label of this component say nothing about it.
            var pairs = gold.Select((g, i) => (Gold: g, Pred: predictions[i]))
                .Where(p => p.Gold.Cats.Keys.Any(known.Contains))
                .Select(p => (
                    new ScoredDoc { Length = p.Gold.Length, Cats = [.. p.Pred.Cats.GetValueOrDefault(textcat.Component) ?? new Dictionary<string, double>()] },
                    new ScoredDoc { Length = p.Gold.Length, Cats = componentLabels.Where(p.Gold.Cats.ContainsKey).Select(l => new KeyValuePair<string, double>(l, p.Gold.Cats[l])).ToList() }))
                .ToList();
            scores.Merge(SpacyScorer.Cats(pairs, componentLabels, multiLabel: !textcat.Exclusive, positiveLabel: null, threshold: textcat.Exclusive ? null : textcat.Threshold));
        }

        if (settings.Spancat is { } spancat)
        {
            var key = spancat.SpansKey;
            scores.Merge(SpacyScorer.Spans(
                gold.Select((g, i) => (
                    new ScoredDoc
                    {
                        Length = g.Length,
                        Spans = new Dictionary<string, IReadOnlyList<(string, int, int)>> { [key] = predictions[i].Spans.GetValueOrDefault(key)?.Select(s => (s.Span.Label, s.Span.Start, s.Span.End)).ToList() ?? [] },
                    },
                    new ScoredDoc
                    {
                        Length = g.Length,
                        Spans = g.SpanGroups.TryGetValue(key, out var group)
                            ? new Dictionary<string, IReadOnlyList<(string, int, int)>> { [key] = group.Select(s => (s.Label, s.Start, s.End)).ToList() }
                            : new Dictionary<string, IReadOnlyList<(string, int, int)>>(),
                    })),
                key));
        }

        return scores;
    }
}
