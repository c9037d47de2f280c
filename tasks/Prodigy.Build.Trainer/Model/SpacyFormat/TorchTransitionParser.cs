using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Trainer.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// Trains <c>spacy.TransitionBasedParser.v2</c> for <c>ner</c> as spaCy's <c>Parser.update</c> does.
/// In torch: the tok2vec output projected to the hidden width and the lower layer precomputed for
/// every token and feature slot. Then, as spaCy does (on a GPU too, it copies the precomputed table to
/// the host once per batch), the states advance on the host: each step sums the states' feature rows
/// (the learned pad where a feature is missing), takes the max piece, applies the hidden dropout and
/// the upper layer, asks the oracle the cost of every valid move, takes spaCy's gradient (softmax over
/// the moves minus softmax over the zero-cost ones; classes never gold yet are masked), and follows
/// the model's own best move. The gradients of the table and the small layers go back as one
/// surrogate whose torch gradient equals them. Long documents are cut into pieces of a random number
/// of moves around <c>update_with_oracle_cut_size</c>, started from the oracle's states.
/// </summary>
public sealed class TorchTransitionParser
{
    private readonly ThincParameters _parameters;
    private readonly BiluoTransitionSystem _moves;
    private readonly bool[] _unseen;
    private readonly int _features;
    private readonly int _hidden;
    private readonly int _pieces;
    private readonly int _classes;
    private readonly bool _hasUpper;
    private readonly NumpyRandom _numpy;

    /// <summary>
    /// The parser over <paramref name="parameters"/> (initialized as spaCy does, <see cref="ThincInitialization"/>);
    /// its hidden dropout masks draw from <paramref name="numpy"/>, numpy's global generator.
    /// </summary>
    public TorchTransitionParser(ThincParameters parameters, int cutSize, bool useNegatives, NumpyRandom numpy, int firstUnseenClass = int.MaxValue)
    {
        _parameters = parameters;
        _numpy = numpy;
        _moves = new BiluoTransitionSystem(parameters.Plan.Moves);
        var lower = parameters["lower.W"];
        _features = (int)lower.shape[0];
        _hidden = (int)lower.shape[1];
        _pieces = (int)lower.shape[2];
        _hasUpper = parameters.Has("upper.W");
        _classes = _hasUpper ? (int)parameters["upper.b"].shape[0] : _hidden;
        // spaCy starts with no unseen classes; only classes added to a trained model (resize_output) are.
        _unseen = Enumerable.Range(0, _classes).Select(c => c >= firstUnseenClass).ToArray();
        CutSize = cutSize;
        UseNegatives = useNegatives;
    }

    /// <summary>ParserStepModel's dropout rate on the hidden layer in training (spaCy's default, which no setting reaches).</summary>
    public const double HiddenDropout = 0.1;

    public int CutSize { get; }

    /// <summary>Whether the rejected entities of the examples (<c>incorrect_spans_key</c>) add cost.</summary>
    public bool UseNegatives { get; }

    /// <summary>The classes the oracle has not yet called gold; their scores are masked (spaCy's unseen_classes).</summary>
    public int UnseenClassCount => _unseen.Count(u => u);

    /// <summary>Whether the batch has a document this component learns from (<see cref="Update"/> returns null without one).</summary>
    public bool HasGoldIn(IReadOnlyList<TrainingDoc> batch) => batch.Any(LearnsFrom);

    private bool LearnsFrom(TrainingDoc doc) => doc.Length > 0 && doc.Cached(this, () => Gold(doc.Example)).HasGold(0, doc.Length);

    /// <summary>Whether <paramref name="example"/> has any annotation for this component.</summary>
    public bool HasGold(Example example) => Gold(example).HasGold(0, example.Length);

