using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The span categorizer: each suggested span as the mean and the max of its token vectors (spaCy's
/// mean_max_reducer), a hidden layer, and a logistic output per label (LinearLogistic).
/// </summary>
public sealed class SpancatHead : nn.Module
{
    private readonly Maxout _hidden;
    private readonly Linear _output;

    public SpancatHead(int width, int hidden, int labels) : base("spancat")
    {
        _hidden = new Maxout("hidden", width * 2, hidden, 3, normalize: true);
        _output = nn.Linear(hidden, labels);
        RegisterComponents();
    }

    /// <summary>[S, 2W] span vectors → probabilities [S, labels].</summary>
    public Tensor Forward(Tensor spans)
    {
        using var scope = NewDisposeScope();
        return _output.forward(_hidden.forward(spans)).sigmoid().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The mean and max of every n-gram of <paramref name="sizes"/> inside each doc: [S, 2W], with
    /// the (doc, start, end) of each row. <paramref name="tokens"/>: [T, W] packed tokens.
    /// </summary>
    public static (Tensor Vectors, List<(int Doc, int Start, int End)> Spans) Suggest(Tensor tokens, TokenLayout layout, IReadOnlyList<int> sizes)
    {
        using var scope = NewDisposeScope();
        var total = (int)tokens.shape[0];
        var width = tokens.shape[1];
        var parts = new List<Tensor>();
        var spans = new List<(int, int, int)>();
        // Sums of n consecutive rows from prefix sums; maxima grown one row at a time.
        var prefix = torch.cat([torch.zeros([1, width], dtype: tokens.dtype, device: tokens.device), tokens.cumsum(0)], 0);
        var runningMax = tokens;
        var maxSize = sizes.DefaultIfEmpty(0).Max();
        for (var n = 1; n <= maxSize && n <= total; n++)
        {
            if (n > 1)
            {
                var next = torch.cat([tokens[(n - 1).., ..], ScalarSafe.Full([n - 1, width], float.NegativeInfinity, tokens.device, tokens.dtype)], 0);
                runningMax = torch.maximum(runningMax, next);
            }

            if (!sizes.Contains(n))
            {
                continue;
            }

            var starts = new List<long>();
            for (var d = 0; d < layout.Docs; d++)
            {
                for (var start = 0; start + n <= layout.Lengths[d]; start++)
                {
                    starts.Add(layout.Starts[d] + start);
                    spans.Add((d, start, start + n));
                }
            }

            if (starts.Count == 0)
            {
                continue;
            }

            var index = torch.tensor(starts.ToArray(), device: tokens.device);
            var sum = prefix.index_select(0, index.Plus(n)).Minus(prefix.index_select(0, index));
            parts.Add(torch.cat([sum.DividedBy(n), runningMax.index_select(0, index)], 1));
        }

        var result = parts.Count == 0 ? torch.zeros([0, width * 2], device: tokens.device) : torch.cat(parts, 0);
        return (result.MoveToOuterDisposeScope(), spans);
    }
}
