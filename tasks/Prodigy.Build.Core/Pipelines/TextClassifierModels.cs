using System.Buffers;
using System.Runtime.InteropServices;
using Prodigy.Build.Core.Hashing;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>A textcat architecture: its thinc layer tree, and the scores it gives a batch once bound.</summary>
internal interface ITextClassifierModel
{
    /// <summary>The layer tree as the architecture builds it (names and walk order as thinc's).</summary>
    ThincLayer Root { get; }

    /// <summary>Whether the classes are exclusive (softmax) rather than independent (logistic).</summary>
    bool ExclusiveClasses { get; }

    /// <summary>The number of scores per document (the model's nO); valid after <see cref="LoadWeights"/>.</summary>
    int OutputWidth { get; }

    /// <summary>Takes the weights out of the bound tree and checks their shapes.</summary>
    void LoadWeights(string modelPath);

    /// <summary>Writes <c>docs.Count x OutputWidth</c> scores, row-major. Safe to call from many threads.</summary>
    void Predict(IReadOnlyList<PipelineDoc> docs, Span<float> scores);
}

/// <summary>
/// <c>spacy.TextCatBOW.v2</c>: hashed bag of n-grams of ORTH ids (<c>extract_ngrams</c>), thinc's
/// <c>SparseLinear</c> over them, then softmax (exclusive) or logistic unless <c>no_output_layer</c>.
/// </summary>
internal sealed class BowTextClassifierModel : ITextClassifierModel
{
    private readonly ThincLayer _extractNgrams;
    private readonly ThincLayer _sparseLinear;
    private readonly bool _hasOutputLayer;
    private float[] _weights = [];
    private float[] _bias = [];
    private uint _mask;
    private bool _v1Indexing;

    private BowTextClassifierModel(int ngramSize, bool exclusiveClasses, bool hasOutputLayer)
    {
        NgramSize = ngramSize;
        ExclusiveClasses = exclusiveClasses;
        _hasOutputLayer = hasOutputLayer;

        // build_bow_text_classifier: with_cpu(extract_ngrams >> resizable(sparse_linear)), then
        // ">> with_cpu(softmax_activation | logistic)" when there is an output layer.
        _extractNgrams = ThincLayer.Leaf("extract_ngrams").WithAttrs(("ngram_size", (long)ngramSize), ("attr", 65L));
        _sparseLinear = ThincLayer.Leaf("sparse_linear", "W", "b");
        _resizable = ThincLayer.Wrap("resizable", _sparseLinear);
        _features = ThincLayer.Chain(_extractNgrams, _resizable);
        var linear = ThincLayer.Wrap("with_cpu", _features).WithDims(("nO", null));
        Root = hasOutputLayer
            ? ThincLayer.Chain(linear, ThincLayer.Wrap("with_cpu", ThincLayer.Leaf(exclusiveClasses ? "softmax_activation" : "logistic")))
            : linear;
        Root.WithRefs(("output_layer", _sparseLinear));
    }

    private readonly ThincLayer _resizable;
    private readonly ThincLayer _features;

    /// <summary>The <c>sparse_linear</c> layer (the model's <c>output_layer</c> ref).</summary>
    internal ThincLayer OutputLayer => _sparseLinear;

    // The dims that depend on the labels and the table length, from the weights' shapes
    // (sparse_linear's W holds nO x length values), and the attrs thinc saves.
    private void SetShapes(int classes, int length, bool v1Indexing)
    {
        _sparseLinear.Dims.Clear();
        _sparseLinear.WithDims(("nO", classes), ("length", length));
        _sparseLinear.Attrs.Clear();
        _sparseLinear.WithAttrs(("v1_indexing", v1Indexing));
        _resizable.Dims.Clear();
        _resizable.WithDims(("nO", null), ("length", length));
        _features.Dims.Clear();
        _features.WithDims(("nO", classes));
        if (_hasOutputLayer)
        {
            Root.Dims.Clear();
            Root.WithDims(("nO", classes));
        }

        Root.Attrs.Clear();
        Root.WithAttrs(("multi_label", !ExclusiveClasses));
    }

    /// <summary>Sets the label-dependent dims for writing a new model: <paramref name="classes"/> outputs over a table of <paramref name="length"/> rows (v1 indexing, as SparseLinear.v1 builds it).</summary>
    internal void PlanShapes(int classes, int length) => SetShapes(classes, length, v1Indexing: true);