    /// <summary>
    /// The surrogate to backpropagate and spaCy's loss value (sum of squared score gradients); null
    /// without gold. <paramref name="encode"/> gives the token vectors of the documents with gold only
    /// (packed as the layout says): the others get no gradient in spaCy either, and a batch can hold a
    /// document of thousands of tokens annotated for another component alone.
    /// </summary>
    public (Tensor Surrogate, double Loss)? Update(IReadOnlyList<TrainingDoc> batch, Func<IReadOnlyList<TrainingDoc>, BatchLayout, Tensor> encode, bool train, PythonRandom python)
    {
        var docs = batch.Where(LearnsFrom).ToList();
        if (docs.Count == 0)
        {
            return null;
        }

        // Parser.update, once it has an example with gold: max_moves = int(random.uniform(cut // 2, cut * 2)).
        var maxMoves = CutSize >= 1 ? (int)python.Uniform(CutSize / 2, CutSize * 2) : 0;

        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        var states = new List<(BiluoState State, BiluoGold Gold)>();
        for (var d = 0; d < docs.Count; d++)
        {
            var example = docs[d].Example;
            var gold = docs[d].Cached(this, () => Gold(example));
            var start = _moves.Start(docs[d].Doc, layout.Starts[d]);
            if (maxMoves < 1 || example.Length < maxMoves)
            {
                states.Add((start, gold));
                continue;
            }

            // _init_gold_batch: the oracle's path through the document, cut every maxMoves moves.
            var oracle = OracleSequence(start.Clone(), gold);
            var state = start;
            for (var i = 0; i < oracle.Count; i += maxMoves)
            {
                var pieceStart = state.Clone();
                for (var j = i; j < Math.Min(i + maxMoves, oracle.Count) && !_moves.IsFinal(state); j++)
                {
                    _moves.Apply(state, oracle[j]);
                }

                if (gold.HasGold(pieceStart.Next, state.Next))
                {
                    states.Add((pieceStart, gold));
                }

                if (_moves.IsFinal(state))
                {
                    break;
                }
            }
        }

        if (states.Count == 0)
        {
            return null;
        }

        var tokvecs = encode(docs, layout);
        var device = tokvecs.device;
        var projection = _parameters["projection.W"];
        var lowerW = _parameters["lower.W"];
        var width = _hidden * _pieces;
        var perToken = _features * width;
        var projected = torch.nn.functional.linear(tokvecs, projection, _parameters["projection.b"]);
        var table = torch.nn.functional.linear(projected, lowerW.view(perToken, lowerW.shape[3]));
        float[] Host(Tensor t)
        {
            using var cpu = t.detach().cpu().contiguous();
            return cpu.data<float>().ToArray();
        }

        // The table (one row of feature slots per token) is read where it lies on the CPU, copied to the
        // host once on a GPU, and its gradient is written into a tensor: a managed copy of each was two
        // large arrays of garbage per step.
        using var hostTable = table.detach().cpu().contiguous();
        using var hostDTable = torch.zeros(table.shape, ScalarType.Float32);
        ReadOnlySpan<float> precomputed = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(hostTable.bytes);
        var dTable = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(hostDTable.bytes);
        var pad = Host(_parameters["lower.pad"]);
        var bias = Host(_parameters["lower.b"]);
        var upperW = _hasUpper ? Host(_parameters["upper.W"]) : [];
        var upperB = _hasUpper ? Host(_parameters["upper.b"]) : [];

        var dPad = new float[pad.Length];
        var dBias = new float[bias.Length];
        var dUpperW = new float[upperW.Length];
        var dUpperB = new float[upperB.Length];
        var classMask = _unseen.Select(u => u ? 0f : 1f).ToArray();
        var anyUnseen = _unseen.Any(u => u);
        var loss = 0.0;
        var objective = 0.0;
        var rows = new int[_features];
        var costs = new float[_classes];
        var valid = new bool[_classes];
        var nMoves = 0;
        while (states.Count > 0)
        {
            var n = states.Count;
            var tokens = new int[n * _features];
            var z = new float[n * width];
            for (var s = 0; s < n; s++)
            {
                _moves.ContextTokens(states[s].State, rows);
                rows.CopyTo(tokens.AsSpan(s * _features));
                var sum = z.AsSpan(s * width, width);
                bias.CopyTo(sum);
                for (var f = 0; f < _features; f++)
                {
                    var feature = rows[f] < 0 ? pad.AsSpan(f * width, width) : precomputed.Slice((rows[f] * perToken) + (f * width), width);
                    System.Numerics.Tensors.TensorPrimitives.Add(sum, feature, sum);
                }
            }

            // Maxout over pieces, remembering the winner; then the hidden dropout of ParserStepModel, whose
            // rate is its own 0.1 whatever the training's dropout (step_forward: get_dropout_mask(shape, 0.1)).
            var hidden = new float[n * _hidden];
            var winner = new int[n * _hidden];
            float[]? mask = null;
            if (train)
            {
                mask = new float[n * _hidden];
                _numpy.FillDropoutMask(mask, HiddenDropout);
            }

            for (var i = 0; i < n * _hidden; i++)
            {
                var best = 0;
                for (var p = 1; p < _pieces; p++)
                {
                    if (z[(i * _pieces) + p] > z[(i * _pieces) + best])
                    {
                        best = p;
                    }
                }

                winner[i] = best;
                hidden[i] = z[(i * _pieces) + best];
                if (mask is not null)
                {
                    hidden[i] *= mask[i];
                }
            }

            var scores = new float[n * _classes];
            if (_hasUpper)
            {
                Core.Pipelines.Ops.Affine(hidden, n, _hidden, upperW, _classes, upperB, scores);
            }
            else
            {
                hidden.CopyTo(scores, 0);
            }

            if (anyUnseen)
            {
                var min = scores.Min();
                for (var s = 0; s < n; s++)
                {
                    for (var c = 0; c < _classes; c++)
                    {
                        if (classMask[c] == 0)
                        {
                            scores[(s * _classes) + c] = min;
                        }
                    }
                }
            }

            var dScores = new float[n * _classes];
            for (var s = 0; s < n; s++)
            {
                var (state, gold) = states[s];
                for (var c = 0; c < _classes; c++)
                {
                    valid[c] = _moves.IsValid(state, c);
                    costs[c] = valid[c] ? _moves.Cost(state, gold, c) : 9000;
                    if (costs[c] <= 0)
                    {
                        _unseen[c] = false;
                    }
                }

                objective += LogLoss(scores.AsSpan(s * _classes, _classes), costs, valid, dScores.AsSpan(s * _classes, _classes));
            }

            for (var i = 0; i < dScores.Length; i++)
            {
                dScores[i] *= classMask[i % _classes];
                loss += dScores[i] * dScores[i];
            }

            // Back through the upper layer, the dropout and the max, into the precomputed rows.
            var dHidden = new float[n * _hidden];
            if (_hasUpper)
            {
                for (var s = 0; s < n; s++)
                {
                    var d = dScores.AsSpan(s * _classes, _classes);
                    var h = hidden.AsSpan(s * _hidden, _hidden);
                    var dh = dHidden.AsSpan(s * _hidden, _hidden);
                    for (var c = 0; c < _classes; c++)
                    {
                        if (d[c] == 0)
                        {
                            continue;
                        }

                        dUpperB[c] += d[c];
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(h, d[c], dUpperW.AsSpan(c * _hidden, _hidden), dUpperW.AsSpan(c * _hidden, _hidden));
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(upperW.AsSpan(c * _hidden, _hidden), d[c], dh, dh);
                    }
                }
            }
            else
            {
                dScores.CopyTo(dHidden, 0);
            }

            var dz = new float[width];
            for (var s = 0; s < n; s++)
            {
                Array.Clear(dz);
                for (var o = 0; o < _hidden; o++)
                {
                    var i = (s * _hidden) + o;
                    dz[(o * _pieces) + winner[i]] = mask is null ? dHidden[i] : dHidden[i] * mask[i];
                }

                System.Numerics.Tensors.TensorPrimitives.Add(dBias, dz, dBias);
                for (var f = 0; f < _features; f++)
                {
                    var token = tokens[(s * _features) + f];
                    var target = token < 0 ? dPad.AsSpan(f * width, width) : dTable.Slice((token * perToken) + (f * width), width);
                    System.Numerics.Tensors.TensorPrimitives.Add(target, dz, target);
                }
            }

            // Follow the model's own best valid move.
            var next = new List<(BiluoState, BiluoGold)>(n);
            for (var s = 0; s < n; s++)
            {
                var state = states[s].State;
                var row = scores.AsSpan(s * _classes, _classes);
                var best = -1;
                for (var c = 0; c < _classes; c++)
                {
                    if (_moves.IsValid(state, c) && (best == -1 || row[c] > row[best]))
                    {
                        best = c;
                    }
                }

                if (best < 0)
                {
                    continue;
                }

                _moves.Apply(state, best);
                if (!_moves.IsFinal(state))
                {
                    next.Add(states[s]);
                }
            }

            states = next;
            if (maxMoves >= 1 && nMoves >= maxMoves)
            {
                break;
            }

            nMoves++;
        }

        using var deviceDTable = hostDTable.to(device);
        var surrogate = (table * deviceDTable).sum()
            .Plus((_parameters["lower.pad"] * torch.tensor(dPad, _parameters["lower.pad"].shape, device: device)).sum())
            .Plus((_parameters["lower.b"] * torch.tensor(dBias, _parameters["lower.b"].shape, device: device)).sum());
        if (_hasUpper)
        {
            surrogate = surrogate
                .Plus((_parameters["upper.W"] * torch.tensor(dUpperW, _parameters["upper.W"].shape, device: device)).sum())
                .Plus((_parameters["upper.b"] * torch.tensor(dUpperB, _parameters["upper.b"].shape, device: device)).sum());
        }

        LastObjective = objective;
        return (surrogate, loss);
    }

