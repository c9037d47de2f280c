namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// A linear-chain CRF over BILUO tags whose invalid transitions (B then O, I of another label, ...)
/// are impossible: the score of a tag sequence is the sum of its tokens' tag scores and its
/// transitions' scores. Training maximises the probability of all sequences that agree with the
/// annotation, so tokens whose annotation is missing (binary NER data, partial annotation) are
/// summed over rather than taken as O.
/// </summary>
/// <remarks>
/// Forward-backward runs here, in doubles on the CPU: a sentence has tens of tokens and a few to a
/// few dozen tags, far too small for tensor kernels (one per token would be launched). The result is
/// the exact gradient: d loss / d score(t, k) = P(y_t = k) - P(y_t = k | annotation), and the same
/// difference of expected transition counts for the transition scores.
/// </remarks>
public static class BiluoCrf
{
    // Which tags may precede / follow each tag. BILUO allows few transitions (after B or I only I or L of
    // the same label), so walking these lists instead of all tag pairs makes a step about four times
    // cheaper with many labels (18 labels: 73 tags, 5,329 pairs, about 1,400 allowed).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, (int[][] Predecessors, int[][] Successors)> Structures = new();

    private static (int[][] Predecessors, int[][] Successors) Structure(int tags) => Structures.GetOrAdd(tags, count =>
    (
        [.. Enumerable.Range(0, count).Select(k => Enumerable.Range(0, count).Where(p => Biluo.Allowed(p, k)).ToArray())],
        [.. Enumerable.Range(0, count).Select(k => Enumerable.Range(0, count).Where(n => Biluo.Allowed(k, n)).ToArray())]));

    /// <summary>What one sentence contributes to the loss and its gradients.</summary>
    public sealed class Gradients(int tags)
    {
        public double Loss { get; set; }

        /// <summary>d loss / d transition score, [from * tags + to], summed over the sentences.</summary>
        public double[] Transitions { get; } = new double[tags * tags];
    }

    /// <summary>
    /// Adds one sentence's loss, -log P(annotation), and its gradients: the emission gradient into
    /// <paramref name="emissionGradient"/> (same layout as <paramref name="emissions"/>), the transition
    /// gradient and loss into <paramref name="gradients"/>. <paramref name="gold"/>: the tag of each
    /// token, or -1 where the annotation is missing. Returns false (and adds nothing) when no valid
    /// sequence agrees with the annotation.
    /// </summary>
    public static bool Accumulate(ReadOnlySpan<float> emissions, ReadOnlySpan<int> gold, int length, int tags, ReadOnlySpan<float> transitions, Span<float> emissionGradient, Gradients gradients, float scale)
    {
        if (Solve(emissions, gold, length, tags, transitions) is not { } solution)
        {
            return false;
        }

        solution.AddGradients(emissionGradient, gradients, scale);
        return true;
    }

    /// <summary>
    /// The forward-backward pass of one sentence, with and without its annotation: the costly part,
    /// safe to run for several sentences in parallel. Null when no valid sequence agrees with the annotation.
    /// </summary>
    public static Solution? Solve(ReadOnlySpan<float> emissions, ReadOnlySpan<int> gold, int length, int tags, ReadOnlySpan<float> transitions)
    {
        if (length == 0)
        {
            return null;
        }

        var free = Lattice.Run(emissions, null, length, tags, transitions);
        var constrained = Lattice.Run(emissions, gold, length, tags, transitions);
        return double.IsNegativeInfinity(constrained.LogZ) ? null : new Solution(free, constrained, length, tags);
    }

    /// <summary>A sentence's forward-backward results, ready to be turned into its loss and gradients.</summary>
    public sealed class Solution
    {
        private readonly Lattice _free;
        private readonly Lattice _constrained;
        private readonly int _length;
        private readonly int _tags;

        internal Solution(Lattice free, Lattice constrained, int length, int tags)
        {
            _free = free;
            _constrained = constrained;
            _length = length;
            _tags = tags;
        }

