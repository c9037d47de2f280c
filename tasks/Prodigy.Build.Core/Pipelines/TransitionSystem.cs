namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A transition system as spaCy's parsers run it: per document a state, a fixed list of classes
/// (move + label, in the order of the component's <c>moves</c> file), which classes are valid in a
/// state, what a class does to it, and which tokens the model reads from it. The entity recognizer's
/// BILUO system implements it; an arc-eager dependency parser is another implementation over the
/// same greedy decoder (<see cref="TransitionParserModel"/>).
/// </summary>
internal interface ITransitionSystem<TState>
{
    /// <summary>The number of classes (the model's output width).</summary>
    int ClassCount { get; }

    /// <summary>spaCy's <c>get_class_name</c> (<c>B-ORG</c>, <c>O</c>, ...).</summary>
    string ClassName(int index);

    /// <summary>The number of tokens the model reads per state (the lower layer's <c>nF</c>).</summary>
    int FeatureCount { get; }

    /// <summary>The start state of a document whose first token is row <paramref name="offset"/> of the batch.</summary>
    TState Start(PipelineDoc doc, int offset);

    bool IsFinal(TState state);

    bool IsValid(TState state, int index);

    void Apply(TState state, int index);

    /// <summary>spaCy's <c>set_context_tokens</c>: the batch rows of the feature tokens, -1 where there is none.</summary>
    void ContextTokens(TState state, Span<int> rows);

    /// <summary>Writes what the finished state predicts into its document.</summary>
    void SetAnnotations(TState state);
}

/// <summary>
/// The moves of a <c>moves</c> file in spaCy's class order: <c>TransitionSystem.initialize_actions</c>
/// takes the move types in key order and, within each, the labels by descending (frequency, label);
/// labels with negative frequencies (added later with <c>add_action</c>) follow, by descending
/// (frequency, label).
/// </summary>
internal static class MoveOrder
{
    public static List<(int Move, string Label)> FromFrequencies(IEnumerable<KeyValuePair<string, IReadOnlyList<KeyValuePair<string, long>>>> labelsByMove, Func<int, string, bool> accepts)
    {
        var order = new List<(int Move, string Label)>();
        var added = new List<(long Frequency, string Label)>();
        var addedMoves = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        void Add(int move, string label)
        {
            if (accepts(move, label) && !order.Contains((move, label)))
            {
                order.Add((move, label));
            }
        }

        // Python sorts the keys as strings (they come from JSON), and the (frequency, label) pairs as tuples.
        foreach (var (key, labels) in labelsByMove.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var move = int.Parse(key, System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (label, frequency) in labels.OrderByDescending(l => l.Value).ThenByDescending(l => l.Key, StringComparer.Ordinal))
            {
                if (frequency < 0)
                {
                    added.Add((frequency, label));
                    if (!addedMoves.TryGetValue(label, out var moves))
                    {
                        addedMoves[label] = moves = [];
                    }

                    moves.Add(move);
                }
                else
                {
                    Add(move, label);
                }
            }
        }

        foreach (var (_, label) in added.OrderByDescending(a => a.Frequency).ThenByDescending(a => a.Label, StringComparer.Ordinal).Distinct())
        {
            foreach (var move in addedMoves[label])
            {
                Add(move, label);
            }
        }

        return order;
    }
}