    /// <summary>The last update's log-loss objective (summed over states and steps), whose gradient the surrogate carries.</summary>
    internal double LastObjective { get; private set; }

    /// <summary>
    /// spaCy's cpu_log_loss: with <c>best</c> the highest-scoring valid class of least cost, each class
    /// gets its softmax probability, minus its probability among the classes no costlier than best.
    /// Returns the objective whose gradient that is (for checking the backward pass).
    /// </summary>
    internal static double LogLoss(ReadOnlySpan<float> scores, ReadOnlySpan<float> costs, ReadOnlySpan<bool> valid, Span<float> dScores)
    {
        var cost = 1f;
        for (var i = 0; i < scores.Length; i++)
        {
            if (valid[i] && costs[i] < cost)
            {
                cost = costs[i];
            }
        }

        var best = -1;
        var guess = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (costs[i] <= cost && valid[i] && (best == -1 || scores[i] > scores[best]))
            {
                best = i;
            }

            if (scores[i] > scores[guess])
            {
                guess = i;
            }
        }

        if (best == -1 || scores.Length == 0)
        {
            return 0;
        }

        double z = 1e-10, goldZ = 1e-10;
        double max = scores[guess], goldMax = scores[best];
        for (var i = 0; i < scores.Length; i++)
        {
            z += Math.Exp(scores[i] - max);
            if (costs[i] <= costs[best])
            {
                goldZ += Math.Exp(scores[i] - goldMax);
            }
        }