        /// <summary>Adds the loss and gradients (see <see cref="Accumulate"/>); call in a fixed order for reproducible sums.</summary>
        public void AddGradients(Span<float> emissionGradient, Gradients gradients, float scale)
        {
            gradients.Loss += scale * (_free.LogZ - _constrained.LogZ);
            for (var t = 0; t < _length; t++)
            {
                for (var k = 0; k < _tags; k++)
                {
                    emissionGradient[(t * _tags) + k] += (float)(scale * (_free.Marginal(t, k) - _constrained.Marginal(t, k)));
                }
            }

            _free.AddTransitionCounts(gradients.Transitions, scale);
            _constrained.AddTransitionCounts(gradients.Transitions, -scale);
        }
    }

    /// <summary>The best valid tag sequence (Viterbi), as (start, end, label index) entities.</summary>
    public static List<(int Start, int End, int Label)> Decode(ReadOnlySpan<float> emissions, int length, int tags, ReadOnlySpan<float> transitions)
    {
        var entities = new List<(int, int, int)>();
        if (length == 0)
        {
            return entities;
        }

        var predecessors = Structure(tags).Predecessors;
        var score = new double[length * tags];
        var back = new int[length * tags];
        for (var k = 0; k < tags; k++)
        {
            score[k] = Biluo.CanStart(k) ? emissions[k] : double.NegativeInfinity;
        }

        for (var t = 1; t < length; t++)
        {
            for (var k = 0; k < tags; k++)
            {
                var best = double.NegativeInfinity;
                var arg = 0;
                foreach (var p in predecessors[k])
                {
                    var previous = score[((t - 1) * tags) + p];
                    if (double.IsNegativeInfinity(previous))
                    {
                        continue;
                    }

                    var candidate = previous + transitions[(p * tags) + k];
                    if (candidate > best)
                    {
                        best = candidate;
                        arg = p;
                    }
                }

                score[(t * tags) + k] = best + emissions[(t * tags) + k];
                back[(t * tags) + k] = arg;
            }
        }

        var last = 0;
        var bestEnd = double.NegativeInfinity;
        for (var k = 0; k < tags; k++)
        {
            if (Biluo.CanEnd(k) && score[((length - 1) * tags) + k] > bestEnd)
            {
                bestEnd = score[((length - 1) * tags) + k];
                last = k;
            }
        }

        var path = new int[length];
        path[length - 1] = last;
        for (var t = length - 1; t > 0; t--)
        {
            path[t - 1] = back[(t * tags) + path[t]];
        }

        return Biluo.Entities(path);
    }

    /// <summary>
    /// Forward and backward scores of one sentence, optionally constrained to an annotation, in
    /// probability space rescaled at each token (Rabiner's scaling): one multiply-add per allowed tag
    /// pair instead of an exp and a log, with the per-token scales carrying the magnitude into LogZ.
    /// </summary>
    internal sealed class Lattice
    {
        private readonly double[] _alpha;
        private readonly double[] _beta;
        private readonly double[] _potential;
        private readonly double[] _scale;
        private readonly double[] _weight;
        private readonly int _length;
        private readonly int _tags;
        private double _endMass;

        private Lattice(int length, int tags)
        {
            _length = length;
            _tags = tags;
            _alpha = new double[length * tags];
            _beta = new double[length * tags];
            _potential = new double[length * tags];
            _scale = new double[length];
            _weight = new double[tags * tags];
        }

        public double LogZ { get; private set; }

