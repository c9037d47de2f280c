using System.Text.Json.Serialization;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The labels of each component in the order of the model's outputs, as spaCy's initialize adds them: a
/// labels file's order; without one, ner sorted and textcat, textcat_multilabel and spancat in the order the
/// training corpus first uses each label; a base model's labels first, the new ones appended after them.
/// </summary>
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
    /// which the corpus writes) when it has one, in its order, else every label the training data uses. With
    /// a base model (<paramref name="start"/>), its labels come first in its order and keep their outputs, and
    /// the new ones follow in that same order, as add_label appends them; labels the new data lacks stay, as
    /// spaCy keeps them on resume.
    /// </summary>
    public static PipelineLabels Collect(TrainingSettings settings, IEnumerable<Example> examples, Func<string, IReadOnlyList<string>?> labelsFile, PipelineLabels? start = null)
    {
        var found = CollectFromData(settings, examples);
        var result = new PipelineLabels
        {
            Ner = ExtendBase(start?.Ner, settings.Ner is not null ? labelsFile(settings.Ner.Name) ?? found.Ner : found.Ner),
            Spancat = ExtendBase(start?.Spancat, settings.Spancat is not null ? labelsFile(settings.Spancat.Name) ?? found.Spancat : found.Spancat),
        };
        foreach (var textcat in settings.Textcats)
        {
            result.Textcat[textcat.Component] = ExtendBase(
                start?.Textcat.GetValueOrDefault(textcat.Component),
                labelsFile(textcat.Component) ?? found.Textcat[textcat.Component]);
        }

        return result;
    }

    /// <summary>
    /// The labels of spaCy pipeline components (loaded or planned), by factory: ner, textcat and
    /// textcat_multilabel (by component name), spancat; in each component's own label order.
    /// </summary>
    public static PipelineLabels Of(IEnumerable<Core.Pipelines.IPipelineComponent> components)
    {
        var labels = new PipelineLabels();
        foreach (var component in components)
        {
            switch (component.Factory)
            {
                case "ner":
                    labels.Ner.AddRange(component.Labels);
                    break;
                case "textcat" or "textcat_multilabel":
                    labels.Textcat[component.Name] = [.. component.Labels];
                    break;
                case "spancat":
                    labels.Spancat.AddRange(component.Labels);
                    break;
            }
        }

        return labels;
    }

    /// <summary>What <see cref="Collect"/> added to each component of a base model's labels (empty lists when nothing).</summary>
    public IEnumerable<(string Component, IReadOnlyList<string> Added)> AddedTo(PipelineLabels baseLabels, TrainingSettings settings)
    {
        if (settings.Ner is not null)
        {
            yield return (settings.Ner.Name, Ner.Except(baseLabels.Ner, StringComparer.Ordinal).ToList());
        }

        foreach (var textcat in settings.Textcats)
        {
            yield return (textcat.Component, Textcat[textcat.Component].Except(baseLabels.Textcat.GetValueOrDefault(textcat.Component) ?? [], StringComparer.Ordinal).ToList());
        }

        if (settings.Spancat is not null)
        {
            yield return (settings.Spancat.Name, Spancat.Except(baseLabels.Spancat, StringComparer.Ordinal).ToList());
        }
    }

    // The base labels keep their positions (their output rows are the base model's); the others follow in their order.
    private static List<string> ExtendBase(IReadOnlyList<string>? baseLabels, IEnumerable<string> labels)
    {
        var result = new List<string>(baseLabels ?? []);
        var known = new HashSet<string>(result, StringComparer.Ordinal);
        result.AddRange(labels.Where(known.Add));
        return result;
    }

    // The labels initialize would add, in the order LabelFiles writes them (ner sorted, the others by first use).
    private static PipelineLabels CollectFromData(TrainingSettings settings, IEnumerable<Example> examples)
    {
        var corpus = examples as IReadOnlyList<Example> ?? examples.ToList();
        var ner = settings.Ner is null
            ? []
            : LabelFiles.Order("ner", corpus.SelectMany(e => (e.Entities ?? []).Concat(e.IncorrectEntities)).Select(e => e.Label));
        var cats = LabelFiles.Order("textcat", corpus.SelectMany(e => e.Cats.Keys));
        var spans = settings.Spancat is null
            ? []
            : LabelFiles.Order("spancat", corpus.SelectMany(e => e.SpanGroups.TryGetValue(settings.Spancat.SpansKey, out var group) ? group : []).Select(s => s.Label));
        return new PipelineLabels
        {
            Ner = [.. ner],
            Textcat = settings.Textcats.ToDictionary(t => t.Component, _ => cats.ToList(), StringComparer.Ordinal),
            Spancat = [.. spans],
        };
    }
}
