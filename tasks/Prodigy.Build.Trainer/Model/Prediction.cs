using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Model;

/// <summary>What the pipeline says about one doc.</summary>
public sealed class Prediction
{
    public IReadOnlyList<LabeledSpan> Entities { get; init; } = [];

    /// <summary>Per text classification component: label → score (0..1).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Cats { get; init; } = new Dictionary<string, IReadOnlyDictionary<string, double>>();

    /// <summary>Spans by key, each with the probability of its label.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(LabeledSpan Span, double Score)>> Spans { get; init; } = new Dictionary<string, IReadOnlyList<(LabeledSpan, double)>>();

    /// <summary>What a spaCy pipeline wrote into a document, its cats split by component (<paramref name="labels"/>).</summary>
    public static Prediction FromDoc(Core.Pipelines.PipelineDoc doc, PipelineLabels labels) => new()
    {
        Entities = doc.Entities.Select(e => new LabeledSpan(e.Start, e.End, e.Label)).ToList(),
        Cats = CatsByComponent(doc, labels),
        Spans = doc.Spans.ToDictionary(
            s => s.Key,
            s => (IReadOnlyList<(LabeledSpan, double)>)s.Value.Select(x => (new LabeledSpan(x.Start, x.End, x.Label), (double)(x.Score ?? 1f))).ToList(),
            StringComparer.Ordinal),
    };

    /// <summary>doc.cats is one dictionary for every text classifier; split it by each component's labels.</summary>
    public static Dictionary<string, IReadOnlyDictionary<string, double>> CatsByComponent(Core.Pipelines.PipelineDoc doc, PipelineLabels labels) =>
        labels.Textcat.ToDictionary(
            t => t.Key,
            t => (IReadOnlyDictionary<string, double>)t.Value.Where(doc.Cats.ContainsKey).ToDictionary(l => l, l => (double)doc.Cats[l], StringComparer.Ordinal),
            StringComparer.Ordinal);
}
