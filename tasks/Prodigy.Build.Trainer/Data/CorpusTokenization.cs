using Prodigy.Build.Core.Scoring;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Trainer.Data;

/// <summary>
/// What spaCy's <c>Corpus</c> yields for a gold document: an example whose predicted document is the
/// pipeline's tokenizer run on the text (<c>nlp.make_doc(reference.text)</c>), the annotation aligned onto
/// those tokens as spaCy's <c>Example</c> aligns it: entities by <c>get_aligned_spans_y2x</c> (a span
/// kept only when the tokens it lands on spell its text), the other tokens O where they align to O tokens
/// only (or are whitespace) and missing otherwise (<c>get_aligned_ner</c>), rejected entities and span
/// groups aligned with overlaps allowed, categories as they are. A document whose tokens are already the
/// tokenizer's is returned as it is; so is one whose spaces are unknown, or every document with
/// <c>gold_preproc</c>, which spaCy trains on the gold tokens.
/// </summary>
public static class CorpusTokenization
{
    /// <summary>The example spaCy trains or evaluates on for <paramref name="gold"/>.</summary>
    /// <exception cref="ArgumentException">The tokens cannot be aligned (spaCy's E949); a tokenizer of the same text always aligns.</exception>
    public static Example Predicted(Example gold, Tokenizer tokenizer)
    {
        if (gold.UnknownSpaces || gold.Length == 0)
        {
            return gold;
        }

        var tokens = tokenizer.Tokenize(gold.Text);
        if (tokens.Count == gold.Length && tokens.Select(t => t.Text).SequenceEqual(gold.Words, StringComparer.Ordinal) && tokens.Select(t => t.Whitespace).SequenceEqual(gold.Spaces))
        {
            return gold;
        }

        var words = tokens.Select(t => t.Text).ToList();
        var spaces = tokens.Select(t => t.Whitespace).ToList();
        var x2y = TokenAlignment.PredictedToGold(words, gold.Words);
        var y2x = Enumerable.Range(0, gold.Length).Select(_ => new List<int>()).ToArray();
        for (var x = 0; x < x2y.Length; x++)
        {
            foreach (var y in x2y[x])
            {
                y2x[y].Add(x);
            }
        }

        IReadOnlyList<LabeledSpan> Align(IReadOnlyList<LabeledSpan> spans, bool allowOverlap) => AlignedSpans(spans, y2x, gold, words, spaces, allowOverlap);

        List<LabeledSpan>? entities = null;
        bool[]? missing = null;
        if (gold.Entities is { } goldEntities)
        {
            entities = [.. Align(goldEntities, allowOverlap: false)];
            missing = new bool[words.Count];
            var inEntity = new bool[words.Count];
            foreach (var entity in entities)
            {
                for (var t = entity.Start; t < entity.End; t++)
                {
                    inEntity[t] = true;
                }
            }

            var goldOutside = GoldOutside(gold);
            for (var x = 0; x < words.Count; x++)
            {
                // get_aligned("ENT_IOB"): a token's gold value when all the gold tokens it aligns to share it.
                var aligned = !IsSpace(words[x]) && x2y[x].Length > 0 && x2y[x].All(y => goldOutside[y]);
                missing[x] = !inEntity[x] && !aligned && !IsSpace(words[x]);
            }
        }

        return new Example
        {
            Words = words,
            Spaces = spaces,
            Norms = tokens.Select(t => t.Norm).ToList(),
            Entities = entities,
            EntityMissing = missing,
            IncorrectEntities = Align(gold.IncorrectEntities, allowOverlap: true),
            Cats = gold.Cats,
            SpanGroups = gold.SpanGroups.ToDictionary(g => g.Key, g => Align(g.Value, allowOverlap: true), StringComparer.Ordinal),
        };
    }

    // Tokens whose ENT_IOB is O: annotated, outside every entity (ENT_IOB of B/I tokens differs, missing ones are 0).
    private static bool[] GoldOutside(Example gold)
    {
        var outside = new bool[gold.Length];
        for (var y = 0; y < gold.Length; y++)
        {
            outside[y] = gold.EntityMissing is not { } missing || !missing[y];
        }

        foreach (var entity in gold.Entities!)
        {
            for (var y = entity.Start; y < entity.End; y++)
            {
                outside[y] = false;
            }
        }

        return outside;
    }

    // Example._get_aligned_spans: the predicted tokens of each span's gold tokens (in order, those of earlier
    // spans left out unless overlaps are allowed), first to last, kept when they spell the span's text
    // (lowered, stripped, spaces removed).
    private static List<LabeledSpan> AlignedSpans(IReadOnlyList<LabeledSpan> spans, List<int>[] y2x, Example gold, IReadOnlyList<string> words, IReadOnlyList<bool> spaces, bool allowOverlap)
    {
        var seen = new HashSet<int>();
        var output = new List<LabeledSpan>();
        foreach (var span in spans)
        {
            var indices = new List<int>();
            for (var y = span.Start; y < Math.Min(span.End, y2x.Length); y++)
            {
                indices.AddRange(y2x[y]);
            }

            if (!allowOverlap)
            {
                indices = indices.Where(i => !seen.Contains(i)).ToList();
            }

            if (indices.Count == 0)
            {
                continue;
            }

            var aligned = new LabeledSpan(indices[0], indices[^1] + 1, span.Label);
            if (Comparable(Text(words, spaces, aligned.Start, aligned.End)) == Comparable(Text(gold.Words, gold.Spaces, span.Start, span.End)))
            {
                output.Add(aligned);
                seen.UnionWith(indices);
            }
        }

        return output;
    }

    // A span's text as spaCy's Span.text gives it: its tokens with the whitespace between them, none after the last.
    private static string Text(IReadOnlyList<string> words, IReadOnlyList<bool> spaces, int start, int end) =>
        string.Concat(Enumerable.Range(start, end - start).Select(i => i < end - 1 && spaces[i] ? words[i] + " " : words[i]));

    private static string Comparable(string text) => StripPython(PythonText.Lower(text)).Replace(" ", "", StringComparison.Ordinal);

    private static string StripPython(string text)
    {
        int start = 0, end = text.Length;
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

    private static bool IsSpace(string word) => word.Length > 0 && word.All(PythonText.IsSpace);
}
