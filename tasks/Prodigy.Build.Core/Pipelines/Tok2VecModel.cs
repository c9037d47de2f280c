using Prodigy.Build.Core.Hashing;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// <c>spacy.Tok2Vec.v2</c> = <c>chain(embed, encode)</c> with <c>spacy.MultiHashEmbed.v2</c> (one
/// HashEmbed per attribute, seeds 8, 9, ...; optionally <c>spacy.StaticVectors.v2</c>; a normalized
/// maxout mixing them) and <c>spacy.MaxoutWindowEncoder.v2</c> (<c>depth</c> residual blocks of
/// expand_window, maxout and layernorm). Used by the tok2vec component and inline by others.
/// </summary>
internal sealed class Tok2VecModel
{
    private readonly string[] _attrs;
    private readonly ThincLayer[] _hashEmbeds;
    private readonly ThincLayer _embedMaxout;
    private readonly ThincLayer _embedNorm;
    private readonly ThincLayer? _staticVectors;
    private readonly ThincLayer[] _encoderMaxouts;
    private readonly ThincLayer[] _encoderNorms;
    private readonly SpacyVectors _vectors;
    private HashTable[] _tables = [];
    private DenseLayer _mix = null!;
    private DenseLayer[] _blocks = [];
    private float[] _staticW = [];

    private Tok2VecModel(
        ThincLayer tree,
        string[] attrs,
        ThincLayer[] hashEmbeds,
        ThincLayer embedMaxout,
        ThincLayer embedNorm,
        ThincLayer? staticVectors,
        ThincLayer[] encoderMaxouts,
        ThincLayer[] encoderNorms,
        int width,
        int windowSize,
        SpacyVectors vectors)
    {
        Tree = tree;
        _attrs = attrs;
        _hashEmbeds = hashEmbeds;
        _embedMaxout = embedMaxout;
        _embedNorm = embedNorm;
        _staticVectors = staticVectors;
        _encoderMaxouts = encoderMaxouts;
        _encoderNorms = encoderNorms;
        Width = width;
        WindowSize = windowSize;
        _vectors = vectors;
    }

    /// <summary>The layer tree, as spaCy builds it (bound by the owner's model file).</summary>
    public ThincLayer Tree { get; }

    /// <summary>The output width (the encoder's <c>width</c>).</summary>
    public int Width { get; }

    public int WindowSize { get; }

    /// <summary>The rows each token's attribute hashes to, per HashEmbed table: n x 4 (thinc's <c>ops.hash(ids, seed) % nV</c>).</summary>
    internal uint[] HashRows(PipelineDoc doc, int table)
    {
        var t = _tables[table];
        return HashRows(doc.AttrIds(_attrs[t.Column]), t.Seed, t.Rows);
    }

    /// <summary>thinc's HashEmbed rows: <c>ops.hash(ids, seed) % nV</c>, four per id (n x 4), as training and inference must agree.</summary>
    internal static uint[] HashRows(ReadOnlySpan<ulong> ids, uint seed, int tableRows)
    {
        var rows = new uint[ids.Length * 4];
        Span<uint> hashes = stackalloc uint[4];
        for (var i = 0; i < ids.Length; i++)
        {
            MurmurHash.Hash3X64_128(ids[i], seed, hashes);
            for (var j = 0; j < 4; j++)
            {
                rows[(i * 4) + j] = hashes[j] % (uint)tableRows;
            }
        }

        return rows;
    }

    /// <summary>The params under names that say what they are: <c>embed.hashembed.{i}.E</c>, <c>embed.maxout.W</c>, <c>encode.{d}.layernorm.G</c>, ...</summary>
    internal void CollectParameters(string prefix, List<ModelParameter> into)
    {
        for (var i = 0; i < _hashEmbeds.Length; i++)
        {
            var h = _hashEmbeds[i];
            into.Add(new($"{prefix}embed.hashembed.{i}.E", h, "E", [ModelParameter.DimOf(h, "nV"), Width]));
        }

        if (_staticVectors is not null)
        {
            into.Add(new($"{prefix}embed.static_vectors.W", _staticVectors, "W", [Width, ModelParameter.DimOf(_staticVectors, "nM")]));
        }

        AddMaxout(into, $"{prefix}embed.", _embedMaxout, _embedNorm);
        for (var d = 0; d < _encoderMaxouts.Length; d++)
        {
            AddMaxout(into, $"{prefix}encode.{d}.", _encoderMaxouts[d], _encoderNorms[d]);
        }
    }

