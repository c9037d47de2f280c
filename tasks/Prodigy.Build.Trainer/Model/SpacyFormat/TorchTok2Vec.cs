using Prodigy.Build.Core.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// <c>spacy.Tok2Vec.v2</c> (MultiHashEmbed.v2 + MaxoutWindowEncoder.v2) in torch, over the params of
/// a planned tree: each table's four hashed rows summed (thinc's <c>ops.hash(ids, seed) % nV</c> and
/// <c>gather_add</c>, with HashEmbed's per-batch column dropout), the normalized maxout mixing them,
/// then the residual window blocks over the batch flattened as thinc's <c>with_array(pad=window x
/// depth)</c> flattens it (zero rows between documents, transformed by every block like any row).
/// </summary>
public sealed partial class TorchTok2Vec : IDisposable
{
    private readonly ThincParameters _parameters;
    private readonly string _prefix;
    private readonly (int Column, uint Seed, int Rows)[] _tables;
    private readonly string[] _attrs;

    private readonly SpacyVectors? _vectors;
    private readonly Tensor? _vectorTable;

    private readonly DropoutMasks _masks;

    public TorchTok2Vec(ThincParameters parameters, string prefix, IReadOnlyList<string> attrs, int windowSize, int depth, SpacyVectors? vectors, DropoutMasks masks)
    {
        _parameters = parameters;
        _masks = masks;
        if (parameters.Has($"{prefix}embed.static_vectors.W"))
        {
            // The table stays on the device, as thinc keeps vocab.vectors on the GPU: only row indices travel per batch.
            _vectors = vectors ?? throw new ArgumentException("the encoder has static vectors but no vectors table was given", nameof(vectors));
            _vectorTable = torch.tensor(vectors.Data, [vectors.Rows, vectors.Width], device: parameters[$"{prefix}embed.static_vectors.W"].device);
        }

        _prefix = prefix;
        _attrs = [.. attrs];
        WindowSize = windowSize;
        Depth = depth;
        var tables = new List<(int, uint, int)>();
        for (var i = 0; parameters.Plan.Parameters.FirstOrDefault(p => p.Key == $"{prefix}embed.hashembed.{i}.E") is { } table; i++)
        {
            var column = (int)(long)table.Layer.Attrs.First(a => a.Key == "column").Value!;
            var seed = (uint)(long)table.Layer.Attrs.First(a => a.Key == "seed").Value!;
            tables.Add((column, seed, (int)table.Shape[0]));
        }

        _tables = [.. tables];
        Width = (int)parameters[$"{prefix}embed.layernorm.G"].shape[0];
    }

    public int Width { get; }

    public int WindowSize { get; }

    public int Depth { get; }

    /// <summary>How many batches the encoder has run over (a shared tok2vec runs once per update, whatever its listeners).</summary>
    public int Runs { get; private set; }

    /// <summary>The rows of each table for each token of <paramref name="doc"/>: [table][token x 4].</summary>
    public long[][] HashRows(PipelineDoc doc)
    {
        var result = new long[_tables.Length][];
        for (var t = 0; t < _tables.Length; t++)
        {
            var (column, seed, rows) = _tables[t];
            result[t] = Array.ConvertAll(Tok2VecModel.HashRows(doc.AttrIds(_attrs[column]), seed, rows), r => (long)r);
        }

        return result;
    }

