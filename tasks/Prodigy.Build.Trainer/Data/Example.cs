using System.Globalization;
using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Trainer.Data;

/// <summary>A gold entity or span: token offsets (end exclusive) and label.</summary>
public readonly record struct LabeledSpan(int Start, int End, string Label);

/// <summary>
/// A document as the trainer sees it: words (and their features), and the gold annotation of each
/// component, with "missing" kept apart from "no": missing entity tokens, labels without a value,
/// docs without the spans key.
/// </summary>
public sealed class Example
{
    public required IReadOnlyList<string> Words { get; init; }

    public required IReadOnlyList<bool> Spaces { get; init; }

    public required IReadOnlyList<string> Norms { get; init; }

    /// <summary>Gold entities, or null when the doc has no entity annotation at all.</summary>
    public IReadOnlyList<LabeledSpan>? Entities { get; init; }

    /// <summary>Per token: true when the token's entity annotation is missing (binary data, unannotated regions).</summary>
    public bool[]? EntityMissing { get; init; }

    /// <summary>Spans known not to be entities of their label (binary NER's rejected suggestions).</summary>
    public IReadOnlyList<LabeledSpan> IncorrectEntities { get; init; } = [];

    /// <summary>Category values (0..1) of the labels the doc has; labels not here are missing.</summary>
    public IReadOnlyDictionary<string, double> Cats { get; init; } = new Dictionary<string, double>();

    /// <summary>Span groups by key (only keys the doc has are annotated).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<LabeledSpan>> SpanGroups { get; init; } = new Dictionary<string, IReadOnlyList<LabeledSpan>>();

    public int Length => Words.Count;

    /// <summary>The document's text, as spaCy's <c>doc.text</c>: every token with its trailing space, the last one's too.</summary>
    public string Text => string.Concat(Words.Select((w, i) => Spaces[i] ? w + " " : w));

    /// <summary>Whether the corpus did not record the tokens' trailing spaces (spaCy's <c>has_unknown_spaces</c>): spaCy trains such a doc on its own tokens.</summary>
    public bool UnknownSpaces { get; init; }

    /// <summary>Reads a doc of a spaCy corpus.</summary>
    public static Example FromDoc(SpacyDoc doc, string? incorrectSpansKey = "incorrect_spans")
    {
        var norms = new string[doc.Length];
        for (var i = 0; i < doc.Length; i++)
        {
            norms[i] = doc.Norms.Count > i && !string.IsNullOrEmpty(doc.Norms[i]) ? doc.Norms[i] : Core.Text.PythonText.Lower(doc.Words[i]);
        }

        List<LabeledSpan>? entities = null;
        bool[]? missing = null;
        if (doc.Entities is { } tags && tags.Any(t => t.Iob != EntityIob.Missing))
        {
            entities = [];
            missing = new bool[doc.Length];
            var start = -1;
            var label = "";
            for (var i = 0; i <= tags.Length; i++)
            {
                var tag = i < tags.Length ? tags[i] : EntityTag.Outside;
                if (start >= 0 && tag.Iob != EntityIob.Inside)
                {
                    entities.Add(new LabeledSpan(start, i, label));
                    start = -1;
                }

                if (i == tags.Length)
                {
                    break;
                }

                missing[i] = tag.Iob == EntityIob.Missing;
                if (tag.Iob == EntityIob.Begin)
                {
                    start = i;
                    label = tag.Label;
                }
            }
        }

        var groups = new Dictionary<string, IReadOnlyList<LabeledSpan>>(StringComparer.Ordinal);
        var incorrect = new List<LabeledSpan>();
        foreach (var (key, group) in doc.SpanGroups)
        {
            var spans = group.Spans.Select(s => new LabeledSpan(s.Start, s.End, s.Label)).ToList();
            if (key == incorrectSpansKey)
            {
                incorrect.AddRange(spans);
            }
            else
            {
                groups[key] = spans;
            }
        }

        var cats = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (label, value) in doc.Cats)
        {
            cats[label] = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        }

        return new Example
        {
            Words = doc.Words,
            Spaces = doc.Spaces ?? Enumerable.Repeat(true, doc.Length).ToArray(),
            UnknownSpaces = doc.Spaces is null,
            Norms = norms,
            Entities = entities,
            EntityMissing = missing,
            IncorrectEntities = incorrect,
            Cats = cats,
            SpanGroups = groups,
        };
    }

    /// <summary>A doc to predict on: words only.</summary>
    public static Example Unannotated(IReadOnlyList<string> words, IReadOnlyList<bool> spaces, IReadOnlyList<string> norms) =>
        new() { Words = words, Spaces = spaces, Norms = norms };
}