    internal static void AddMaxout(List<ModelParameter> into, string prefix, ThincLayer maxout, ThincLayer norm)
    {
        var nO = ModelParameter.DimOf(maxout, "nO");
        var nP = ModelParameter.DimOf(maxout, "nP");
        var nI = ModelParameter.DimOf(maxout, "nI");
        into.Add(new(prefix + "maxout.W", maxout, "W", [nO, nP, nI]));
        into.Add(new(prefix + "maxout.b", maxout, "b", [nO, nP]));
        into.Add(new(prefix + "layernorm.G", norm, "G", [nO]));
        into.Add(new(prefix + "layernorm.b", norm, "b", [nO]));
    }

    /// <summary>Builds the tree of the <c>spacy.Tok2Vec.v2</c> at <paramref name="section"/>.</summary>
    public static Tok2VecModel Build(ComponentContext context, string section)
    {
        if (context.Architecture(section) != "spacy.Tok2Vec.v2")
        {
            throw context.Unsupported(section);
        }

        var config = context.Config;
        var embedSection = $"{section}.embed";
        var encodeSection = $"{section}.encode";
        if (context.Architecture(embedSection) != "spacy.MultiHashEmbed.v2")
        {
            throw context.Unsupported(embedSection);
        }

        if (context.Architecture(encodeSection) != "spacy.MaxoutWindowEncoder.v2")
        {
            throw context.Unsupported(encodeSection);
        }

        var attrs = config.StringList(embedSection, "attrs").ToArray();
        var rows = config.IntList(embedSection, "rows");
        var includeVectors = config.Bool(embedSection, "include_static_vectors", false);
        if (attrs.Length == 0 || rows.Count != attrs.Length)
        {
            throw context.Error("PRD2420", $"[{embedSection}] needs one 'rows' entry per attribute: {attrs.Length} attrs, {rows.Count} rows");
        }

        foreach (var attr in attrs)
        {
            if (attr is not ("ORTH" or "LOWER" or "NORM" or "PREFIX" or "SUFFIX" or "SHAPE"))
            {
                throw context.Error("PRD2421", $"[{embedSection}] embeds the attribute '{attr}', which Prodigy.Build.Sdk does not compute; use ORTH, LOWER, NORM, PREFIX, SUFFIX or SHAPE");
            }
        }

        if (includeVectors && context.Vocab.Vectors.Width == 0)
        {
            throw context.Error("PRD2422", $"[{embedSection}] include_static_vectors = true, but the pipeline's vocab/ has no vectors");
        }

        var width = config.Int(encodeSection, "width", 96);
        var depth = config.Int(encodeSection, "depth", 4);
        var windowSize = config.Int(encodeSection, "window_size", 1);
        var pieces = config.Int(encodeSection, "maxout_pieces", 3);

        // The dims and attrs each node saves, as thinc's layers and spaCy's builders set them (the
        // dropout layers keep the rate training last set: [training] dropout).
        var dropout = config.Double("training", "dropout", 0.1);
        var tables = attrs.Length + (includeVectors ? 1 : 0);

        // embed: extract_features >> list2ragged >> with_array(concatenate(ints-getitem >> hashembed, ...)) >> with_array(maxout) >> ragged2list
        var hashEmbeds = attrs.Select((_, i) => ThincLayer.Leaf("hashembed", "E")
            .WithDims(("nO", width), ("nV", rows[i]), ("nI", null))
            .WithAttrs(("column", (long)i), ("seed", (long)(8 + i)), ("dropout_rate", dropout))).ToArray();
        var embedTables = ThincLayer.Concatenate(hashEmbeds.Select((h, i) => ThincLayer.Chain(ThincLayer.Leaf("ints-getitem"), h)
            .WithDims(("nO", width)).WithAttrs(("column", (long)i))).ToArray()).WithDims(("nO", attrs.Length * width));
        var (mixMaxout, mixNorm, mix) = NormalizedMaxout(tables * width, width, pieces: 3, dropout);
        var staticVectors = ThincLayer.Leaf("static_vectors", "W")
            .WithDims(("nO", width), ("nM", context.Vocab.Vectors.Width))
            .WithAttrs(("key_attr", 65L), ("dropout_rate", dropout));
        var extract = ThincLayer.Leaf("extract_features").WithAttrs(("columns", attrs.Cast<object?>().ToList()));
        var tablesArray = ThincLayer.Wrap("with_array", embedTables).WithDims(("nO", attrs.Length * width)).WithAttrs(("pad", 0L));
        var mixArray = ThincLayer.Wrap("with_array", mix).WithDims(("nO", width), ("nI", tables * width)).WithAttrs(("pad", 0L));
        ThincLayer embed;
        if (includeVectors)
        {
            var features = ThincLayer.Chain(extract, ThincLayer.Leaf("list2ragged"), tablesArray).WithDims(("nO", attrs.Length * width));
            embed = ThincLayer.Chain(ThincLayer.Concatenate(features, staticVectors).WithDims(("nO", tables * width)), mixArray, ThincLayer.Leaf("ragged2list"))
                .WithDims(("nO", width));
        }
        else
        {
            embed = ThincLayer.Chain(extract, ThincLayer.Leaf("list2ragged"), tablesArray, mixArray, ThincLayer.Leaf("ragged2list")).WithDims(("nO", width));
        }

        // encode: with_array(clone(residual(expand_window >> maxout >> layernorm >> dropout), depth), pad = window x depth)
        var maxouts = new ThincLayer[depth];
        var norms = new ThincLayer[depth];
        var blocks = new ThincLayer[depth];
        var windowInputs = width * ((2 * windowSize) + 1);
        for (var i = 0; i < depth; i++)
        {
            var (maxout, norm, normalized) = NormalizedMaxout(windowInputs, width, pieces, dropout);
            maxouts[i] = maxout;
            norms[i] = norm;
            var expand = ThincLayer.Leaf("expand_window").WithAttrs(("window_size", (long)windowSize));
            blocks[i] = ThincLayer.Wrap("residual", ThincLayer.Chain(expand, normalized).WithDims(("nO", width))).WithDims(("nO", width), ("nI", null));
        }

        var encoderBody = depth == 1 ? blocks[0] : ThincLayer.Chain(blocks).WithDims(("nO", width), ("nI", null));
        var encode = ThincLayer.Wrap("with_array", encoderBody).WithDims(("nO", width), ("nI", null)).WithAttrs(("pad", (long)(windowSize * depth)));
        var tree = ThincLayer.Chain(embed, encode).WithDims(("nO", width)).WithRefs(("embed", embed), ("encode", encode));
        return new Tok2VecModel(tree, attrs, hashEmbeds, mixMaxout, mixNorm, includeVectors ? staticVectors : null, maxouts, norms, width, windowSize, context.Vocab.Vectors);
    }