    /// <summary>
    /// The encoder's output for the batch's tokens, packed: [total tokens, Width]. A training pass on the
    /// CPU returns a leaf, whose gradient <see cref="BackwardPending"/> sends into the parameters after the
    /// components' backward pass; elsewhere the output is in autograd's graph.
    /// </summary>
    public Tensor Forward(IReadOnlyList<TrainingDoc> docs, BatchLayout layout, bool train, double dropout)
    {
        var device = _parameters[$"{_prefix}embed.layernorm.G"].device;
        Runs++;
        if (RunsOnHost(train, device, layout.Total))
        {
            return HostForward(docs, layout, dropout);
        }

        using var scope = NewDisposeScope();
        var embedded = new List<Tensor>(_tables.Length);
        for (var t = 0; t < _tables.Length; t++)
        {
            var rows = new long[layout.Total * 4];
            for (var d = 0; d < docs.Count; d++)
            {
                var docRows = docs[d].HashRows(this)[t];
                Array.Copy(docRows, 0, rows, layout.Starts[d] * 4, docRows.Length);
            }

            var table = _parameters[$"{_prefix}embed.hashembed.{t}.E"];
            var summed = table.index_select(0, torch.tensor(rows, device: device)).view(layout.Total, 4, Width).sum(1);
            if (train && dropout > 0)
            {
                // HashEmbed's dropout: one mask over the columns, for the whole batch.
                summed = summed * _masks.Mask([Width], dropout, device);
            }

            embedded.Add(summed);
        }

        if (_vectorTable is not null)
        {
            embedded.Add(StaticVectors(docs, layout, train, dropout, device));
        }

        var mixed = _masks.Apply(NormalizedMaxout(torch.cat(embedded, 1), $"{_prefix}embed."), train, dropout);

        // with_array(pad): [pad zeros, doc 1, pad zeros, doc 2, ..., pad zeros]; each block's dropout mask
        // covers these rows, pads too, as thinc's does (the callers leave out empty documents, as its flatten does).
        var (positions, flatRows) = PaddedPositions(layout);
        var index = torch.tensor(Array.ConvertAll(positions, p => (long)p), device: device);
        var x = torch.zeros([flatRows, Width], device: device).index_copy(0, index, mixed);
        for (var block = 0; block < Depth; block++)
        {
            var update = _masks.Apply(NormalizedMaxout(ExpandWindow(x, WindowSize), $"{_prefix}encode.{block}."), train, dropout);
            x = x.Plus(update);
        }

        return x.index_select(0, index).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// What a training pass over <paramref name="docs"/> draws from numpy (each table's and the static
    /// vectors' column masks, the mixing layer's over the tokens, each block's over the padded rows),
    /// without computing it: spaCy's Tok2Vec.update runs on a batch none of whose listeners then learns
    /// from it, and only its masks reach anything after.
    /// </summary>
    public void SkipTrainingPass(IReadOnlyList<TrainingDoc> docs, double dropout)
    {
        var device = _parameters[$"{_prefix}embed.layernorm.G"].device;
        var tokens = docs.Where(d => d.Length > 0).ToList();
        long total = tokens.Sum(d => d.Length);
        var columns = (long)_tables.Length * Width;
        if (_vectorTable is not null)
        {
            columns += _parameters[$"{_prefix}embed.static_vectors.W"].shape[0];
        }

        var pad = WindowSize * Depth;
        _masks.Skip(columns + (total * Width) + (Depth * (total + (pad * (tokens.Count + 1))) * Width), dropout, device);
    }

    /// <summary>The vectors table's row of each token's ORTH (-1 without one): spaCy's <c>vectors.find(keys=...)</c>.</summary>
    public long[] VectorRows(PipelineDoc doc)
    {
        var ids = doc.AttrIds("ORTH");
        var rows = new long[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            rows[i] = _vectors!.Find(ids[i]);
        }

        return rows;
    }

    // spacy.StaticVectors.v2 (default mode): V[rows] Wᵀ with the rows of tokens without a vector set to
    // zero, then, in training, one dropout mask over the output columns for the whole batch. The
    // backprop is spaCy's too: it multiplies the gradient by V[rows] before zeroing, so a token without
    // a vector (row -1) sends W the gradient of the table's last row, as numpy's V[-1] does in spaCy.
    internal Tensor StaticVectors(IReadOnlyList<TrainingDoc> docs, BatchLayout layout, bool train, double dropout, Device device)
    {
        var w = _parameters[$"{_prefix}embed.static_vectors.W"];
        var (rows, missing, last) = StaticRows(docs, layout);
        if (last < 0)
        {
            return torch.zeros([layout.Total, w.shape[0]], device: device);
        }

        var projected = _vectorTable!.index_select(0, torch.tensor(rows, device: device)).matmul(w.t());
        var missingRows = torch.tensor(Array.ConvertAll(missing, m => m ? 1f : 0f), [layout.Total, 1], device: device);
        var output = projected.Minus((projected * missingRows).detach());
        return train && dropout > 0 ? output * _masks.Mask([w.shape[0]], dropout, device) : output;
    }

    // Where each token's row lies in the with_array(pad) layout (pad zero rows before, between and after
    // the documents), and how many rows that layout has.
    private (int[] Positions, int Rows) PaddedPositions(BatchLayout layout)
    {
        var pad = WindowSize * Depth;
        var positions = new int[layout.Total];
        for (var d = 0; d < layout.Lengths.Length; d++)
        {
            var start = layout.Starts[d] + (pad * (d + 1));
            for (var i = 0; i < layout.Lengths[d]; i++)
            {
                positions[layout.Starts[d] + i] = start + i;
            }
        }

        return (positions, layout.Total + (pad * (layout.Lengths.Length + 1)));
    }

    // Each token's row of the vectors table (the last row for a token without one, whose output is
    // zeroed), whether it has none, and the table's last row (-1 for an empty table).
    private (long[] Rows, bool[] Missing, long Last) StaticRows(IReadOnlyList<TrainingDoc> docs, BatchLayout layout)
    {
        var rows = new long[layout.Total];
        var missing = new bool[layout.Total];
        var last = _vectors!.Rows - 1;
        for (var d = 0; d < docs.Count; d++)
        {
            var docRows = docs[d].Cached(_vectorTable!, () => VectorRows(docs[d].Doc));
            for (var i = 0; i < docRows.Length; i++)
            {
                rows[layout.Starts[d] + i] = docRows[i] < 0 ? Math.Max(last, 0) : docRows[i];
                missing[layout.Starts[d] + i] = docRows[i] < 0;
            }
        }

        return (rows, missing, last);
    }

    /// <summary>Frees the vectors table on the device, and what CPU training passes kept.</summary>
    public void Dispose()
    {
        DiscardPending();
        _vectorTable?.Dispose();
    }

    /// <summary>thinc's Maxout (W nO x nP x nI) then LayerNorm (eps 1e-8 on the variance).</summary>
    internal Tensor NormalizedMaxout(Tensor input, string prefix) => NormalizedMaxout(_parameters, input, prefix);

    /// <summary>thinc's Maxout then LayerNorm over the params <paramref name="prefix"/>maxout.W/b and layernorm.G/b.</summary>
    internal static Tensor NormalizedMaxout(ThincParameters parameters, Tensor input, string prefix)
    {
        var w = parameters[prefix + "maxout.W"];
        var b = parameters[prefix + "maxout.b"];
        var nO = w.shape[0];
        var nP = w.shape[1];
        var pieces = torch.nn.functional.linear(input, w.view(nO * nP, w.shape[2]), b.view(nO * nP)).view(input.shape[0], nO, nP);
        var max = pieces.max(2).values;
        return LayerNorm(max, parameters[prefix + "layernorm.G"], parameters[prefix + "layernorm.b"]);
    }

    // thinc's LayerNorm: (x - mean) / sqrt(var + 1e-8) * G + b over each row, the variance biased; torch's
    // layer_norm computes that formula in one kernel each way, where its transcription took about a
    // dozen element-wise kernels forward and back.
    internal static Tensor LayerNorm(Tensor x, Tensor gain, Tensor bias) =>
        torch.nn.functional.layer_norm(x, [x.shape[1]], gain, bias, 1e-8);

    /// <summary>thinc's <c>expand_window</c> (seq2col): rows i-w..i+w side by side, zeros past the array's ends.</summary>
    internal static Tensor ExpandWindow(Tensor x, int window)
    {
        if (window == 0)
        {
            return x;
        }

        var rows = x.shape[0];
        var zeros = torch.zeros([window, x.shape[1]], dtype: x.dtype, device: x.device);
        var padded = torch.cat([zeros, x, zeros], 0);
        var parts = new Tensor[(2 * window) + 1];
        for (var k = 0; k < parts.Length; k++)
        {
            parts[k] = padded.narrow(0, k, rows);
        }

        return torch.cat(parts, 1);
    }
}

/// <summary>Where each document's tokens lie in a batch's packed rows.</summary>
public sealed class BatchLayout
{
    public BatchLayout(IReadOnlyList<int> lengths)
    {
        Lengths = [.. lengths];
        Starts = new int[Lengths.Length];
        for (var d = 0; d < Lengths.Length; d++)
        {
            Starts[d] = Total;
            Total += Lengths[d];
        }
    }

    public int[] Lengths { get; }

    public int[] Starts { get; }

    public int Total { get; }
}
