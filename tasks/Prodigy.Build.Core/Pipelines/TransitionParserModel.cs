using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// <c>spacy.TransitionBasedParser.v2</c> run as spaCy's greedy parser does: the tok2vec output
/// projected to the hidden width (<c>linear</c>); the lower layer (<c>precomputable_affine</c>)
/// computed once per token for each of its nF feature slots; then, step by step for every unfinished
/// state of the batch, the state's feature tokens summed (a learned <c>pad</c> row where a feature is
/// missing), the bias added, the max over pieces, the upper layer's class scores (unless
/// <c>use_upper = false</c>), and the best valid class applied.
/// </summary>
internal sealed class TransitionParserModel
{
    private readonly ThincLayer _projection;
    private readonly ThincLayer _lower;
    private readonly ThincLayer? _upper;
    private readonly Tok2VecInput _input;
    private readonly int _tokenWidth;
    private float[] _projectionW = [];
    private float[] _projectionB = [];
    private DenseWeights _projectionDense = null!;
    private DenseWeights _precompute = null!;
    private float[] _lowerW = [];
    private float[] _lowerB = [];
    private float[] _pad = [];
    private float[] _upperW = [];
    private float[] _upperB = [];
    private int _features;
    private int _hidden;
    private int _pieces;
    private int _classes;

    private TransitionParserModel(ThincLayer tree, ThincLayer projection, ThincLayer lower, ThincLayer? upper, Tok2VecInput input)
    {
        Tree = tree;
        _projection = projection;
        _lower = lower;
        _upper = upper;
        _input = input;
        _tokenWidth = input.Width;
    }

    public ThincLayer Tree { get; }

    /// <summary>Builds the tree of the parser model at <paramref name="section"/> (state_type ner).</summary>
    public static TransitionParserModel Build(ComponentContext context, string section, int classCount, int featureCount)
    {
        if (context.Architecture(section) != "spacy.TransitionBasedParser.v2")
        {
            throw context.Unsupported(section);
        }

        var config = context.Config;
        var stateType = config.String(section, "state_type") ?? "parser";
        if (stateType != "ner")
        {
            throw context.Error("PRD2424", $"[{section}] state_type = \"{stateType}\": Prodigy.Build.Sdk runs the entity recognizer's transition system (\"ner\"), not the dependency parser's yet");
        }

        if (config.Bool(section, "extra_state_tokens", false))
        {
            throw context.Error("PRD2424", $"[{section}] extra_state_tokens = true is not supported (the six-token NER state); use false, spaCy's default");
        }

        var input = Tok2VecInput.Create(context, $"{section}.tok2vec");
        // build_tb_parser_model: tok2vec >> list2array >> Linear(hidden_width), PrecomputableAffine over
        // the state's nF tokens, and the upper Linear to the classes (unless use_upper = false, when the
        // lower layer scores the classes itself).
        var hidden = config.Int(section, "hidden_width", 64);
        var pieces = config.Int(section, "maxout_pieces", 2);
        var useUpper = config.Bool(section, "use_upper", true);
        var projection = ThincLayer.Leaf("linear", "W", "b").WithDims(("nO", hidden), ("nI", input.Width));
        var tok2vec = ThincLayer.Chain(input.Layer, ThincLayer.Leaf("list2array"), projection).WithDims(("nO", hidden));
        var lower = ThincLayer.Leaf("precomputable_affine", "W", "b", "pad")
            .WithDims(("nO", useUpper ? hidden : classCount), ("nI", hidden), ("nF", featureCount), ("nP", pieces))
            .WithAttrs(("dropout_rate", 0.0));
        var upper = useUpper ? ThincLayer.Leaf("linear", "W", "b").WithDims(("nO", classCount), ("nI", hidden)) : null;
        var tree = new ThincLayer("parser_model", upper is null ? [tok2vec, lower] : [tok2vec, lower, upper])
            .WithDims(("nI", null))
            .WithRefs(("tok2vec", tok2vec), ("lower", lower), ("upper", upper))
            .WithAttrs(("has_upper", useUpper));
        return new TransitionParserModel(tree, projection, lower, upper, input);
    }

    /// <summary>The tok2vec this model reads (a listener or inline).</summary>
    internal Tok2VecInput Input => _input;

    /// <summary>
    /// The params: <c>projection.W/b</c> (tok2vec width to hidden), <c>lower.W</c> (nF x nO x nP x nI),
    /// <c>lower.b</c>, <c>lower.pad</c>, <c>upper.W/b</c> (classes x hidden), and an inline tok2vec's.
    /// </summary>
    internal void CollectParameters(List<ModelParameter> into)
    {
        _input.CollectParameters(into);
        var hidden = ModelParameter.DimOf(_projection, "nO");
        into.Add(new("projection.W", _projection, "W", [hidden, ModelParameter.DimOf(_projection, "nI")]));
        into.Add(new("projection.b", _projection, "b", [hidden]));
        var nF = ModelParameter.DimOf(_lower, "nF");
        var nO = ModelParameter.DimOf(_lower, "nO");
        var nP = ModelParameter.DimOf(_lower, "nP");
        var nI = ModelParameter.DimOf(_lower, "nI");
        into.Add(new("lower.W", _lower, "W", [nF, nO, nP, nI]));
        into.Add(new("lower.b", _lower, "b", [nO, nP]));
        into.Add(new("lower.pad", _lower, "pad", [1, nF, nO, nP]));
        if (_upper is not null)
        {
            var classes = ModelParameter.DimOf(_upper, "nO");
            into.Add(new("upper.W", _upper, "W", [classes, ModelParameter.DimOf(_upper, "nI")]));
            into.Add(new("upper.b", _upper, "b", [classes]));
        }
    }

