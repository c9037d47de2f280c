using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The NER head: each token, with its neighbours, through a maxout hidden layer to BILUO tag scores
/// (O, then B, I, L, U per label). Decoded by <see cref="Biluo.Decode"/> into valid entity sequences.
/// </summary>
public sealed class NerHead : nn.Module
{
    private readonly Maxout _hidden;
    private readonly Linear _output;

    public NerHead(int width, int hiddenWidth, int pieces, int labels) : base("ner")
    {
        _hidden = new Maxout("hidden", width * 3, hiddenWidth, pieces, normalize: true);
        _output = nn.Linear(hiddenWidth, Biluo.TagCount(labels));
        RegisterComponents();
    }

    /// <summary>[T, W] packed tokens → tag scores [T, tags].</summary>
    public Tensor Forward(Tensor tokens, TokenLayout layout)
    {
        using var scope = NewDisposeScope();
        return _output.forward(_hidden.forward(Window.Expand(tokens, 1, layout))).MoveToOuterDisposeScope();
    }
}

/// <summary>The BILUO tag scheme: tag 0 is O; label l has B = 1+4l, I = 2+4l, L = 3+4l, U = 4+4l.</summary>
public static class Biluo
{
    public const int Outside = 0;

    public static int TagCount(int labels) => 1 + (4 * labels);

    public static int Begin(int label) => 1 + (4 * label);

    public static int Inside(int label) => 2 + (4 * label);

    public static int Last(int label) => 3 + (4 * label);

    public static int Unit(int label) => 4 + (4 * label);

    /// <summary>The tag of token <paramref name="i"/> of an entity [start, end) of <paramref name="label"/>.</summary>
    public static int TagOf(int i, int start, int end, int label) =>
        end - start == 1 ? Unit(label) : i == start ? Begin(label) : i == end - 1 ? Last(label) : Inside(label);

    /// <summary>
    /// The best tag sequence that spells valid entities (Viterbi over log-probabilities with the
    /// BILUO transition rules), as (start, end, label index) triples.
    /// </summary>
    public static List<(int Start, int End, int Label)> Decode(float[] logProbs, int length, int tags)
    {
        var entities = new List<(int, int, int)>();
        if (length == 0)
        {
            return entities;
        }

        var score = new double[length, tags];
        var back = new int[length, tags];
        for (var t = 0; t < tags; t++)
        {
            score[0, t] = CanStart(t) ? logProbs[t] : double.NegativeInfinity;
        }

        for (var i = 1; i < length; i++)
        {
            for (var t = 0; t < tags; t++)
            {
                var best = double.NegativeInfinity;
                var arg = 0;
                for (var p = 0; p < tags; p++)
                {
                    if (double.IsNegativeInfinity(score[i - 1, p]) || !Allowed(p, t))
                    {
                        continue;
                    }

                    if (score[i - 1, p] > best)
                    {
                        best = score[i - 1, p];
                        arg = p;
                    }
                }

                score[i, t] = best + logProbs[(i * tags) + t];
                back[i, t] = arg;
            }
        }

        var last = 0;
        var bestEnd = double.NegativeInfinity;
        for (var t = 0; t < tags; t++)
        {
            if (CanEnd(t) && score[length - 1, t] > bestEnd)
            {
                bestEnd = score[length - 1, t];
                last = t;
            }
        }

        var path = new int[length];
        path[length - 1] = last;
        for (var i = length - 1; i > 0; i--)
        {
            path[i - 1] = back[i, path[i]];
        }

        var startOf = -1;
        for (var i = 0; i < length; i++)
        {
            var tag = path[i];
            if (tag == Outside)
            {
                continue;
            }

            var label = (tag - 1) / 4;
            switch ((tag - 1) % 4)
            {
                case 0:
                    startOf = i;
                    break;
                case 2:
                    entities.Add((startOf, i + 1, label));
                    break;
                case 3:
                    entities.Add((i, i + 1, label));
                    break;
            }
        }

        return entities;
    }

    private static bool CanStart(int tag) => tag == Outside || (tag - 1) % 4 is 0 or 3;

    private static bool CanEnd(int tag) => tag == Outside || (tag - 1) % 4 is 2 or 3;

    private static bool Allowed(int previous, int next)
    {
        if (CanEnd(previous))
        {
            return CanStart(next);
        }

        // After B or I of a label: I or L of the same label.
        var label = (previous - 1) / 4;
        return next == Inside(label) || next == Last(label);
    }
}
