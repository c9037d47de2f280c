using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The NER head: each token, with its neighbours, through a maxout hidden layer to BILUO tag scores
/// (O, then B, I, L, U per label), and a score for each transition between tags: a linear-chain CRF
/// (<see cref="BiluoCrf"/>) that is trained on whole tag sequences and decodes valid entities.
/// </summary>
public sealed class NerHead : nn.Module
{
    private readonly Maxout _hidden;
    private readonly Linear _output;
    private readonly Parameter _transitions;

    public NerHead(int width, int hiddenWidth, int pieces, int labels) : base("ner")
    {
        _hidden = new Maxout("hidden", width * 3, hiddenWidth, pieces, normalize: true);
        _output = nn.Linear(hiddenWidth, Biluo.TagCount(labels));
        _transitions = nn.Parameter(torch.zeros(Biluo.TagCount(labels), Biluo.TagCount(labels)));
        RegisterComponents();
    }

    /// <summary>Scores of tag transitions, [from, to].</summary>
    public Parameter Transitions => _transitions;

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

    /// <summary>The entities a valid tag path spells, as (start, end, label index) triples.</summary>
    public static List<(int Start, int End, int Label)> Entities(int[] path)
    {
        var entities = new List<(int, int, int)>();
        var startOf = -1;
        for (var i = 0; i < path.Length; i++)
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

    public static bool CanStart(int tag) => tag == Outside || (tag - 1) % 4 is 0 or 3;

    public static bool CanEnd(int tag) => tag == Outside || (tag - 1) % 4 is 2 or 3;

    public static bool Allowed(int previous, int next)
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
