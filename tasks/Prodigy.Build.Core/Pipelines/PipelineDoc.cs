using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>An entity or span a component predicted: token offsets (end exclusive), label, score when the component has one.</summary>
public readonly record struct PredictedSpan(int Start, int End, string Label, float? Score = null);

/// <summary>
/// One text going through a <see cref="SpacyPipeline"/>: its tokens, their lexical attribute ids
/// (spaCy's string hashes, as <c>doc.to_array</c> gives them) and what the components predict.
/// Each call to the pipeline makes its own documents, so components write into them freely.
/// </summary>
public sealed class PipelineDoc
{
    private readonly Dictionary<string, ulong[]> _attrIds = new(StringComparer.Ordinal);

    public PipelineDoc(string text, IReadOnlyList<Token> tokens)
    {
        Text = text;
        Tokens = tokens;
    }

    public string Text { get; }

    public IReadOnlyList<Token> Tokens { get; }

    public int Length => Tokens.Count;

    /// <summary>The output of each tok2vec component by component name: Length x width, row-major.</summary>
    public Dictionary<string, float[]> Tok2VecOutputs { get; } = new(StringComparer.Ordinal);

    /// <summary><c>doc.ents</c>, in order.</summary>
    public List<PredictedSpan> Entities { get; } = [];

    /// <summary><c>doc.cats</c>, in the component's label order.</summary>
    public Dictionary<string, float> Cats { get; } = new(StringComparer.Ordinal);

    /// <summary><c>doc.spans</c> by key, each with <c>attrs["scores"]</c>.</summary>
    public Dictionary<string, List<PredictedSpan>> Spans { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The id of each token's lexical attribute (<c>ORTH</c>, <c>LOWER</c>, <c>NORM</c>, <c>PREFIX</c>,
    /// <c>SUFFIX</c>, <c>SHAPE</c>), as <c>doc.to_array([attr])</c>; computed once per document.
    /// </summary>
    public ulong[] AttrIds(string attr)
    {
        if (_attrIds.TryGetValue(attr, out var ids))
        {
            return ids;
        }

        Func<Token, string> value = attr switch
        {
            "ORTH" => t => t.Text,
            "LOWER" => t => Core.Text.PythonText.Lower(t.Text),
            "NORM" => t => t.Norm,
            "PREFIX" => t => LexicalAttributes.Prefix(t.Text),
            "SUFFIX" => t => LexicalAttributes.Suffix(t.Text),
            "SHAPE" => t => LexicalAttributes.Shape(t.Text),
            _ => throw new ArgumentException($"unsupported lexical attribute '{attr}'", nameof(attr)),
        };
        ids = new ulong[Tokens.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = SpacyStrings.GetId(value(Tokens[i]));
        }

        _attrIds[attr] = ids;
        return ids;
    }
}