        for (var i = 0; i < scores.Length; i++)
        {
            var probability = Math.Exp(scores[i] - max) / z;
            dScores[i] = (float)(costs[i] <= costs[best] ? probability - (Math.Exp(scores[i] - goldMax) / goldZ) : probability);
        }

        // The objective this is the gradient of: -log of the probability of the zero-cost classes.
        return (max + Math.Log(z)) - (goldMax + Math.Log(goldZ));
    }

    /// <summary>The oracle's moves from a state: at each step the first valid class that costs nothing.</summary>
    internal List<int> OracleSequence(BiluoState state, BiluoGold gold)
    {
        var history = new List<int>();
        while (!_moves.IsFinal(state))
        {
            var chosen = -1;
            for (var c = 0; c < _classes && chosen < 0; c++)
            {
                if (_moves.IsValid(state, c) && _moves.Cost(state, gold, c) <= 0)
                {
                    chosen = c;
                }
            }

            if (chosen < 0)
            {
                break;
            }

            history.Add(chosen);
            _moves.Apply(state, chosen);
        }

        return history;
    }

    /// <summary>
    /// The gold moves of each token (Example.get_aligned_ner): B/I/L/U-label inside entities, O where the
    /// annotation says outside (and on whitespace tokens it leaves missing), missing elsewhere; all missing
    /// for a document without entity annotation.
    /// </summary>
    internal BiluoGold Gold(Example example)
    {
        var moves = new int[example.Length];
        var labels = Enumerable.Repeat("", example.Length).ToArray();
        if (example.Entities is { } entities)
        {
            for (var t = 0; t < example.Length; t++)
            {
                moves[t] = example.EntityMissing![t] ? BiluoTransitionSystem.Missing : BiluoTransitionSystem.Out;
            }

            foreach (var entity in entities)
            {
                for (var t = entity.Start; t < entity.End; t++)
                {
                    moves[t] = entity.End - entity.Start == 1 ? BiluoTransitionSystem.Unit
                        : t == entity.Start ? BiluoTransitionSystem.Begin
                        : t == entity.End - 1 ? BiluoTransitionSystem.Last
                        : BiluoTransitionSystem.In;
                    labels[t] = entity.Label;
                }
            }

            // Only a document with entity annotation: one without any (a textcat example) has no gold at all.
            for (var t = 0; t < example.Length; t++)
            {
                if (moves[t] == BiluoTransitionSystem.Missing && example.Words[t].Length > 0 && example.Words[t].All(Core.Text.PythonText.IsSpace))
                {
                    moves[t] = BiluoTransitionSystem.Out;
                }
            }
        }

        var negatives = UseNegatives
            ? example.IncorrectEntities.Where(e => e.End <= example.Length).Select(e => (e.Start, e.End, e.Label)).ToList()
            : [];
        return new BiluoGold(moves, labels, negatives);
    }
}