        public static Lattice Run(ReadOnlySpan<float> emissions, ReadOnlySpan<int> gold, int length, int tags, ReadOnlySpan<float> transitions)
        {
            var lattice = new Lattice(length, tags);
            var (predecessors, successors) = Structure(tags);
            var alpha = lattice._alpha;
            var beta = lattice._beta;
            var potential = lattice._potential;
            var scale = lattice._scale;
            var constrained = !gold.IsEmpty;
            var logZ = 0.0;

            // exp(transition) of each allowed pair, [from * tags + to].
            var weight = lattice._weight;
            for (var k = 0; k < tags; k++)
            {
                foreach (var p in predecessors[k])
                {
                    weight[(p * tags) + k] = Math.Exp(transitions[(p * tags) + k]);
                }
            }

            // Each token's tag potentials exp(score - max), zero where the annotation rules a tag out.
            for (var t = 0; t < length; t++)
            {
                var max = double.NegativeInfinity;
                for (var k = 0; k < tags; k++)
                {
                    if (Open(gold, constrained, t, k))
                    {
                        max = Math.Max(max, emissions[(t * tags) + k]);
                    }
                }

                if (double.IsNegativeInfinity(max))
                {
                    lattice.LogZ = double.NegativeInfinity;
                    return lattice;
                }

                logZ += max;
                for (var k = 0; k < tags; k++)
                {
                    potential[(t * tags) + k] = Open(gold, constrained, t, k)
                        ? Math.Exp(emissions[(t * tags) + k] - max)
                        : 0;
                }
            }

            for (var t = 0; t < length; t++)
            {
                var sum = 0.0;
                for (var k = 0; k < tags; k++)
                {
                    var index = (t * tags) + k;
                    var value = 0.0;
                    if (potential[index] != 0)
                    {
                        if (t == 0)
                        {
                            value = 1;
                        }
                        else
                        {
                            foreach (var p in predecessors[k])
                            {
                                value += alpha[((t - 1) * tags) + p] * weight[(p * tags) + k];
                            }
                        }

                        value *= potential[index];
                    }

                    alpha[index] = value;
                    sum += value;
                }

                if (sum == 0)
                {
                    lattice.LogZ = double.NegativeInfinity;
                    return lattice;
                }

                scale[t] = sum;
                logZ += Math.Log(sum);
                for (var k = 0; k < tags; k++)
                {
                    alpha[(t * tags) + k] /= sum;
                }
            }

            var last = (length - 1) * tags;
            var endMass = 0.0;
            for (var k = 0; k < tags; k++)
            {
                beta[last + k] = Biluo.CanEnd(k) ? 1 : 0;
                endMass += alpha[last + k] * beta[last + k];
            }

            if (endMass == 0)
            {
                lattice.LogZ = double.NegativeInfinity;
                return lattice;
            }

            for (var t = length - 2; t >= 0; t--)
            {
                var nextScale = scale[t + 1];
                for (var k = 0; k < tags; k++)
                {
                    var value = 0.0;
                    foreach (var n in successors[k])
                    {
                        var next = ((t + 1) * tags) + n;
                        value += weight[(k * tags) + n] * potential[next] * beta[next];
                    }

                    beta[(t * tags) + k] = value / nextScale;
                }
            }

            lattice._endMass = endMass;
            lattice.LogZ = logZ + Math.Log(endMass);
            return lattice;
        }

        public double Marginal(int t, int k)
        {
            var index = (t * _tags) + k;
            return _alpha[index] * _beta[index] / _endMass;
        }

        public void AddTransitionCounts(double[] counts, double scale)
        {
            var successors = Structure(_tags).Successors;
            for (var t = 1; t < _length; t++)
            {
                var norm = scale / (_scale[t] * _endMass);
                for (var p = 0; p < _tags; p++)
                {
                    var from = _alpha[((t - 1) * _tags) + p];
                    if (from == 0)
                    {
                        continue;
                    }

                    foreach (var k in successors[p])
                    {
                        var index = (t * _tags) + k;
                        var ahead = _potential[index] * _beta[index];
                        if (ahead != 0)
                        {
                            counts[(p * _tags) + k] += norm * from * _weight[(p * _tags) + k] * ahead;
                        }
                    }
                }
            }
        }

        // Tag k may stand at token t: the annotation (if any) allows it there, and the first token starts a sequence.
        private static bool Open(ReadOnlySpan<int> gold, bool constrained, int t, int k) =>
            (!constrained || gold[t] < 0 || gold[t] == k) && (t > 0 || Biluo.CanStart(k));
    }
}
