using Prodigy.Build.Trainer.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The shared token encoder, shaped as spaCy's Tok2Vec.v2: hashed embeddings of each attribute
/// (four rows summed per table), concatenated and mixed by a normalized maxout layer, then
/// <c>depth</c> residual blocks of a window of neighbours through a normalized maxout layer.
/// <para>
/// Dropout (the config's <c>[training] dropout</c>) applies after the mixing layer, to each block's
/// update, and as word dropout: in training, each token loses the embeddings of its word identity
/// (NORM, LOWER, ORTH) with that probability, as an unseen word would, so that the model learns to
/// read a word's prefix, suffix, shape and neighbours and not only memorise the words of the training
/// data. On the shared NER baselines this raised every dataset's score averaged over three seeds
/// (benchmarks/results/training.md).
/// </para>
/// </summary>
public sealed class Tok2Vec : nn.Module
{
    private readonly ModuleList<Embedding> _tables = new();
    private readonly Maxout _mix;
    private readonly ModuleList<Maxout> _blocks = new();
    private readonly int _window;
    private readonly double _dropout;
    private readonly bool[] _wordIdentity;

    public Tok2Vec(Tok2VecSettings settings, double dropout) : base("tok2vec")
    {
        Width = settings.Width;
        _window = settings.WindowSize;
        _dropout = dropout;
        _wordIdentity = settings.Attrs.Select(a => a is "NORM" or "LOWER" or "ORTH").ToArray();
        for (var a = 0; a < settings.Attrs.Count; a++)
        {
            _tables.Add(nn.Embedding(settings.Rows[a], settings.Width));
        }

        _mix = new Maxout("mix", settings.Width * settings.Attrs.Count, settings.Width, settings.MaxoutPieces, normalize: true);
        for (var d = 0; d < settings.Depth; d++)
        {
            _blocks.Add(new Maxout($"block{d}", settings.Width * ((2 * settings.WindowSize) + 1), settings.Width, settings.MaxoutPieces, normalize: true));
        }

        RegisterComponents();
        foreach (var table in _tables)
        {
            // Small initial embeddings, as thinc's HashEmbed (uniform ±0.1).
            using var noGrad = torch.no_grad();
            nn.init.uniform_(table.weight!, -0.1, 0.1);
        }
    }

    public int Width { get; }

    /// <summary><paramref name="rows"/>[a]: [T, 4] row ids per attribute table of the packed tokens. Returns [T, Width].</summary>
    public Tensor Forward(Tensor[] rows, TokenLayout layout, bool dropout)
    {
        using var scope = NewDisposeScope();
        var embedded = new List<Tensor>(_tables.Count);
        // One draw per token, shared by its identity tables: the whole word is unknown, not one view of it.
        var keepWord = dropout && _dropout > 0 && _wordIdentity.Contains(true)
            ? torch.bernoulli(ScalarSafe.Full([layout.Total, 1], 1 - _dropout, rows[0].device))
            : null;
        for (var a = 0; a < _tables.Count; a++)
        {
            var table = _tables[a].forward(rows[a]).sum(1);
            // Not rescaled: a dropped word carries no identity at all (zeros), not a louder copy of the kept ones.
            embedded.Add(keepWord is not null && _wordIdentity[a] ? table * keepWord : table);
        }

        var x = _mix.forward(torch.cat(embedded, 1));
        x = nn.functional.dropout(x, _dropout, dropout);
        foreach (var block in _blocks)
        {
            var update = block.forward(Window.Expand(x, _window, layout));
            x = x.Plus(nn.functional.dropout(update, _dropout, dropout));
        }

        return x.MoveToOuterDisposeScope();
    }
}
