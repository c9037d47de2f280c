namespace Prodigy.Build.Core.Spacy;

/// <summary>spaCy's ENT_IOB values, as stored in a DocBin.</summary>
public enum EntityIob : byte
{
    /// <summary>No annotation (missing): the model gets no signal for this token.</summary>
    Missing = 0,
    Inside = 1,
    Outside = 2,
    Begin = 3,
}

/// <summary>A token's entity annotation: IOB and label ("" when O or missing).</summary>
public readonly record struct EntityTag(EntityIob Iob, string Label, string KbId = "", string Id = "")
{
    public static readonly EntityTag Missing = new(EntityIob.Missing, "");
    public static readonly EntityTag Outside = new(EntityIob.Outside, "");
}

/// <summary>A span in a span group: token offsets (end exclusive), label, and optional KB id and id.</summary>
public sealed record SpacySpan(int Start, int End, string Label, string KbId = "", string Id = "");

/// <summary>
/// A span group under a key of <c>doc.spans</c>. <see cref="Name"/> is usually the key.
/// <see cref="Attrs"/> holds SpanGroup.attrs (msgpack-able values), empty by default.
/// </summary>
public sealed class SpacySpanGroup(string name, IEnumerable<SpacySpan>? spans = null)
{
    public string Name { get; set; } = name;

    public List<SpacySpan> Spans { get; } = [.. spans ?? []];

    public List<KeyValuePair<string, object?>> Attrs { get; } = [];
}

/// <summary>
/// A spaCy Doc as a DocBin stores it: words, trailing spaces, norms, and the annotation layers the
/// SDK writes (entities, cats, span groups) plus the rest of spaCy's token attributes so that any
/// <c>.spacy</c> file reads back completely. Arrays are per token; null means "not set" for the layer.
/// </summary>
public sealed class SpacyDoc
{
    public SpacyDoc(IReadOnlyList<string> words, IReadOnlyList<bool>? spaces, IReadOnlyList<string> norms)
    {
        if (spaces is not null && spaces.Count != words.Count)
        {
            throw new ArgumentException($"{spaces.Count} spaces for {words.Count} words", nameof(spaces));
        }

        if (norms.Count != words.Count)
        {
            throw new ArgumentException($"{norms.Count} norms for {words.Count} words", nameof(norms));
        }

        Words = words;
        Spaces = spaces;
        Norms = norms;
    }

    public IReadOnlyList<string> Words { get; }

    /// <summary>Trailing-space flags; null when the doc was built without them (has_unknown_spaces).</summary>
    public IReadOnlyList<bool>? Spaces { get; }

    /// <summary>Each token's NORM (token norm if set, else lexeme norm).</summary>
    public IReadOnlyList<string> Norms { get; }

    public int Length => Words.Count;

    /// <summary>Per-token entity annotation; null = every token missing.</summary>
    public EntityTag[]? Entities { get; set; }

    /// <summary>doc.cats in insertion order; values are <see cref="double"/> (or <see cref="long"/> for ints).</summary>
    public List<KeyValuePair<string, object>> Cats { get; } = [];

    /// <summary>doc.spans in insertion order: key and group. The same group object may appear under two keys.</summary>
    public List<KeyValuePair<string, SpacySpanGroup>> SpanGroups { get; } = [];

    // Full token annotation (rarely written by the SDK, kept for exact round trips).
    public string[]? Tags { get; set; }

    /// <summary>Universal POS tag names (NOUN, VERB, ...); "" = unset.</summary>
    public string[]? Pos { get; set; }

    /// <summary>FEATS strings as given (canonicalized when stored); null entries = unset.</summary>
    public string?[]? Morphs { get; set; }

    public string[]? Lemmas { get; set; }

    public string[]? Deps { get; set; }

    /// <summary>Absolute head indexes; null = no heads.</summary>
    public int[]? Heads { get; set; }

    /// <summary>1 start, -1 not a start, 0 unknown; null = spaCy's default (1 on token 0).</summary>
    public int[]? SentStarts { get; set; }

    /// <summary>doc.user_data as (key, value) pairs of msgpack-able values; a key may be an object[] (a Python tuple).</summary>
    public List<KeyValuePair<object, object?>> UserData { get; } = [];

    /// <summary>The text: words joined with their trailing spaces.</summary>
    public string Text
    {
        get
        {
            var builder = new System.Text.StringBuilder();
            for (var i = 0; i < Words.Count; i++)
            {
                builder.Append(Words[i]);
                if (Spaces is null || Spaces[i])
                {
                    builder.Append(' ');
                }
            }

            return builder.ToString();
        }
    }
}
