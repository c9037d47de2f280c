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

    /// <summary>A copy to continue from (spaCy's <c>StateClass.copy</c>), as cutting long documents for training needs.</summary>
    public BiluoState Clone()
    {
        var copy = new BiluoState(Doc, Offset) { Next = Next };
        copy.Entities.AddRange(Entities);
        return copy;
    }
}

/// <summary>
/// The annotation the NER oracle compares a state with (spaCy's <c>BiluoGold</c>): each token's gold
/// move and label (<see cref="BiluoTransitionSystem.Missing"/> where the annotation says nothing) and
/// the rejected entities (<c>incorrect_spans_key</c>), which make the moves that would build them cost more.
/// </summary>
internal sealed class BiluoGold(int[] moves, string[] labels, IReadOnlyList<(int Start, int End, string Label)> negatives)
{
    public int[] Moves { get; } = moves;

    public string[] Labels { get; } = labels;

    public IReadOnlyList<(int Start, int End, string Label)> Negatives { get; } = negatives;

    /// <summary>spaCy's <c>has_gold</c>: whether tokens [start, end) carry any annotation (or a rejected entity lies within them).</summary>
    public bool HasGold(int start, int end)
    {
        foreach (var (s, e, _) in Negatives)
        {
            if (s >= start && e <= end)
            {
                return true;
            }
        }

        for (var i = start; i < end; i++)
        {
            if (Moves[i] != BiluoTransitionSystem.Missing)
            {
                return true;
            }
        }

        return false;
    }
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

    /// <summary>The classes (move, label) in the model's output order.</summary>
    public IReadOnlyList<(int Move, string Label)> Classes => _classes;

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

    /// <summary>
    /// spaCy's cost of a valid class in a state against the gold (ner.pyx's Begin/In/Last/Unit/Out
    /// <c>cost</c>): 0 when the move can still lead to the gold entities; missing tokens cost nothing;
    /// building a rejected entity adds 1.
    /// </summary>
    public int Cost(BiluoState state, BiluoGold gold, int index)
    {
        var (move, label) = _classes[index];
        var b0 = state.Next;
        var goldMove = gold.Moves[b0];
        var goldLabel = gold.Labels[b0];
        var cost = 0;
        switch (move)
        {
            case Begin:
                cost += goldMove switch { Missing => 0, Begin => label != goldLabel ? 1 : 0, _ => 1 };
                // Only where one Last can follow does opening a rejected entity certainly build it.
                if (state.BufferLength < 3 && gold.Negatives.Any(n => n.Label == label && n.Start == b0))
                {
                    cost++;
                }

                return cost;
            case In:
            {
                var nextMove = b0 + 1 < state.Doc.Length ? gold.Moves[b0 + 1] : Out;
                var sunk = EntityIsSunk(state, gold);
                return goldMove switch
                {
                    Missing or Begin or In => 0,
                    Last => sunk && nextMove is Out or Missing ? 0 : 1,
                    Out => nextMove is Out or Missing ? 0 : 1,
                    Unit => nextMove != Out ? 1 : 0,
                    _ => 1,
                };
            }

            case Last:
                cost += goldMove == In && !EntityIsSunk(state, gold) ? 1 : 0;
                if (gold.Negatives.Any(n => n.Label == label && n.End - 1 == b0 && n.Start == state.Entities[^1].Start))
                {
                    cost++;
                }

                return cost;
            case Unit:
                cost += goldMove switch { Missing => 0, Unit => label != goldLabel ? 1 : 0, _ => 1 };
                if (gold.Negatives.Any(n => n.Label == label && n.Start == b0 && n.End == b0 + 1))
                {
                    cost++;
                }

                return cost;
            case Out:
                return goldMove is Begin or Unit ? 1 : 0;
            default:
                return 9000;
        }
    }

    // The open entity cannot become a gold one: its first token is not a gold B or U of its label.
    private static bool EntityIsSunk(BiluoState state, BiluoGold gold)
    {
        if (!state.EntityIsOpen)
        {
            return false;
        }

        var (start, _, label) = state.Entities[^1];
        return gold.Moves[start] is not (Begin or Unit) || gold.Labels[start] != label;
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
