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
}
