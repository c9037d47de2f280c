using System.Buffers;
using System.Text.Json;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// spaCy's <c>spancat</c> component: <c>spacy.SpanCategorizer.v1</c> over a
/// <c>spacy.Tok2VecListener.v1</c>, with the n-gram suggester, <c>spacy.mean_max_reducer.v1</c> and
/// <c>spacy.LinearLogistic.v1</c>. Every suggested span is scored for every label; the spans kept
/// (threshold, <c>max_positive</c>, <c>allow_overlap</c> as spaCy 3.5's <c>set_annotations</c>) go
/// into <see cref="PipelineDoc.Spans"/> under <see cref="SpansKey"/> with their scores, in spaCy's order.
/// </summary>
public sealed class SpanCategorizerComponent : IPipelineComponent
{
    private readonly ThincLayer _maxout;
    private readonly ThincLayer _norm;
    private readonly ThincLayer _linear;
    private float[] _maxoutW = [];

    // The maxout's weights split by the reducer block they read (last, first, mean, max), each
    // (hidden x pieces) x width: the maxout's affine part is linear in its input, so the first three
    // blocks are applied once per token instead of once per span (most tokens start, end and sit in
    // several suggestions).
    private DenseWeights[] _reducerBlocks = [];
    private float[] _maxoutB = [];
    private float[] _normG = [];
    private float[] _normB = [];
    private float[] _linearW = [];
    private float[] _linearB = [];
    private int _pieces;

    private readonly Tok2VecInput _input;
    private double _trainingDropout = 0.1;

    private SpanCategorizerComponent(string name, Tok2VecInput input, IReadOnlyList<int> suggesterSizes)
    {
        Name = name;
        _input = input;
        SuggesterSizes = suggesterSizes;
        _maxout = ThincLayer.Leaf("maxout", "W", "b");
        _norm = ThincLayer.Leaf("layernorm", "G", "b");
        _linear = ThincLayer.Leaf("linear", "W", "b");

        // build_spancat_model: chain(with_getitem(0, tok2vec >> list2ragged), extract_spans, reducer, scorer);
        // mean_max_reducer: concatenate(last, first, mean, max) >> Maxout(normalize=True, dropout=0.0).
        _reductions = ThincLayer.Concatenate(ThincLayer.Leaf("reduce_last"), ThincLayer.Leaf("reduce_first"), ThincLayer.Leaf("reduce_mean"), ThincLayer.Leaf("reduce_max"));
        _dropout = ThincLayer.Leaf("dropout");
        _normalized = ThincLayer.Chain(_maxout, _norm);
        _maxoutChain = ThincLayer.Chain(_normalized, _dropout);
        _reducer = ThincLayer.Chain(_reductions, _maxoutChain);
        _scorer = ThincLayer.Chain(_linear, ThincLayer.Leaf("logistic"));
        _tokens = ThincLayer.Chain(input.Layer, ThincLayer.Leaf("list2ragged"));
        Tree = ThincLayer.Chain(
            ThincLayer.Wrap("with_getitem", _tokens).WithAttrs(("idx", 0L)),
            ThincLayer.Leaf("extract_spans"),
            _reducer,
            _scorer);
        Tree.WithRefs(("tok2vec", input.Layer), ("reducer", _reducer), ("scorer", _scorer));
    }

    private readonly ThincLayer _reductions;
    private readonly ThincLayer _dropout;
    private readonly ThincLayer _normalized;
    private readonly ThincLayer _maxoutChain;
    private readonly ThincLayer _reducer;
    private readonly ThincLayer _scorer;
    private readonly ThincLayer _tokens;