    /// <summary>Reads the weights out of the bound tree and checks them against each other and the moves.</summary>
    public void LoadWeights(string modelPath, int classCount, int featureCount)
    {
        _input.LoadWeights(modelPath);
        _projectionW = _projection.Floats("W");
        _projectionB = _projection.Floats("b");
        _lowerW = _lower.Floats("W");
        _lowerB = _lower.Floats("b");
        _pad = _lower.Floats("pad");
        _features = _lower.Dim("nF");
        _hidden = _lower.Dim("nO");
        _pieces = _lower.Dim("nP");
        var lowerInputs = _lower.Dim("nI");
        if (_projectionW.Length != lowerInputs * _tokenWidth || _projectionB.Length != lowerInputs
            || _lowerW.Length != _features * _hidden * _pieces * lowerInputs || _lowerB.Length != _hidden * _pieces || _pad.Length != _features * _hidden * _pieces)
        {
            throw new SpacyPipelineException("PRD2426", $"the parser model's layers do not fit together (tok2vec width {_tokenWidth}, hidden input {lowerInputs}, lower {_features} x {_hidden} x {_pieces})", modelPath);
        }

        _projectionDense = DenseWeights.From(_projectionW, lowerInputs, _tokenWidth, _projectionB);
        _precompute = DenseWeights.From(_lowerW, _features * _hidden * _pieces, lowerInputs, []);
        if (_features != featureCount)
        {
            throw new SpacyPipelineException("PRD2426", $"the lower layer reads {_features} tokens per state, the transition system gives {featureCount}", modelPath);
        }

        if (_upper is not null)
        {
            _upperW = _upper.Floats("W");
            _upperB = _upper.Floats("b");
            _classes = _upperB.Length;
            if (_upperW.Length != _classes * _hidden)
            {
                throw new SpacyPipelineException("PRD2426", $"the upper layer is {_upperW.Length / Math.Max(1, _hidden)} x {_hidden}, expected {_classes} x {_hidden}", modelPath);
            }
        }
        else
        {
            _classes = _hidden;
        }

        if (_classes != classCount)
        {
            throw new SpacyPipelineException("PRD2427", $"the model scores {_classes} classes, but the moves file has {classCount}; the model and moves files must come from the same pipeline", modelPath);
        }
    }

    /// <summary>Parses a batch greedily, as spaCy's <c>greedy_parse</c>: all states advance one step at a time.</summary>
    public void Parse<TState>(ITransitionSystem<TState> system, IReadOnlyList<PipelineDoc> docs)
    {
        var total = docs.Sum(d => d.Length);
        var inputs = _lower.Dim("nI");
        var perToken = _features * _hidden * _pieces;

        // Per token and feature slot: the lower layer's pieces, without bias (precompute).
        var projected = new float[total * inputs];
        var states = new List<TState>(docs.Count);
        var all = new List<TState>(docs.Count);
        var offset = 0;
        var scratch = new Tok2VecScratch();
        foreach (var doc in docs)
        {
            if (doc.Length > 0)
            {
                var tokens = _input.Vectors(doc, scratch);
                _projectionDense.Multiply(tokens, doc.Length, projected.AsSpan(offset * inputs, doc.Length * inputs));
            }

            var state = system.Start(doc, offset);
            all.Add(state);
            if (!system.IsFinal(state))
            {
                states.Add(state);
            }

            offset += doc.Length;
        }

        var precomputed = new float[total * perToken];
        _precompute.Multiply(projected, total, precomputed);

        // Documents without tokens have a final state from the start; they still get their (empty) annotations.
        var width = _hidden * _pieces;
        var rows = new int[_features];
        var unmaxed = new float[states.Count * width];
        var hidden = new float[states.Count * _hidden];
        var scores = new float[states.Count * _classes];
        while (states.Count > 0)
        {
            var n = states.Count;
            var z = unmaxed.AsSpan(0, n * width);
            z.Clear();
            for (var s = 0; s < n; s++)
            {
                system.ContextTokens(states[s], rows);
                var sum = z.Slice(s * width, width);
                for (var f = 0; f < _features; f++)
                {
                    var feature = rows[f] < 0
                        ? _pad.AsSpan(f * width, width)
                        : precomputed.AsSpan((rows[f] * perToken) + (f * width), width);
                    System.Numerics.Tensors.TensorPrimitives.Add(sum, feature, sum);
                }

                System.Numerics.Tensors.TensorPrimitives.Add(sum, _lowerB, sum);
            }

            Ops.MaxPieces(z, n, _hidden, _pieces, hidden);

            // spaCy would give classes it never saw in training the lowest score here; a loaded model
            // has none (the set is not saved), so every class competes.
            var classScores = scores.AsSpan(0, n * _classes);
            if (_upper is not null)
            {
                Ops.Affine(hidden.AsSpan(0, n * _hidden), n, _hidden, _upperW, _classes, _upperB, classScores);
            }
            else
            {
                hidden.AsSpan(0, n * _classes).CopyTo(classScores);
            }

            var next = new List<TState>(n);
            for (var s = 0; s < n; s++)
            {
                // spaCy's arg_max_if_valid: the first of the highest-scoring valid classes.
                var best = -1;
                var row = classScores.Slice(s * _classes, _classes);
                for (var c = 0; c < _classes; c++)
                {
                    if (system.IsValid(states[s], c) && (best == -1 || row[c] > row[best]))
                    {
                        best = c;
                    }
                }

                if (best >= 0)
                {
                    system.Apply(states[s], best);
                    if (!system.IsFinal(states[s]))
                    {
                        next.Add(states[s]);
                    }
                }
            }

            states = next;
        }

        foreach (var state in all)
        {
            system.SetAnnotations(state);
        }
    }
}
