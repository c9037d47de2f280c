using System.Text.Json.Serialization;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Model;

/// <summary>The labels of each component, in a fixed (sorted, ordinal) order: the order of the model's outputs.</summary>
public sealed class PipelineLabels
{
    [JsonPropertyName("ner")]
    public List<string> Ner { get; init; } = [];

    [JsonPropertyName("textcat")]
    public Dictionary<string, List<string>> Textcat { get; init; } = new(StringComparer.Ordinal);

    [JsonPropertyName("spancat")]
    public List<string> Spancat { get; init; } = [];

    /// <summary>
    /// The labels of each component: those of its labels file (<c>[initialize.components.X.labels]</c>,
    /// which the corpus writes) when it has one, else every label the training data uses; a base
    /// model's labels are kept.
    /// </summary>
    public static PipelineLabels Collect(TrainingSettings settings, IEnumerable<Example> examples, Func<string, IReadOnlyList<string>?> labelsFile, PipelineLabels? start = null)
    {
        var result = CollectFromData(settings, examples, start);
        if (settings.Ner is not null && labelsFile("ner") is { } nerLabels)
        {
            result.Ner.Clear();
            result.Ner.AddRange(nerLabels.Union(start?.Ner ?? []).Distinct().Order(StringComparer.Ordinal));
        }

        foreach (var textcat in settings.Textcats)
        {
            if (labelsFile(textcat.Component) is { } catLabels)
            {
                result.Textcat[textcat.Component] = [.. catLabels.Union(start?.Textcat.GetValueOrDefault(textcat.Component) ?? []).Distinct().Order(StringComparer.Ordinal)];
            }
        }

        if (settings.Spancat is not null && labelsFile("spancat") is { } spanLabels)
        {
            result.Spancat.Clear();
            result.Spancat.AddRange(spanLabels.Union(start?.Spancat ?? []).Distinct().Order(StringComparer.Ordinal));
        }

        return result;
    }

    private static PipelineLabels CollectFromData(TrainingSettings settings, IEnumerable<Example> examples, PipelineLabels? start)
    {
        var ner = new SortedSet<string>(start?.Ner ?? [], StringComparer.Ordinal);
        var cats = settings.Textcats.ToDictionary(t => t.Component, t => new SortedSet<string>(start?.Textcat.GetValueOrDefault(t.Component) ?? [], StringComparer.Ordinal), StringComparer.Ordinal);
        var spans = new SortedSet<string>(start?.Spancat ?? [], StringComparer.Ordinal);
        foreach (var example in examples)
        {
            if (settings.Ner is not null)
            {
                foreach (var entity in example.Entities ?? [])
                {
                    ner.Add(entity.Label);
                }

                foreach (var entity in example.IncorrectEntities)
                {
                    ner.Add(entity.Label);
                }
            }

            foreach (var (_, labels) in cats)
            {
                labels.UnionWith(example.Cats.Keys);
            }

            if (settings.Spancat is not null && example.SpanGroups.TryGetValue(settings.Spancat.SpansKey, out var group))
            {
                spans.UnionWith(group.Select(s => s.Label));
            }
        }

        return new PipelineLabels
        {
            Ner = [.. ner],
            Textcat = cats.ToDictionary(c => c.Key, c => c.Value.ToList(), StringComparer.Ordinal),
            Spancat = [.. spans],
        };
    }
}
