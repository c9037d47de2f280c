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
        if (length == 0)
        {
            return false;
        }

        var free = Lattice.Run(emissions, null, length, tags, transitions);
        var constrained = Lattice.Run(emissions, gold, length, tags, transitions);
        if (double.IsNegativeInfinity(constrained.LogZ))
        {
            return false;
        }

        gradients.Loss += scale * (free.LogZ - constrained.LogZ);
        for (var t = 0; t < length; t++)
        {
            for (var k = 0; k < tags; k++)
            {
                emissionGradient[(t * tags) + k] += (float)(scale * (free.Marginal(t, k) - constrained.Marginal(t, k)));
            }
        }

        free.AddTransitionCounts(gradients.Transitions, scale, transitions, emissions);
        constrained.AddTransitionCounts(gradients.Transitions, -scale, transitions, emissions);
        return true;
    }

    /// <summary>The best valid tag sequence (Viterbi), as (start, end, label index) entities.</summary>
    public static List<(int Start, int End, int Label)> Decode(ReadOnlySpan<float> emissions, int length, int tags, ReadOnlySpan<float> transitions)
    {
        var entities = new List<(int, int, int)>();
        if (length == 0)
        {
            return entities;
        }

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
                for (var p = 0; p < tags; p++)
                {
                    var previous = score[((t - 1) * tags) + p];
                    if (double.IsNegativeInfinity(previous) || !Biluo.Allowed(p, k))
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

    /// <summary>Forward and backward log-scores of one sentence, optionally constrained to an annotation.</summary>
    private sealed class Lattice
    {
        private readonly double[] _alpha;
        private readonly double[] _beta;
        private readonly int _length;
        private readonly int _tags;

        private Lattice(int length, int tags)
        {
            _length = length;
            _tags = tags;
            _alpha = new double[length * tags];
            _beta = new double[length * tags];
        }

        public double LogZ { get; private set; }

        public static Lattice Run(ReadOnlySpan<float> emissions, ReadOnlySpan<int> gold, int length, int tags, ReadOnlySpan<float> transitions)
        {
            var lattice = new Lattice(length, tags);
            var alpha = lattice._alpha;
            var beta = lattice._beta;
            var constrained = !gold.IsEmpty;
            var terms = new double[tags];
            for (var k = 0; k < tags; k++)
            {
                alpha[k] = Biluo.CanStart(k) && Permitted(gold, constrained, 0, k) ? emissions[k] : double.NegativeInfinity;
            }

            for (var t = 1; t < length; t++)
            {
                for (var k = 0; k < tags; k++)
                {
                    if (!Permitted(gold, constrained, t, k))
                    {
                        alpha[(t * tags) + k] = double.NegativeInfinity;
                        continue;
                    }

                    for (var p = 0; p < tags; p++)
                    {
                        terms[p] = Biluo.Allowed(p, k) ? alpha[((t - 1) * tags) + p] + transitions[(p * tags) + k] : double.NegativeInfinity;
                    }

                    alpha[(t * tags) + k] = LogSumExp(terms) + emissions[(t * tags) + k];
                }
            }

            var last = (length - 1) * tags;
            for (var k = 0; k < tags; k++)
            {
                beta[last + k] = Biluo.CanEnd(k) ? 0 : double.NegativeInfinity;
            }

            for (var t = length - 2; t >= 0; t--)
            {
                for (var k = 0; k < tags; k++)
                {
                    for (var n = 0; n < tags; n++)
                    {
                        var next = ((t + 1) * tags) + n;
                        terms[n] = Biluo.Allowed(k, n) && !double.IsNegativeInfinity(alpha[next])
                            ? transitions[(k * tags) + n] + emissions[next] + beta[next]
                            : double.NegativeInfinity;
                    }

                    beta[(t * tags) + k] = LogSumExp(terms);
                }
            }

            for (var k = 0; k < tags; k++)
            {
                terms[k] = alpha[last + k] + beta[last + k];
            }

            lattice.LogZ = LogSumExp(terms);
            return lattice;
        }

        public double Marginal(int t, int k)
        {
            var index = (t * _tags) + k;
            var logP = _alpha[index] + _beta[index] - LogZ;
            return double.IsNegativeInfinity(logP) ? 0 : Math.Exp(logP);
        }

        public void AddTransitionCounts(double[] counts, double scale, ReadOnlySpan<float> transitions, ReadOnlySpan<float> emissions)
        {
            for (var t = 1; t < _length; t++)
            {
                for (var p = 0; p < _tags; p++)
                {
                    var from = _alpha[((t - 1) * _tags) + p];
                    if (double.IsNegativeInfinity(from))
                    {
                        continue;
                    }

                    for (var k = 0; k < _tags; k++)
                    {
                        var index = (t * _tags) + k;
                        // A tag the annotation rules out at t has no forward score: skip it.
                        if (!Biluo.Allowed(p, k) || double.IsNegativeInfinity(_alpha[index]) || double.IsNegativeInfinity(_beta[index]))
                        {
                            continue;
                        }

                        var logP = from + transitions[(p * _tags) + k] + emissions[index] + _beta[index] - LogZ;
                        counts[(p * _tags) + k] += scale * Math.Exp(logP);
                    }
                }
            }
        }

        private static bool Permitted(ReadOnlySpan<int> gold, bool constrained, int t, int k) => !constrained || gold[t] < 0 || gold[t] == k;

        private static double LogSumExp(double[] values)
        {
            var max = double.NegativeInfinity;
            foreach (var value in values)
            {
                max = Math.Max(max, value);
            }

            if (double.IsNegativeInfinity(max))
            {
                return max;
            }

            var sum = 0.0;
            foreach (var value in values)
            {
                sum += Math.Exp(value - max);
            }

            return max + Math.Log(sum);
        }
    }
}
