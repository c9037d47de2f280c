using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Core.Scoring;

/// <summary>A labelled token span: <see cref="Start"/> inclusive, <see cref="End"/> exclusive.</summary>
public readonly record struct ScoreSpan(int Start, int End, string Label);

/// <summary>
/// The parts of a spaCy Doc that the scorers read: words and trailing spaces (for aligning two
/// tokenizations), entities with the tokens whose entity annotation is missing, cats, and span groups.
/// The same type serves as the predicted and the gold (reference) side of an example.
/// </summary>
public sealed class ScoreDoc
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<ScoreSpan>> NoSpanGroups =
        new Dictionary<string, IReadOnlyList<ScoreSpan>>(StringComparer.Ordinal);

    /// <param name="words">The token texts.</param>
    /// <param name="spaces">Whether each token is followed by a space; null = unknown, which spaCy treats as a space after every token.</param>
    /// <param name="entities">doc.ents: sorted, non-overlapping, non-empty spans with a label.</param>
    /// <param name="missingEntityTokens">
    /// Per token, true where the entity annotation is missing (spaCy's ENT_IOB 0: neither in an entity nor O).
    /// null = no token is missing. A gold doc without any entity annotation has every token missing.
    /// </param>
    /// <param name="cats">doc.cats in insertion order (the order decides ties between equal scores).</param>
    /// <param name="spanGroups">doc.spans: key → spans (may overlap; zero-length spans are allowed, as in spaCy).</param>
    /// <exception cref="ArgumentException">The layers do not fit the words, or entities overlap missing tokens or each other.</exception>
    public ScoreDoc(
        IReadOnlyList<string> words,
        IReadOnlyList<bool>? spaces = null,
        IReadOnlyList<ScoreSpan>? entities = null,
        IReadOnlyList<bool>? missingEntityTokens = null,
        IEnumerable<KeyValuePair<string, double>>? cats = null,
        IReadOnlyDictionary<string, IReadOnlyList<ScoreSpan>>? spanGroups = null)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (spaces is not null && spaces.Count != words.Count)
        {
            throw new ArgumentException($"{spaces.Count} spaces for {words.Count} words", nameof(spaces));
        }

        if (missingEntityTokens is not null && missingEntityTokens.Count != words.Count)
        {
            throw new ArgumentException($"{missingEntityTokens.Count} missing-entity flags for {words.Count} words", nameof(missingEntityTokens));
        }

        Words = words;
        Spaces = spaces;
        MissingEntityTokens = missingEntityTokens;
        Entities = entities ?? [];
        ValidateEntities();
        Cats = cats is null ? [] : UniqueCats(cats);
        SpanGroups = spanGroups ?? NoSpanGroups;
        foreach (var (key, spans) in SpanGroups)
        {
            foreach (var span in spans)
            {
                if (span.Start < 0 || span.Start > span.End || span.End > words.Count)
                {
                    throw new ArgumentException($"Span group '{key}': span {span.Start}..{span.End} is outside the doc's {words.Count} tokens", nameof(spanGroups));
                }
            }
        }
    }

    public IReadOnlyList<string> Words { get; }

    public IReadOnlyList<bool>? Spaces { get; }

    public int Length => Words.Count;

    public IReadOnlyList<ScoreSpan> Entities { get; }

    public IReadOnlyList<bool>? MissingEntityTokens { get; }

    public IReadOnlyList<KeyValuePair<string, double>> Cats { get; }

    public IReadOnlyDictionary<string, IReadOnlyList<ScoreSpan>> SpanGroups { get; }

    /// <summary>
    /// spaCy's <c>doc.has_annotation("ENT_IOB")</c>: some token is annotated (in an entity or O).
    /// A zero-token doc counts as annotated, as in spaCy.
    /// </summary>
    public bool HasEntityAnnotation => Length == 0 || MissingEntityTokens is null || MissingEntityTokens.Contains(false);

    /// <summary>
    /// The scorer's view of a DocBin doc: entities as spaCy's <c>doc.ents</c> derives them from the IOB
    /// tags (an I tag continues the open entity; B with an empty label and O end it), missing tokens
    /// where ENT_IOB is 0, cats as doubles, and every span group under its key.
    /// </summary>
    /// <exception cref="ArgumentException">An I tag opens no entity (spaCy's E093), or a cat value is not a number.</exception>
    public static ScoreDoc FromSpacyDoc(SpacyDoc doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var entities = new List<ScoreSpan>();
        bool[] missing;
        if (doc.Entities is null)
        {
            missing = Enumerable.Repeat(true, doc.Length).ToArray();
        }
        else
        {
            missing = [.. doc.Entities.Select(tag => tag.Iob == EntityIob.Missing)];
            AddEntitiesFromTags(doc.Entities, entities);
        }

        var cats = doc.Cats.Select(cat => KeyValuePair.Create(cat.Key, CatValue(cat.Key, cat.Value)));
        var spanGroups = new Dictionary<string, IReadOnlyList<ScoreSpan>>(StringComparer.Ordinal);
        foreach (var (key, group) in doc.SpanGroups)
        {
            spanGroups[key] = [.. group.Spans.Select(span => new ScoreSpan(span.Start, span.End, span.Label))];
        }

        return new ScoreDoc(doc.Words, doc.Spaces, entities, missing, cats, spanGroups);
    }

    /// <summary>Whether token <paramref name="index"/>'s entity annotation is missing; tokens past the end are not.</summary>
    internal bool IsEntityMissing(int index) => MissingEntityTokens is not null && index < Length && MissingEntityTokens[index];

    /// <summary>Whether token <paramref name="index"/> is followed by a space.</summary>
    internal bool HasSpaceAfter(int index) => Spaces is null || Spaces[index];

    private static void AddEntitiesFromTags(IReadOnlyList<EntityTag> tags, List<ScoreSpan> entities)
    {
        var start = -1;
        var label = "";
        for (var i = 0; i < tags.Count; i++)
        {
            var tag = tags[i];
            if (tag.Iob == EntityIob.Inside)
            {
                if (start == -1)
                {
                    throw new ArgumentException($"Token {i} has an I entity tag without an entity to continue (spaCy's E093).", nameof(tags));
                }

                continue;
            }

            if (start != -1)
            {
                entities.Add(new ScoreSpan(start, i, label));
                start = -1;
            }

            // spaCy's doc.ents treats B with an empty label like O.
            if (tag.Iob == EntityIob.Begin && tag.Label.Length > 0)
            {
                start = i;
                label = tag.Label;
            }
        }

        if (start != -1)
        {
            entities.Add(new ScoreSpan(start, tags.Count, label));
        }
    }

    private static double CatValue(string label, object value) =>
        BoxedNumber.TryToDouble(value, out var number)
            ? number
            : throw new ArgumentException($"Cat '{label}' has a {value.GetType().Name} value; scores must be numbers.", nameof(value));

    private static KeyValuePair<string, double>[] UniqueCats(IEnumerable<KeyValuePair<string, double>> cats)
    {
        var result = cats.ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (label, _) in result)
        {
            if (!seen.Add(label))
            {
                throw new ArgumentException($"Cat '{label}' is given twice.", nameof(cats));
            }
        }

        return result;
    }

    private void ValidateEntities()
    {
        var previousEnd = 0;
        foreach (var entity in Entities)
        {
            if (entity.Start < previousEnd || entity.Start >= entity.End || entity.End > Length || string.IsNullOrEmpty(entity.Label))
            {
                throw new ArgumentException(
                    $"Entity {entity.Start}..{entity.End} '{entity.Label}' must be non-empty, labelled, inside the doc's {Length} tokens and after the previous entity.",
                    "entities");
            }

            for (var i = entity.Start; i < entity.End; i++)
            {
                if (IsEntityMissing(i))
                {
                    throw new ArgumentException($"Entity {entity.Start}..{entity.End} '{entity.Label}' covers token {i}, whose entity annotation is marked missing.", "entities");
                }
            }

            previousEnd = entity.End;
        }
    }
}