    /// <summary>The params: <c>sparse_linear.W</c> (nO x length values, flat, v1-indexed) and <c>sparse_linear.b</c>.</summary>
    internal void CollectParameters(List<ModelParameter> into)
    {
        var nO = ModelParameter.DimOf(_sparseLinear, "nO");
        var length = ModelParameter.DimOf(_sparseLinear, "length");
        into.Add(new("sparse_linear.W", _sparseLinear, "W", [nO * length]));
        into.Add(new("sparse_linear.b", _sparseLinear, "b", [nO]));
    }

    public ThincLayer Root { get; }

    public bool ExclusiveClasses { get; }

    /// <summary>The longest n-gram whose hash is a feature (<c>ngram_size</c>).</summary>
    public int NgramSize { get; }

    public int OutputWidth { get; private set; }

    /// <summary>Builds the tree for the <c>spacy.TextCatBOW.v2</c> section <paramref name="section"/>.</summary>
    public static BowTextClassifierModel Build(ComponentContext context, string section)
    {
        var config = context.Config;
        var ngramSize = config.Int(section, "ngram_size", 1);
        if (ngramSize < 1)
        {
            throw context.Error("PRD2436", $"[{section}] ngram_size is {ngramSize}; it must be 1 or more");
        }

        return new BowTextClassifierModel(
            ngramSize,
            config.Bool(section, "exclusive_classes", true),
            !config.Bool(section, "no_output_layer", false));
    }

    public void LoadWeights(string modelPath)
    {
        var node = _sparseLinear.Node;
        var nO = _sparseLinear.Dim("nO");
        var length = _sparseLinear.Dim("length");
        if (length <= 0 || (length & (length - 1)) != 0)
        {
            // thinc masks the hash with length - 1, which only indexes every row for a power of two.
            throw new SpacyPipelineException("PRD2437", $"sparse_linear has length {length}, but thinc's SparseLinear needs a power of two", modelPath);
        }

        _weights = _sparseLinear.Floats("W");
        _bias = _sparseLinear.Floats("b");
        if (_weights.Length != (long)nO * length || _bias.Length != nO)
        {
            throw new SpacyPipelineException("PRD2437", $"sparse_linear has W of {_weights.Length} and b of {_bias.Length} values, but nO {nO} and length {length} need {(long)nO * length} and {nO}", modelPath);
        }

        // v1 indexing (SparseLinear.v1, which TextCatBOW.v2 builds) offsets the hashed row by the class;
        // v2 indexing gives each class its own block of `length` weights.
        _v1Indexing = node.Attr("v1_indexing") is not false;
        if (_extractNgrams.Node.Attr("attr") is long attr && attr != 65)
        {
            throw new SpacyPipelineException("PRD2437", $"extract_ngrams reads the attribute {attr}, but TextCatBOW.v2 hashes ORTH (65)", modelPath);
        }

        _mask = (uint)(length - 1);
        OutputWidth = nO;
        SetShapes(_bias.Length, _weights.Length / Math.Max(1, _bias.Length), _v1Indexing);
    }

    public void Predict(IReadOnlyList<PipelineDoc> docs, Span<float> scores)
    {
        var nO = OutputWidth;
        for (var d = 0; d < docs.Count; d++)
        {
            var row = scores.Slice(d * nO, nO);
            ScoreDocument(docs[d].AttrIds("ORTH"), row);
            if (!_hasOutputLayer)
            {
                continue;
            }

            if (ExclusiveClasses)
            {
                Ops.SoftmaxInPlace(row);
            }
            else
            {
                Ops.SigmoidInPlace(row);
            }
        }
    }

    /// <summary>How many keys <c>extract_ngrams</c> gives a document of <paramref name="unigrams"/> tokens: each token and each run of 2..n.</summary>
    internal static int NgramKeyCount(int unigrams, int ngramSize)
    {
        var count = unigrams;
        for (var n = 2; n <= ngramSize; n++)
        {
            count += Math.Max(0, unigrams - (n - 1));
        }

        return count;
    }

    /// <summary>
    /// <c>extract_ngrams</c>'s keys, ascending (numpy's <c>unique</c> order): the ORTH ids and, for
    /// n = 2..ngramSize, thinc's <c>ops.ngrams</c> (MurmurHash64A, seed 0, of n consecutive ids' bytes).
    /// <paramref name="keys"/> holds <see cref="NgramKeyCount"/> values.
    /// </summary>
    internal static void SortedNgramKeys(ulong[] unigrams, int ngramSize, Span<ulong> keys)
    {
        unigrams.CopyTo(keys);
        var at = unigrams.Length;
        for (var n = 2; n <= ngramSize; n++)
        {
            for (var i = 0; i + n <= unigrams.Length; i++)
            {
                keys[at++] = MurmurHash.Hash64A(MemoryMarshal.AsBytes(unigrams.AsSpan(i, n)), 0);
            }
        }

        keys.Sort();
    }

