namespace Prodigy.Build.Core.Pipelines;

/// <summary>The state of the entity recognizer on one document: the next token (the buffer's head) and the entities so far.</summary>
internal sealed class BiluoState(PipelineDoc doc, int offset)
{
    public PipelineDoc Doc { get; } = doc;

    /// <summary>The document's first row in the batch.</summary>
    public int Offset { get; } = offset;

    /// <summary>The token at the head of the buffer (spaCy's <c>B(0)</c>); the document's length when it is empty.</summary>
    public int Next { get; set; }

    /// <summary>The entities; an open one has <c>End = -1</c>.</summary>
    public List<(int Start, int End, string Label)> Entities { get; } = [];

    public int BufferLength => Doc.Length - Next;

    public bool EntityIsOpen => Entities.Count > 0 && Entities[^1].End == -1;
}

/// <summary>
/// spaCy's <c>BiluoPushDown</c> (the <c>ner</c> component's moves) for a fresh document, which has no
/// preset entities: Begin, In, Last, Unit and Out with spaCy's validity rules, and the three feature
/// tokens of <c>set_context_tokens</c> (the next token, the open entity's first token, the token
/// before the next one while an entity is open).
/// </summary>
internal sealed class BiluoTransitionSystem : ITransitionSystem<BiluoState>
{
    public const int Missing = 0;
    public const int Begin = 1;
    public const int In = 2;
    public const int Last = 3;
    public const int Unit = 4;
    public const int Out = 5;

    private static readonly string[] MoveNames = ["M", "B", "I", "L", "U", "O"];

    private readonly (int Move, string Label)[] _classes;

    public BiluoTransitionSystem(IReadOnlyList<(int Move, string Label)> classes) => _classes = [.. classes];

    public int ClassCount => _classes.Length;

    public int FeatureCount => 3;

    /// <summary>The entity labels (every label of a B, I, L or U move but the empty one), sorted as spaCy's <c>ner.labels</c>.</summary>
    public IReadOnlyList<string> Labels => _classes.Where(c => c.Move is Begin or In or Last or Unit && c.Label.Length > 0)
        .Select(c => c.Label).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether <c>BiluoPushDown.add_action</c> keeps a move: never Missing, and Out only without a label.</summary>
    public static bool Accepts(int move, string label) => move is >= Begin and <= Out && (move != Out || label.Length == 0);

    public string ClassName(int index) => _classes[index].Move == Out ? "O" : $"{MoveNames[_classes[index].Move]}-{_classes[index].Label}";

    public BiluoState Start(PipelineDoc doc, int offset) => new(doc, offset);

    public bool IsFinal(BiluoState state) => state.BufferLength <= 0;

    public bool IsValid(BiluoState state, int index)
    {
        var (move, label) = _classes[index];
        var hasLabel = label.Length > 0;
        return move switch
        {
            // A fresh document has no preset entity tags and, past its first token, no sentence starts.
            Begin => !state.EntityIsOpen && state.BufferLength >= 2 && hasLabel && !IsSpace(state),
            In => state.EntityIsOpen && state.BufferLength >= 2 && hasLabel && state.Entities[^1].Label == label,
            Last => hasLabel && state.EntityIsOpen && state.Entities[^1].Label == label,
            Unit => hasLabel && !state.EntityIsOpen && !IsSpace(state),
            Out => !state.EntityIsOpen,
            _ => false,
        };
    }

    // Entities never start on a whitespace token (the lexeme's IS_SPACE: Python's str.isspace()).
    private static bool IsSpace(BiluoState state)
    {
        var text = state.Doc.Tokens[state.Next].Text;
        return text.Length > 0 && text.All(c => Text.PythonText.IsSpace(c));
    }

    public void Apply(BiluoState state, int index)
    {
        var (move, label) = _classes[index];
        switch (move)
        {
            case Begin:
                state.Entities.Add((state.Next, -1, label));
                break;
            case Last:
                state.Entities[^1] = state.Entities[^1] with { End = state.Next + 1 };
                break;
            case Unit:
                state.Entities.Add((state.Next, state.Next + 1, label));
                break;
        }

        state.Next++;
    }

    public void ContextTokens(BiluoState state, Span<int> rows)
    {
        var next = state.BufferLength > 0 ? state.Next : -1;
        var entityStart = state.EntityIsOpen ? state.Entities[^1].Start : -1;
        rows[0] = next < 0 ? -1 : next + state.Offset;
        rows[1] = entityStart < 0 ? -1 : entityStart + state.Offset;
        rows[2] = next < 0 || entityStart < 0 ? -1 : next - 1 + state.Offset;
    }

    public void SetAnnotations(BiluoState state)
    {
        var doc = state.Doc;
        doc.Entities.Clear();
        foreach (var (start, end, label) in state.Entities)
        {
            if (end != -1)
            {
                doc.Entities.Add(new PredictedSpan(start, end, label));
            }
        }
    }
}
