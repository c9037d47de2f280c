using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Core.Tokenization;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// A training or dev example as the spaCy-format components see it: a <see cref="PipelineDoc"/> of
/// its words (the reader's document type, so features are computed by the same code), with the
/// per-encoder hash rows and text classifier features computed once and kept for every epoch.
/// </summary>
public sealed class TrainingDoc
{
    private readonly Dictionary<object, object> _cache = new(ReferenceEqualityComparer.Instance);

    private TrainingDoc(Example example, PipelineDoc doc)
    {
        Example = example;
        Doc = doc;
    }

    public Example Example { get; }

    public PipelineDoc Doc { get; }

    public int Length => Doc.Length;

    public static TrainingDoc From(Example example) => new(example, ToPipelineDoc(example.Words, example.Spaces, example.Norms));

    /// <summary>A document of given words (no tokenizer), with their norms.</summary>
    public static PipelineDoc ToPipelineDoc(IReadOnlyList<string> words, IReadOnlyList<bool> spaces, IReadOnlyList<string> norms)
    {
        var tokens = new Token[words.Count];
        var text = new System.Text.StringBuilder();
        var codePoints = 0;
        for (var i = 0; i < words.Count; i++)
        {
            tokens[i] = new Token(words[i], text.Length, codePoints, spaces[i], norms[i]);
            text.Append(words[i]);
            codePoints += PythonText.CodePointCount(words[i]);
            if (spaces[i])
            {
                text.Append(' ');
                codePoints++;
            }
        }

        return new PipelineDoc(text.ToString(), tokens);
    }

    /// <summary>The encoder's hash rows of this document, computed on first use.</summary>
    public long[][] HashRows(TorchTok2Vec encoder) => Cached(encoder, () => encoder.HashRows(Doc));

    /// <summary>A value computed once per document and owner (a component's features).</summary>
    public T Cached<T>(object owner, Func<T> compute)
        where T : class
    {
        lock (_cache)
        {
            if (!_cache.TryGetValue(owner, out var value))
            {
                _cache[owner] = value = compute();
            }

            return (T)value;
        }
    }
}