    // The dims and attrs thinc saves, from the weights' shapes (maxout W is hidden x pieces x 4·width,
    // the linear layer's b has one value per label) and the dropout rate training last set.
    private void SetShapes(int hidden, int pieces, int reduced, int labels, double dropout)
    {
        static void Set(ThincLayer layer, params (string, long?)[] dims)
        {
            layer.Dims.Clear();
            layer.WithDims(dims);
        }

        Set(_tokens, ("nO", _input.Width));
        Set(_reductions, ("nO", null));
        Set(_maxout, ("nO", hidden), ("nI", reduced), ("nP", pieces));
        Set(_norm, ("nI", hidden), ("nO", hidden));
        Set(_normalized, ("nO", hidden), ("nI", reduced));
        Set(_maxoutChain, ("nO", hidden), ("nI", reduced));
        Set(_reducer, ("nO", hidden));
        Set(_linear, ("nO", labels), ("nI", hidden));
        Set(_scorer, ("nO", labels), ("nI", hidden));
        Set(Tree, ("nO", labels));
        _dropout.Attrs.Clear();
        _dropout.WithAttrs(("dropout_rate", dropout), ("is_enabled", true));
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Factory => "spancat";

    /// <inheritdoc />
    public IReadOnlyList<string> Labels { get; private set; } = [];

    /// <inheritdoc />
    public ThincModelData? Model { get; private set; }

    /// <summary>The model's layer tree, bound to the model file (names as thinc's <c>walk()</c> gives them).</summary>
    public ThincLayer Tree { get; }

    /// <summary>The tok2vec component whose output the listener reads (null for an inline tok2vec).</summary>
    public string? Tok2VecUpstream => _input.Upstream;

    /// <summary>The n-gram lengths the suggester proposes, in the order it proposes them.</summary>
    public IReadOnlyList<int> SuggesterSizes { get; }

    /// <summary>The <c>doc.spans</c> key the spans are written under (<c>spans_key</c>).</summary>
    public string SpansKey { get; private set; } = "sc";

    /// <summary>The minimum score for a label to be kept (<c>threshold</c>); null keeps every argmax label when <see cref="MaxPositive"/> is 1.</summary>
    public float? Threshold { get; private set; }

    /// <summary>The most labels kept per span (<c>max_positive</c>); null for no limit.</summary>
    public int? MaxPositive { get; private set; }

    /// <summary>Whether kept spans may overlap (<c>allow_overlap</c>; only consulted when <see cref="MaxPositive"/> is 1).</summary>
    public bool AllowOverlap { get; private set; } = true;

    /// <summary>The tok2vec width the reducer reads.</summary>
    public int Width { get; private set; }

    /// <summary>
    /// The factory for <c>spancat</c>: reads the suggester, reducer and scorer settings (PRD2433-PRD2436
    /// for what is not implemented or invalid), binds the model file and checks the labels (PRD2432).
    /// </summary>
    public static IPipelineComponent Create(ComponentContext context)
    {
        var component = Build(context);
        var cfg = ComponentCfg.Read(context);
        component.ReadSettings(context, cfg);
        component.Model = context.ReadModel(component.Tree);
        component.LoadWeights(Path.Combine(context.Directory, "model"), cfg.Labels);
        return component;
    }

    /// <summary>The component's tree and architecture settings from config.cfg, before the model file is read.</summary>
    internal static SpanCategorizerComponent Build(ComponentContext context)
    {
        var section = context.ModelSection;
        if (context.Architecture(section) != "spacy.SpanCategorizer.v1")
        {
            throw context.Unsupported(section);
        }

        var reducer = context.Config.String($"{section}.reducer", "@layers");
        if (reducer != "spacy.mean_max_reducer.v1")
        {
            throw context.Error("PRD2434", $"[{section}.reducer] uses the reducer '{reducer ?? "(none)"}', which Prodigy.Build.Sdk cannot run; supported: spacy.mean_max_reducer.v1");
        }

        var scorer = context.Config.String($"{section}.scorer", "@layers");
        if (scorer != "spacy.LinearLogistic.v1")
        {
            throw context.Error("PRD2435", $"[{section}.scorer] uses the scorer '{scorer ?? "(none)"}', which Prodigy.Build.Sdk cannot run; supported: spacy.LinearLogistic.v1");
        }

        return new SpanCategorizerComponent(context.Name, Tok2VecInput.Create(context, $"{section}.tok2vec"), SuggesterSizesOf(context))
        {
            _trainingDropout = context.Config.Double("training", "dropout", 0.1),
        };
    }

    /// <summary>
    /// For a trainer: sets the dims of a freshly built tree (mean_max_reducer's Maxout of
    /// <paramref name="hidden"/> x 3 pieces over the four reductions, one LinearLogistic output per
    /// label) and names its params: the inline tok2vec's (<c>tok2vec.</c>), <c>reducer.maxout.W/b</c>,
    /// <c>reducer.layernorm.G/b</c>, <c>scorer.linear.W/b</c>.
    /// </summary>
    internal List<ModelParameter> PlanShapes(int hidden, int labels)
    {
        // build_mean_max_reducer passes no nP: Maxout's default of 3.
        const int pieces = 3;
        var reduced = 4 * _input.Width;
        SetShapes(hidden, pieces, reduced, labels, _trainingDropout);
        var parameters = new List<ModelParameter>();
        _input.CollectParameters(parameters);
        parameters.Add(new("reducer.maxout.W", _maxout, "W", [hidden, pieces, reduced]));
        parameters.Add(new("reducer.maxout.b", _maxout, "b", [hidden, pieces]));
        parameters.Add(new("reducer.layernorm.G", _norm, "G", [hidden]));
        parameters.Add(new("reducer.layernorm.b", _norm, "b", [hidden]));
        parameters.Add(new("scorer.linear.W", _linear, "W", [labels, hidden]));
        parameters.Add(new("scorer.linear.b", _linear, "b", [labels]));
        return parameters;
    }

    private static IReadOnlyList<int> SuggesterSizesOf(ComponentContext context)
    {
        var section = $"{context.Section}.suggester";
        var suggester = context.Config.String(section, "@misc");
        IReadOnlyList<int> sizes = suggester switch
        {
            "spacy.ngram_suggester.v1" => context.Config.IntList(section, "sizes"),
            "spacy.ngram_range_suggester.v1" => Enumerable.Range(
                context.Config.Int(section, "min_size", 1),
                Math.Max(0, context.Config.Int(section, "max_size", 0) - context.Config.Int(section, "min_size", 1) + 1)).ToList(),
            _ => throw context.Error(
                "PRD2433",
                $"[{section}] uses the suggester '{suggester ?? "(none)"}', which Prodigy.Build.Sdk cannot run; supported: spacy.ngram_suggester.v1, spacy.ngram_range_suggester.v1"),
        };
        if (sizes.Count == 0 || sizes.Any(s => s < 1))
        {
            throw context.Error("PRD2433", $"[{section}] suggests the span lengths [{string.Join(", ", sizes)}]; give one or more lengths of 1 or more");
        }

        return sizes;
    }

    /// <summary>spans_key, threshold, max_positive, allow_overlap: the cfg file's values win over config.cfg's, as in spaCy's from_disk.</summary>
    private void ReadSettings(ComponentContext context, ComponentCfg cfg)
    {
        var config = context.Config;
        var section = context.Section;
        SpansKey = cfg.Has("spans_key")
            ? cfg.Value("spans_key") is { ValueKind: JsonValueKind.String } key ? key.GetString()! : throw cfg.Invalid("spans_key", "a string")
            : config.String(section, "spans_key") ?? "sc";

        if (cfg.Has("threshold"))
        {
            Threshold = cfg.Value("threshold") switch
            {
                null => null,
                { ValueKind: JsonValueKind.Number } value => (float)value.GetDouble(),
                _ => throw cfg.Invalid("threshold", "a number or null"),
            };
        }
        else
        {
            Threshold = config.IsNull(section, "threshold") && config.Raw(section, "threshold") is not null ? null : (float)config.Double(section, "threshold", 0.5);
        }

        if (cfg.Has("max_positive"))
        {
            MaxPositive = cfg.Value("max_positive") switch
            {
                null => null,
                { ValueKind: JsonValueKind.Number } value when value.TryGetInt32(out var count) && count >= 1 => count,
                _ => throw cfg.Invalid("max_positive", "a whole number of 1 or more, or null"),
            };
        }
        else
        {
            MaxPositive = config.IsNull(section, "max_positive") ? null : config.Int(section, "max_positive", 0);
            if (MaxPositive < 1)
            {
                throw context.Error("PRD2436", $"[{section}] max_positive is {MaxPositive}; it must be 1 or more, or null");
            }
        }

        if (cfg.Has("allow_overlap"))
        {
            AllowOverlap = cfg.Value("allow_overlap") switch
            {
                null => true,
                { ValueKind: JsonValueKind.True } => true,
                { ValueKind: JsonValueKind.False } => false,
                _ => throw cfg.Invalid("allow_overlap", "true or false"),
            };
        }
        else
        {
            AllowOverlap = config.Bool(section, "allow_overlap", true);
        }

        if (!AllowOverlap && MaxPositive is > 1)
        {
            // spaCy's E1051: without overlaps each span keeps one label.
            throw new SpacyPipelineException("PRD2436", $"allow_overlap is false, which needs max_positive 1, but max_positive is {MaxPositive}", cfg.Path);
        }

        if (MaxPositive != 1 && Threshold is null)
        {
            throw new SpacyPipelineException("PRD2436", "threshold is null, which spaCy accepts only with max_positive 1", cfg.Path);
        }
    }

    /// <summary>Takes the weights out of the bound tree and checks them against each other and the labels.</summary>
    internal void LoadWeights(string modelPath, IReadOnlyList<string> labels)
    {
        _input.LoadWeights(modelPath);
        _maxoutW = _maxout.Floats("W");
        _maxoutB = _maxout.Floats("b");
        _pieces = _maxout.Dim("nP");
        var hidden = _maxout.Dim("nO");
        var reduced = _maxout.Dim("nI");
        _normG = _norm.Floats("G");
        _normB = _norm.Floats("b");
        _linearW = _linear.Floats("W");
        _linearB = _linear.Floats("b");
        if (reduced % 4 != 0 || _maxoutW.Length != hidden * _pieces * reduced || _normG.Length != hidden || _linearW.Length != _linearB.Length * hidden)
        {
            throw new SpacyPipelineException("PRD2437", $"the spancat params do not fit together: maxout {hidden} x {_pieces} x {reduced}, layernorm {_normG.Length}, linear {_linearB.Length} x {_linearW.Length / Math.Max(1, _linearB.Length)}", modelPath);
        }

        SetShapes(hidden, _pieces, reduced, _linearB.Length, _trainingDropout);
        var width = reduced / 4;
        _reducerBlocks = new DenseWeights[4];
        for (var block = 0; block < 4; block++)
        {
            var weights = new float[hidden * _pieces * width];
            for (var row = 0; row < hidden * _pieces; row++)
            {
                _maxoutW.AsSpan((row * reduced) + (block * width), width).CopyTo(weights.AsSpan(row * width, width));
            }

            _reducerBlocks[block] = DenseWeights.From(weights, hidden * _pieces, width, block == 3 ? _maxoutB : []);
        }

        if (_linearB.Length != labels.Count)
        {
            throw new SpacyPipelineException(
                "PRD2432",
                $"component '{Name}' has {labels.Count} labels in its cfg file, but its model scores {_linearB.Length}; the cfg and model files must come from the same pipeline",
                modelPath);
        }

        Width = reduced / 4;
        if (Width != _input.Width)
        {
            throw new SpacyPipelineException("PRD2437", $"the spancat reducer reads vectors of width {Width}, its tok2vec gives {_input.Width}", modelPath);
        }

        Labels = labels;
    }

    /// <summary>
    /// The suggester's spans for a document of <paramref name="length"/> tokens: for each size in
    /// order, every start with room for it (spaCy's <c>ngram_suggester</c>).
    /// </summary>
    public int Suggest(int length, Span<(int Start, int End)> spans)
    {
        var count = 0;
        foreach (var size in SuggesterSizes)
        {
            for (var start = 0; start + size <= length; start++)
            {
                spans[count++] = (start, start + size);
            }
        }

        return count;
    }

    /// <summary>How many spans the suggester proposes for a document of <paramref name="length"/> tokens.</summary>
    public int SuggestionCount(int length) => SuggesterSizes.Sum(size => Math.Max(0, length - size + 1));

    /// <inheritdoc />
    public void Predict(IReadOnlyList<PipelineDoc> docs)
    {
        foreach (var doc in docs)
        {
            doc.Spans[SpansKey] = [];
        }

        // spaCy skips the model when the batch has no suggestion at all; each document then gets an
        // empty group, which is also what scoring no span gives.
        var scratch = new Tok2VecScratch();
        foreach (var doc in docs)
        {
            var count = SuggestionCount(doc.Length);
            if (count > 0)
            {
                PredictDocument(doc, count, doc.Spans[SpansKey], scratch);
            }
        }
    }

    private void PredictDocument(PipelineDoc doc, int count, List<PredictedSpan> output, Tok2VecScratch scratch)
    {
        var spans = ArrayPool<(int, int)>.Shared.Rent(count);
        var scores = ArrayPool<float>.Shared.Rent(count * _linearB.Length);
        try
        {
            Score(doc, spans.AsSpan(0, count), scores.AsSpan(0, count * _linearB.Length), scratch);
            SelectSpans(spans.AsSpan(0, count), scores.AsSpan(0, count * _linearB.Length), Labels, Threshold, MaxPositive, AllowOverlap, doc.Length, output);
        }
        finally
        {
            ArrayPool<(int, int)>.Shared.Return(spans);
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    /// <summary>
    /// The model's score for every suggested span of <paramref name="doc"/> and every label:
    /// <paramref name="spans"/> gets the <see cref="SuggestionCount"/> suggestions, <paramref name="scores"/>
    /// spans x labels.
    /// </summary>
    internal void Score(PipelineDoc doc, Span<(int Start, int End)> spans, Span<float> scores, Tok2VecScratch? scratch = null)
    {
        var width = Width;
        var n = doc.Length;
        var tokens = _input.Vectors(doc, scratch);

        var count = Suggest(n, spans);
        var hidden = _normG.Length;
        var labels = _linearB.Length;
        var outputs = hidden * _pieces;
        var perToken = ArrayPool<float>.Shared.Rent(3 * n * outputs);
        var maxRows = ArrayPool<float>.Shared.Rent(count * width);
        var pieces = ArrayPool<float>.Shared.Rent(count * outputs);
        var hiddenRows = ArrayPool<float>.Shared.Rent(count * hidden);
        try
        {
            var last = perToken.AsSpan(0, n * outputs);
            var first = perToken.AsSpan(n * outputs, n * outputs);
            var mean = perToken.AsSpan(2 * n * outputs, n * outputs);
            _reducerBlocks[0].Multiply(tokens, n, last);
            _reducerBlocks[1].Multiply(tokens, n, first);
            _reducerBlocks[2].Multiply(tokens, n, mean);
            ReduceMax(tokens, width, spans[..count], maxRows);
            var z = pieces.AsSpan(0, count * outputs);
            _reducerBlocks[3].Multiply(maxRows.AsSpan(0, count * width), count, z);
            for (var s = 0; s < count; s++)
            {
                var (start, end) = spans[s];
                var row = z.Slice(s * outputs, outputs);
                System.Numerics.Tensors.TensorPrimitives.Add(row, last.Slice((end - 1) * outputs, outputs), row);
                System.Numerics.Tensors.TensorPrimitives.Add(row, first.Slice(start * outputs, outputs), row);
                // thinc's reduce_mean scales each row by 1/length before summing; so does this.
                var scale = (float)(1.0 / (end - start));
                for (var t = start; t < end; t++)
                {
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(mean.Slice(t * outputs, outputs), scale, row, row);
                }
            }

            Ops.MaxPieces(z, count, hidden, _pieces, hiddenRows);
            Ops.LayerNormInPlace(hiddenRows.AsSpan(0, count * hidden), count, hidden, _normG, _normB, pieces);
            var scoreSpan = scores[..(count * labels)];
            Ops.Affine(hiddenRows.AsSpan(0, count * hidden), count, hidden, _linearW, labels, _linearB, scoreSpan);
            Ops.SigmoidInPlace(scoreSpan);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(perToken);
            ArrayPool<float>.Shared.Return(maxRows);
            ArrayPool<float>.Shared.Return(pieces);
            ArrayPool<float>.Shared.Return(hiddenRows);
        }
    }

    /// <summary>thinc's <c>reduce_max</c> over each span's token rows.</summary>
    private static void ReduceMax(float[] tokens, int width, ReadOnlySpan<(int Start, int End)> spans, Span<float> reduced)
    {
        for (var s = 0; s < spans.Length; s++)
        {
            var (start, end) = spans[s];
            var max = reduced.Slice(s * width, width);
            tokens.AsSpan(start * width, width).CopyTo(max);
            for (var t = start + 1; t < end; t++)
            {
                System.Numerics.Tensors.TensorPrimitives.Max(max, tokens.AsSpan(t * width, width), max);
            }
        }
    }

    /// <summary>
    /// spaCy 3.5's <c>set_annotations</c> for one document: <c>_make_span_group_singlelabel</c> when
    /// <paramref name="maxPositive"/> is 1, else <c>_make_span_group_multilabel</c>. <paramref name="scores"/>
    /// is spans x labels.
    /// </summary>
    internal static void SelectSpans(
        ReadOnlySpan<(int Start, int End)> spans, ReadOnlySpan<float> scores, IReadOnlyList<string> labels, float? threshold, int? maxPositive, bool allowOverlap, int documentLength, List<PredictedSpan> output)
    {
        if (maxPositive == 1)
        {
            KeepSingleLabel(spans, scores, labels, threshold, allowOverlap, documentLength, output);
        }
        else
        {
            KeepMultiLabel(spans, scores, labels, threshold ?? throw new ArgumentNullException(nameof(threshold)), maxPositive, output);
        }
    }

    /// <summary>
    /// <c>_make_span_group_multilabel</c>: for each span in suggestion order, each label in label order
    /// whose score reaches the threshold and ranks among the span's top <c>max_positive</c> scores.
    /// </summary>
    private static void KeepMultiLabel(ReadOnlySpan<(int Start, int End)> spans, ReadOnlySpan<float> scores, IReadOnlyList<string> labelNames, float threshold, int? maxPositive, List<PredictedSpan> output)
    {
        var labels = labelNames.Count;
        var limit = maxPositive ?? labels;
        for (var s = 0; s < spans.Length; s++)
        {
            var row = scores.Slice(s * labels, labels);
            for (var j = 0; j < labels; j++)
            {
                if (row[j] < threshold || (limit < labels && RankOf(row, j) >= limit))
                {
                    continue;
                }

                output.Add(new PredictedSpan(spans[s].Start, spans[s].End, labelNames[j], row[j]));
            }
        }
    }

    /// <summary>Where label <paramref name="j"/> falls when the row is sorted by descending score, ties keeping label order.</summary>
    private static int RankOf(ReadOnlySpan<float> row, int j)
    {
        var rank = 0;
        for (var k = 0; k < row.Length; k++)
        {
            if (row[k] > row[j] || (row[k] == row[j] && k < j))
            {
                rank++;
            }
        }

        return rank;
    }

    /// <summary>
    /// <c>_make_span_group_singlelabel</c>: each span's best label (the first on ties) when it reaches
    /// the threshold; without overlaps, spans are taken by descending score and any sharing a token
    /// with one already taken are dropped.
    /// </summary>
    private static void KeepSingleLabel(
        ReadOnlySpan<(int Start, int End)> spans, ReadOnlySpan<float> scores, IReadOnlyList<string> labelNames, float? threshold, bool allowOverlap, int documentLength, List<PredictedSpan> output)
    {
        var labels = labelNames.Count;
        var best = new int[spans.Length];
        var bestScores = new float[spans.Length];
        for (var s = 0; s < spans.Length; s++)
        {
            var row = scores.Slice(s * labels, labels);
            var argmax = 0;
            for (var j = 1; j < labels; j++)
            {
                if (row[j] > row[argmax])
                {
                    argmax = j;
                }
            }

            best[s] = argmax;
            bestScores[s] = row[argmax];
        }

        // numpy's argsort of -score when overlaps are not allowed; a stable order settles ties by
        // suggestion order.
        IEnumerable<int> order = Enumerable.Range(0, spans.Length);
        if (!allowOverlap)
        {
            order = order.OrderBy(i => -bestScores[i]).ToArray();
        }

        var taken = allowOverlap ? null : new bool[documentLength];
        foreach (var s in order)
        {
            if (threshold is { } minimum && bestScores[s] < minimum)
            {
                continue;
            }

            var (start, end) = spans[s];
            if (taken is not null)
            {
                if (taken.AsSpan(start, end - start).Contains(true))
                {
                    continue;
                }

                taken.AsSpan(start, end - start).Fill(true);
            }

            output.Add(new PredictedSpan(start, end, labelNames[best[s]], bestScores[s]));
        }
    }
}