    // thinc's Maxout(normalize=True, dropout=0.0): chain(chain(maxout, layernorm), dropout).
    internal static (ThincLayer Maxout, ThincLayer Norm, ThincLayer Chain) NormalizedMaxout(int inputs, int outputs, int pieces, double dropout)
    {
        var maxout = ThincLayer.Leaf("maxout", "W", "b").WithDims(("nO", outputs), ("nI", inputs), ("nP", pieces));
        var norm = ThincLayer.Leaf("layernorm", "G", "b").WithDims(("nI", outputs), ("nO", outputs));
        var dropoutLayer = ThincLayer.Leaf("dropout").WithAttrs(("dropout_rate", dropout), ("is_enabled", true));
        var chain = ThincLayer.Chain(ThincLayer.Chain(maxout, norm).WithDims(("nO", outputs), ("nI", inputs)), dropoutLayer).WithDims(("nO", outputs), ("nI", inputs));
        return (maxout, norm, chain);
    }

    /// <summary>Reads the weights out of the bound tree and checks their shapes against the config.</summary>
    public void LoadWeights(string modelPath)
    {
        _tables = _hashEmbeds.Select(h =>
        {
            var seed = h.Node.Attr("seed") is long s ? (uint)s : throw new SpacyPipelineException("PRD2423", "a hashembed layer has no seed", modelPath);
            var column = h.Node.Attr("column") is long c && c >= 0 && c < _attrs.Length ? (int)c : throw new SpacyPipelineException("PRD2423", "a hashembed layer has no valid column", modelPath);
            var table = h.Floats("E");
            var rows = (int)h.Node.Param("E")!.Shape[0];
            if (table.Length != rows * Width)
            {
                throw new SpacyPipelineException("PRD2423", $"a hashembed table is {rows} x {table.Length / Math.Max(rows, 1)}, the encoder's width is {Width}", modelPath);
            }

            return new HashTable(column, seed, rows, table);
        }).ToArray();
        var inputs = (_tables.Length + (_staticVectors is null ? 0 : 1)) * Width;
        _mix = DenseLayer.From(_embedMaxout, _embedNorm, inputs, Width, modelPath);
        var window = Width * ((2 * WindowSize) + 1);
        _blocks = _encoderMaxouts.Select((m, i) => DenseLayer.From(m, _encoderNorms[i], window, Width, modelPath)).ToArray();
        if (_staticVectors is not null)
        {
            _staticW = _staticVectors.Floats("W");
            if (_staticW.Length != Width * _vectors.Width)
            {
                throw new SpacyPipelineException("PRD2423", $"static_vectors W has {_staticW.Length} values, expected {Width} x {_vectors.Width} (the vocab's vectors)", modelPath);
            }
        }
    }