    /// <summary>SparseLinear's two rows of a key (MurmurHash3 x86-32 with seeds 0 and 1, masked to the table).</summary>
    internal static (int First, int Second) KeyRows(ulong key, uint mask) =>
        ((int)(MurmurHash.Hash3X86_32(key, 0) & mask), (int)(MurmurHash.Hash3X86_32(key, 1) & mask));

    /// <summary>
    /// <c>extract_ngrams</c> then <c>SparseLinear</c> for one document: the unique n-gram keys in
    /// ascending order (numpy's <c>unique</c>), each weighted by its count, added in that order so
    /// that the float32 sums round as thinc's loop does.
    /// </summary>
    private void ScoreDocument(ulong[] unigrams, Span<float> row)
    {
        var count = NgramKeyCount(unigrams.Length, NgramSize);
        var rented = ArrayPool<ulong>.Shared.Rent(Math.Max(count, 1));
        try
        {
            var keys = rented.AsSpan(0, count);
            SortedNgramKeys(unigrams, NgramSize, keys);
            _bias.CopyTo(row);
            var weights = _weights.AsSpan();
            var nO = row.Length;
            var length = (int)_mask + 1;
            for (var i = 0; i < keys.Length;)
            {
                var key = keys[i];
                var run = 1;
                while (i + run < keys.Length && keys[i + run] == key)
                {
                    run++;
                }

                i += run;
                float value = run;
                var (index1, index2) = KeyRows(key, _mask);
                for (var c = 0; c < nO; c++)
                {
                    var w1 = _v1Indexing ? weights[index1 + c] : weights[(c * length) + index1];
                    var w2 = _v1Indexing ? weights[index2 + c] : weights[(c * length) + index2];
                    row[c] += w1 * value;
                    row[c] += w2 * value;
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(rented);
        }
    }
}

/// <summary>
/// <c>spacy.TextCatEnsemble.v2</c>: the BOW model's scores concatenated with an attention summary of
/// the tok2vec output (<c>list2ragged >> ParametricAttention >> reduce_sum >> residual(Maxout >>
/// LayerNorm >> Dropout)</c>), then Softmax (exclusive) or Linear >> Logistic.
/// </summary>
internal sealed class EnsembleTextClassifierModel : ITextClassifierModel
{
    private readonly BowTextClassifierModel _linear;
    private readonly ThincLayer _attention;
    private readonly ThincLayer _maxout;
    private readonly ThincLayer _norm;
    private readonly ThincLayer _output;
    private float[] _query = [];
    private float[] _maxoutW = [];
    private float[] _maxoutB = [];
    private float[] _normG = [];
    private float[] _normB = [];
    private float[] _outputW = [];
    private float[] _outputB = [];
    private int _pieces;

    private readonly Tok2VecInput _input;

    private EnsembleTextClassifierModel(BowTextClassifierModel linear, Tok2VecInput input)
    {
        _linear = linear;
        _input = input;
        ExclusiveClasses = linear.ExclusiveClasses;
        _attention = ThincLayer.Leaf("para-attn", "Q");
        _maxout = ThincLayer.Leaf("maxout", "W", "b");
        _norm = ThincLayer.Leaf("layernorm", "G", "b");

        // Python's ">>" is left-associative and thinc's chain does not flatten, so each ">>" nests.
        _ragged = ThincLayer.Chain(input.Layer, ThincLayer.Leaf("list2ragged"));
        _attended = ThincLayer.Chain(_ragged, _attention);
        _summed = ThincLayer.Chain(_attended, ThincLayer.Leaf("reduce_sum"));
        _normalized = ThincLayer.Chain(_maxout, _norm);
        _dropout = ThincLayer.Leaf("dropout");
        _residualBody = ThincLayer.Chain(_normalized, _dropout);
        _residual = ThincLayer.Wrap("residual", _residualBody);
        _cnn = ThincLayer.Chain(_summed, _residual);
        _output = ExclusiveClasses ? ThincLayer.Leaf("softmax", "W", "b") : ThincLayer.Leaf("linear", "W", "b");
        _head = ExclusiveClasses ? _output : ThincLayer.Chain(_output, ThincLayer.Leaf("logistic"));
        _concatenated = ThincLayer.Concatenate(linear.Root, _cnn);
        Root = ThincLayer.Chain(_concatenated, _head);
        Root.WithRefs(("tok2vec", input.Layer), ("output_layer", linear.OutputLayer), ("attention_layer", _attention), ("maxout_layer", _maxout), ("norm_layer", _norm));
    }

    private readonly ThincLayer _ragged;
    private readonly ThincLayer _attended;
    private readonly ThincLayer _summed;
    private readonly ThincLayer _normalized;
    private readonly ThincLayer _dropout;
    private readonly ThincLayer _residualBody;
    private readonly ThincLayer _residual;
    private readonly ThincLayer _cnn;
    private readonly ThincLayer _head;
    private readonly ThincLayer _concatenated;

    /// <summary>
    /// Sets the dims and attrs thinc saves for a new model of <paramref name="classes"/> labels, as
    /// build_text_classifier_v2 and init_ensemble_textcat leave them after initialize: the attention,
    /// maxout (nP 3) and layernorm at the tok2vec width, the BOW's table of <paramref name="length"/>
    /// rows, the output layer reading the BOW scores beside the attention summary, and the residual's
    /// dropout at the rate training sets (<paramref name="dropout"/>).
    /// </summary>
    internal void PlanShapes(int classes, int length, double dropout)
    {
        static void Set(ThincLayer layer, params (string, long?)[] dims)
        {
            layer.Dims.Clear();
            layer.WithDims(dims);
        }

        var width = _input.Width;
        _linear.PlanShapes(classes, length);
        Set(_ragged, ("nO", width));
        Set(_attention, ("nO", width));
        Set(_attended, ("nO", width));
        Set(_summed, ("nO", width));
        Set(_maxout, ("nO", width), ("nI", width), ("nP", 3));
        Set(_norm, ("nI", width), ("nO", width));
        Set(_normalized, ("nO", width), ("nI", width));
        Set(_residualBody, ("nO", width), ("nI", width));
        Set(_residual, ("nO", width), ("nI", width));
        Set(_cnn, ("nO", width));
        Set(_concatenated, ("nO", classes + width));
        Set(_output, ("nO", classes), ("nI", classes + width));
        if (!ReferenceEquals(_head, _output))
        {
            Set(_head, ("nO", classes), ("nI", classes + width));
        }

        Set(Root, ("nO", classes));
        Root.Attrs.Clear();
        Root.WithAttrs(("multi_label", !ExclusiveClasses));
        _dropout.Attrs.Clear();
        _dropout.WithAttrs(("dropout_rate", dropout), ("is_enabled", true));
    }

    /// <summary>
    /// The params: an inline tok2vec's under <c>tok2vec.</c>, the BOW's <c>sparse_linear.W/b</c>,
    /// <c>attention.Q</c>, <c>maxout.W/b</c> and <c>layernorm.G/b</c> of the residual block, and the
    /// output layer's <c>softmax.W/b</c> (exclusive) or <c>linear.W/b</c>.
    /// </summary>
    internal void CollectParameters(List<ModelParameter> into)
    {
        var width = _input.Width;
        var classes = ModelParameter.DimOf(_output, "nO");
        _input.CollectParameters(into);
        _linear.CollectParameters(into);
        into.Add(new("attention.Q", _attention, "Q", [width]));
        Tok2VecModel.AddMaxout(into, "", _maxout, _norm);
        var output = ExclusiveClasses ? "softmax" : "linear";
        into.Add(new($"{output}.W", _output, "W", [classes, classes + width]));
        into.Add(new($"{output}.b", _output, "b", [classes]));
    }

    public ThincLayer Root { get; }

    public bool ExclusiveClasses { get; }

    /// <summary>The tok2vec component whose output the listener reads (null for an inline tok2vec).</summary>
    public string? Tok2VecUpstream => _input.Upstream;

    public int OutputWidth { get; private set; }

    /// <summary>The tok2vec width (the attention's nO).</summary>
    public int Width { get; private set; }

    /// <summary>Builds the tree for the <c>spacy.TextCatEnsemble.v2</c> section <paramref name="section"/>.</summary>
    public static EnsembleTextClassifierModel Build(ComponentContext context, string section)
    {
        var linearSection = $"{section}.linear_model";
        if (context.Architecture(linearSection) != "spacy.TextCatBOW.v2")
        {
            throw context.Unsupported(linearSection);
        }

        return new EnsembleTextClassifierModel(BowTextClassifierModel.Build(context, linearSection), Tok2VecInput.Create(context, $"{section}.tok2vec"));
    }

    public void LoadWeights(string modelPath)
    {
        _input.LoadWeights(modelPath);
        _linear.LoadWeights(modelPath);
        _query = _attention.Floats("Q");
        Width = _query.Length;
        _maxoutW = _maxout.Floats("W");
        _maxoutB = _maxout.Floats("b");
        _pieces = _maxout.Dim("nP");
        _normG = _norm.Floats("G");
        _normB = _norm.Floats("b");
        _outputW = _output.Floats("W");
        _outputB = _output.Floats("b");
        var nO = _outputB.Length;
        var nI = _linear.OutputWidth + Width;
        if (_maxoutW.Length != Width * _pieces * Width || _maxoutB.Length != Width * _pieces || _normG.Length != Width || _normB.Length != Width)
        {
            throw new SpacyPipelineException("PRD2437", $"the ensemble's maxout or layernorm params do not fit the attention width {Width}", modelPath);
        }

        if (_outputW.Length != nO * nI)
        {
            throw new SpacyPipelineException("PRD2437", $"the ensemble's {_output.Name} layer has W of {_outputW.Length} values, but {nO} outputs over the BOW scores ({_linear.OutputWidth}) and the tok2vec width ({Width}) need {nO * nI}", modelPath);
        }

        OutputWidth = nO;
    }

    public void Predict(IReadOnlyList<PipelineDoc> docs, Span<float> scores)
    {
        var linearWidth = _linear.OutputWidth;
        var width = Width;
        var nI = linearWidth + width;
        var concatenated = new float[docs.Count * nI];
        var linearScores = new float[docs.Count * linearWidth];
        _linear.Predict(docs, linearScores);
        var pieces = new float[width * _pieces];
        var hidden = new float[width];
        var scratch = new float[width];
        var encoderScratch = new Tok2VecScratch();
        for (var d = 0; d < docs.Count; d++)
        {
            var row = concatenated.AsSpan(d * nI, nI);
            linearScores.AsSpan(d * linearWidth, linearWidth).CopyTo(row);
            var summary = row[linearWidth..];
            Attend(docs[d], summary, encoderScratch);

            // residual(maxout >> layernorm >> dropout): dropout is off at inference.
            Ops.Maxout(summary, 1, width, _maxoutW, width, _pieces, _maxoutB, pieces, hidden);
            Ops.LayerNormInPlace(hidden, 1, width, _normG, _normB, scratch);
            for (var i = 0; i < width; i++)
            {
                summary[i] += hidden[i];
            }
        }

        Ops.Affine(concatenated, docs.Count, nI, _outputW, OutputWidth, _outputB, scores);
        for (var d = 0; d < docs.Count; d++)
        {
            var row = scores.Slice(d * OutputWidth, OutputWidth);
            if (ExclusiveClasses)
            {
                Ops.SoftmaxInPlace(row);
            }
            else
            {
                Ops.SigmoidInPlace(row);
            }
        }
    }

    /// <summary>
    /// ParametricAttention then reduce_sum over one document: each token's weight is
    /// <c>exp(clip(x·Q, ±20))</c> over the document's sum (thinc's <c>softmax_sequences</c>), and the
    /// summary is the weighted sum of the token vectors.
    /// </summary>
    private void Attend(PipelineDoc doc, Span<float> summary, Tok2VecScratch scratch)
    {
        summary.Clear();
        var n = doc.Length;
        if (n == 0)
        {
            return;
        }

        var width = Width;
        var tokens = _input.Vectors(doc, scratch);

        var rented = ArrayPool<float>.Shared.Rent(n);
        try
        {
            var weights = rented.AsSpan(0, n);
            var total = 0f;
            for (var t = 0; t < n; t++)
            {
                var logit = System.Numerics.Tensors.TensorPrimitives.Dot(tokens.AsSpan(t * width, width), _query);
                weights[t] = MathF.Exp(Math.Clamp(logit, -20f, 20f));
                total += weights[t];
            }

            for (var t = 0; t < n; t++)
            {
                var weight = weights[t] / total;
                var vector = tokens.AsSpan(t * width, width);
                for (var i = 0; i < width; i++)
                {
                    summary[i] += vector[i] * weight;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }
}
