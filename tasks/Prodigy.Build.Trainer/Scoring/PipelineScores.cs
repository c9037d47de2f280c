using Prodigy.Build.Core.Scoring;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model;

namespace Prodigy.Build.Trainer.Scoring;

/// <summary>Scores a pipeline's predictions on gold examples, component by component, with spaCy's scorers (as its nlp.evaluate does).</summary>
public static class PipelineScores
{
    /// <param name="settings">The pipeline's components (which scorers run).</param>
    /// <param name="labels">Each component's labels.</param>
    /// <param name="gold">The annotated examples.</param>
    /// <param name="predictions">What the pipeline predicted for each example.</param>
    /// <param name="predictedWords">
    /// The predicted documents' own tokens when the pipeline tokenized the texts itself (a spaCy
    /// pipeline): predictions are then aligned to the gold tokens, and the tokenization is scored, as
    /// spaCy's <c>nlp.evaluate</c> does. Null when the predictions are over the gold tokens.
    /// </param>
    /// <param name="predictedSpaces">The predicted tokens' trailing spaces, beside <paramref name="predictedWords"/>.</param>
    public static ScoreSet Compute(
        TrainingSettings settings,
        PipelineLabels labels,
        IReadOnlyList<Example> gold,
        IReadOnlyList<Prediction> predictions,
        IReadOnlyList<IReadOnlyList<string>>? predictedWords = null,
        IReadOnlyList<IReadOnlyList<bool>>? predictedSpaces = null)
    {
        var scores = new ScoreSet();
        IReadOnlyList<string> Words(int i) => predictedWords?[i] ?? gold[i].Words;
        IReadOnlyList<bool> Spaces(int i) => predictedSpaces?[i] ?? gold[i].Spaces;
        if (predictedWords is not null)
        {
            var tokens = SpacyScorer.ScoreTokenization(gold.Select((g, i) => (new ScoreDoc(Words(i), Spaces(i)), new ScoreDoc(g.Words, g.Spaces))));
            scores.Values["token_acc"] = tokens.Accuracy;
            scores.Values["token_p"] = tokens.Precision;
            scores.Values["token_r"] = tokens.Recall;
            scores.Values["token_f"] = tokens.F;
        }

        if (settings.Ner is not null)
        {
            scores.Merge(ScoreSet.From(SpacyScorer.ScoreNer(gold.Select((g, i) => (
                new ScoreDoc(Words(i), Spaces(i), entities: predictions[i].Entities.Select(Span).ToList()),
                new ScoreDoc(g.Words, g.Spaces, entities: g.Entities?.Select(Span).ToList(), missingEntityTokens: g.Entities is null ? Enumerable.Repeat(true, g.Length).ToArray() : g.EntityMissing))))));
        }

        foreach (var textcat in settings.Textcats)
        {
            var componentLabels = labels.Textcat.GetValueOrDefault(textcat.Component) ?? [];
            var known = componentLabels.ToHashSet(StringComparer.Ordinal);
            // Docs without an annotated label of this component say nothing about it.
            var pairs = gold.Select((g, i) => (Gold: g, Pred: predictions[i], Index: i))
                .Where(p => p.Gold.Cats.Keys.Any(known.Contains))
                .Select(p => (
                    new ScoreDoc(Words(p.Index), Spaces(p.Index), cats: p.Pred.Cats.GetValueOrDefault(textcat.Component) ?? new Dictionary<string, double>()),
                    new ScoreDoc(p.Gold.Words, p.Gold.Spaces, cats: componentLabels.Where(p.Gold.Cats.ContainsKey).Select(l => new KeyValuePair<string, double>(l, p.Gold.Cats[l])).ToList())))
                .ToList();
            var options = textcat.Exclusive ? CatsScoringOptions.Exclusive(componentLabels) : CatsScoringOptions.Multilabel(componentLabels, textcat.Threshold);
            scores.Merge(ScoreSet.From(SpacyScorer.ScoreCats(pairs, options)));
        }

        if (settings.Spancat is { } spancat)
        {
            var key = spancat.SpansKey;
            scores.Merge(ScoreSet.From(SpacyScorer.ScoreSpancat(
                gold.Select((g, i) => (
                    new ScoreDoc(Words(i), Spaces(i), spanGroups: new Dictionary<string, IReadOnlyList<ScoreSpan>> { [key] = predictions[i].Spans.GetValueOrDefault(key)?.Select(s => Span(s.Span)).ToList() ?? [] }),
                    new ScoreDoc(g.Words, g.Spaces, spanGroups: g.SpanGroups.TryGetValue(key, out var group)
                        ? new Dictionary<string, IReadOnlyList<ScoreSpan>> { [key] = group.Select(Span).ToList() }
                        : new Dictionary<string, IReadOnlyList<ScoreSpan>>()))),
                key)));
        }

        return scores;
    }

    private static ScoreSpan Span(LabeledSpan span) => new(span.Start, span.End, span.Label);
}