    /// <summary>The embed output (before the encoder): n x width.</summary>
    public float[] Embed(PipelineDoc doc)
    {
        var embedded = new float[doc.Length * Width];
        Embed(doc, embedded, scratch: null);
        return embedded;
    }

    // The embedding of the document's tokens into embedded (n x width); with a scratch, its buffers
    // stand in for the arrays this would allocate.
    private void Embed(PipelineDoc doc, Span<float> embedded, Tok2VecScratch? scratch)
    {
        var n = doc.Length;
        var inputs = (_tables.Length + (_staticVectors is null ? 0 : 1)) * Width;
        var concatenated = Tok2VecScratch.Zeroed(scratch, Tok2VecScratch.Slot.Concatenated, n * inputs);
        Span<uint> hashes = stackalloc uint[4];
        for (var t = 0; t < _tables.Length; t++)
        {
            var table = _tables[t];
            var ids = doc.AttrIds(_attrs[table.Column]);
            for (var i = 0; i < n; i++)
            {
                MurmurHash.Hash3X64_128(ids[i], table.Seed, hashes);
                var output = concatenated.Slice((i * inputs) + (t * Width), Width);
                // thinc's gather_add: the four rows added in key order.
                for (var j = 0; j < 4; j++)
                {
                    var row = table.Data.AsSpan((int)(hashes[j] % (uint)table.Rows) * Width, Width);
                    System.Numerics.Tensors.TensorPrimitives.Add(output, row, output);
                }
            }
        }

        if (_staticVectors is not null)
        {
            AddStaticVectors(doc, concatenated, inputs);
        }

        _mix.Forward(concatenated, n, embedded, scratch);
    }

    // spacy.StaticVectors.v2 in default mode: each token's ORTH vector (zeros without one) times Wᵀ.
    private void AddStaticVectors(PipelineDoc doc, Span<float> concatenated, int inputs)
    {
        var ids = doc.AttrIds("ORTH");
        var offset = _tables.Length * Width;
        for (var i = 0; i < ids.Length; i++)
        {
            var row = _vectors.Find(ids[i]);
            if (row < 0)
            {
                continue;
            }

            Ops.Affine(_vectors.Row(row), 1, _vectors.Width, _staticW, Width, [], concatenated.Slice((i * inputs) + offset, Width));
        }
    }

    /// <summary>
    /// The tok2vec output for one document: n x width, row-major. A <paramref name="scratch"/> shared by
    /// the documents of a batch holds the intermediate arrays (the same values, without a set of large
    /// arrays of garbage per document).
    /// </summary>
    public float[] Predict(PipelineDoc doc, Tok2VecScratch? scratch = null)
    {
        if (doc.Length == 0)
        {
            return [];
        }

        var outputs = new float[1][];
        var pad = WindowSize * _blocks.Length;
        Encode([doc], 0, 1, pad + doc.Length + pad, scratch, outputs);
        return outputs[0];
    }

    /// <summary>
    /// The outputs of a batch's documents, each n x width, row-major. Short documents run through the
    /// encoder together, up to <see cref="RowsPerRun"/> rows at a time, as thinc's with_array flattens a
    /// batch; each document's output is the one it gets alone, to the bit.
    /// </summary>
    public float[][] Predict(IReadOnlyList<PipelineDoc> docs, Tok2VecScratch scratch)
    {
        var outputs = new float[docs.Count][];
        var pad = WindowSize * _blocks.Length;
        var first = 0;
        while (first < docs.Count)
        {
            var count = 1;
            var rows = pad + docs[first].Length + pad;
            while (first + count < docs.Count && rows + docs[first + count].Length + pad <= RowsPerRun)
            {
                rows += docs[first + count].Length + pad;
                count++;
            }

            Encode(docs, first, count, rows, scratch, outputs);
            first += count;
        }

        return outputs;
    }

    /// <summary>
    /// How many rows one run of the encoder takes at most, pads included (a longer document runs alone):
    /// enough for the matrix products to work on many blocks of rows, few enough that a run's working
    /// arrays stay about a megabyte (an evaluation runs one batch per core at once).
    /// </summary>
    internal const int RowsPerRun = 256;

    /// <summary>The most rows whose working arrays a batch's scratch keeps (about 9 MB); a longer document's are its own.</summary>
    internal const int RowsRetained = 2048;

    // with_array(pad = window_size x depth) flattens the documents between that many zero rows, which the
    // residual blocks also run over and the documents' edge tokens see. The pad is the encoder's reach
    // (window_size rows per block), so no document's tokens see another's, and a run of several documents
    // computes each one's rows as the document alone does.
    // rows: the run's, pads included.
    private void Encode(IReadOnlyList<PipelineDoc> docs, int first, int count, int rows, Tok2VecScratch? scratch, float[][] outputs)
    {
        var pad = WindowSize * _blocks.Length;
        var ownArrays = rows > RowsRetained;
        if (ownArrays)
        {
            // A very long document (a GitHub issue of 50,000 tokens) gets arrays of its own, garbage once it
            // is done, so that a batch's scratch never holds hundreds of megabytes for its other documents.
            scratch = null;
        }

        var x = Tok2VecScratch.Zeroed(scratch, Tok2VecScratch.Slot.Encoded, rows * Width);
        var start = pad;
        for (var d = first; d < first + count; d++)
        {
            var n = docs[d].Length;
            if (n > 0)
            {
                Embed(docs[d], x.Slice(start * Width, n * Width), scratch);
            }

            start += n + pad;
        }

        var windowWidth = Width * ((2 * WindowSize) + 1);
        var window = Tok2VecScratch.Uninitialized(scratch, Tok2VecScratch.Slot.Window, rows * windowWidth);
        var hidden = Tok2VecScratch.Uninitialized(scratch, Tok2VecScratch.Slot.Hidden, rows * Width);
        foreach (var block in _blocks)
        {
            ExpandWindow(x, rows, Width, WindowSize, window);
            block.Forward(window, rows, hidden, scratch);
            System.Numerics.Tensors.TensorPrimitives.Add(x, hidden, x);
        }

        start = pad;
        for (var d = first; d < first + count; d++)
        {
            var n = docs[d].Length;
            outputs[d] = n == 0 ? [] : x.Slice(start * Width, n * Width).ToArray();
            start += n + pad;
        }

        if (ownArrays)
        {
            // Its arrays (about 5 KB a row: 250 MB for 50,000 tokens) are garbage now. Collected in the
            // background, their space is free for the next long document's rather than stacked under it;
            // the collection costs little beside the encoding of so many rows.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false);
        }
    }

    /// <summary>thinc's <c>expand_window</c> (seq2col): for each row, the rows i-w..i+w side by side, zeros past the ends.</summary>
    internal static void ExpandWindow(ReadOnlySpan<float> x, int rows, int width, int windowSize, Span<float> output)
    {
        var span = (2 * windowSize) + 1;
        output[..(rows * span * width)].Clear();
        for (var i = 0; i < rows; i++)
        {
            for (var offset = -windowSize; offset <= windowSize; offset++)
            {
                var source = i + offset;
                if (source >= 0 && source < rows)
                {
                    x.Slice(source * width, width).CopyTo(output.Slice((i * span * width) + ((offset + windowSize) * width), width));
                }
            }
        }
    }

    private sealed record HashTable(int Column, uint Seed, int Rows, float[] Data);
}

/// <summary>A bound normalized maxout (thinc's Maxout with LayerNorm): affine to nO x nP, max over pieces, layernorm.</summary>
internal sealed class DenseLayer
{
    private readonly DenseWeights _affine;
    private readonly float[] _g;
    private readonly float[] _normB;

    private DenseLayer(DenseWeights affine, float[] g, float[] normB, int inputs, int outputs, int pieces)
    {
        _affine = affine;
        _g = g;
        _normB = normB;
        Inputs = inputs;
        Outputs = outputs;
        Pieces = pieces;
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public int Pieces { get; }

    public static DenseLayer From(ThincLayer maxout, ThincLayer norm, int inputs, int outputs, string modelPath)
    {
        // W is nO x nP x nI: the shape says the pieces (spaCy also writes them as the dim nP).
        var shape = maxout.Node.Param("W")!.Shape;
        var pieces = shape.Length == 3 ? (int)shape[1] : maxout.Dim("nP");
        var w = maxout.Floats("W");
        var b = maxout.Floats("b");
        var g = norm.Floats("G");
        var normB = norm.Floats("b");
        if (w.Length != outputs * pieces * inputs || b.Length != outputs * pieces || g.Length != outputs || normB.Length != outputs)
        {
            throw new SpacyPipelineException(
                "PRD2423",
                $"a maxout layer is {w.Length / Math.Max(1, pieces * inputs)} x {pieces} x {inputs} with layernorm {g.Length}, but the config's widths give {outputs} x {pieces} x {inputs}",
                modelPath);
        }

        return new DenseLayer(DenseWeights.From(w, outputs * pieces, inputs, b), g, normB, inputs, outputs, pieces);
    }

    /// <summary>y = layernorm(maxout(x)) for <paramref name="rows"/> rows (the pieces in <paramref name="scratch"/>'s buffer when given).</summary>
    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y, Tok2VecScratch? scratch = null)
    {
        var z = Tok2VecScratch.Uninitialized(scratch, Tok2VecScratch.Slot.Pieces, rows * Outputs * Pieces);
        _affine.Multiply(x, rows, z);
        Ops.MaxPieces(z, rows, Outputs, Pieces, y);
        Ops.LayerNormInPlace(y[..(rows * Outputs)], rows, Outputs, _g, _normB, z);
    }
}

/// <summary>
/// The arrays one thread's <see cref="Tok2VecModel.Predict(IReadOnlyList{PipelineDoc}, Tok2VecScratch)"/> works in, kept for the documents of a
/// batch. Per document they were several arrays of rows x 288 floats, large objects for any document of
/// about 80 tokens or more, which the GC only reclaims in full collections: an evaluation over
/// food_ingredients' dev set left tens of megabytes of them behind. A scratch lives as long as the
/// batch that made it, so nothing stays allocated after a prediction.
/// </summary>
internal sealed class Tok2VecScratch
{
    /// <summary>What each buffer holds: the embedding's concatenated tables, the padded rows the blocks add into, a block's windows, its output, and a maxout's pieces.</summary>
    internal enum Slot
    {
        Concatenated,
        Encoded,
        Window,
        Hidden,
        Pieces,
    }

    private readonly float[][] _buffers = new float[Enum.GetValues<Slot>().Length][];

    /// <summary><paramref name="length"/> zeros: from the scratch's buffer, or a new array without one.</summary>
    internal static Span<float> Zeroed(Tok2VecScratch? scratch, Slot slot, int length)
    {
        if (scratch is null)
        {
            return new float[length];
        }

        var span = scratch.Buffer(slot, length);
        span.Clear();
        return span;
    }

    /// <summary><paramref name="length"/> values the caller overwrites before reading (what an earlier document left there otherwise).</summary>
    internal static Span<float> Uninitialized(Tok2VecScratch? scratch, Slot slot, int length) =>
        scratch is null ? new float[length] : scratch.Buffer(slot, length);

    private Span<float> Buffer(Slot slot, int length)
    {
        var buffer = _buffers[(int)slot];
        if (buffer is null || buffer.Length < length)
        {
            // Exactly what is asked: a batch reallocates only when a longer document comes, never more
            // often than the arrays per document did, and holds no more than its longest document needs.
            buffer = new float[length];
            _buffers[(int)slot] = buffer;
        }

        return buffer.AsSpan(0, length);
    }
}
