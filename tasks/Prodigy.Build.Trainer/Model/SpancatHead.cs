using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The span categorizer: each suggested span as the mean and the max of its token vectors (spaCy's
/// mean_max_reducer), a hidden layer, and a logistic output per label (LinearLogistic).
/// </summary>
public sealed class SpancatHead : nn.Module<Tensor, Tensor>
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
    public override Tensor forward(Tensor spans)
    {
        using var scope = NewDisposeScope();
        return _output.forward(_hidden.forward(spans)).sigmoid().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The mean and max of every n-gram of <paramref name="sizes"/> inside each doc: [S, 2W], with
    /// the (doc, start, end) of each row.
    /// </summary>
    public static (Tensor Vectors, List<(int Doc, int Start, int End)> Spans) Suggest(Tensor tokens, IReadOnlyList<int> lengths, IReadOnlyList<int> sizes)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        var spans = new List<(int, int, int)>();
        var maxLength = (int)tokens.shape[1];
        foreach (var n in sizes)
        {
            if (n > maxLength || n <= 0)
            {
                continue;
            }

            // [B, L-n+1, W, n]
            var windows = tokens.unfold(1, n, 1);
            var vectors = torch.cat([windows.mean([-1]), windows.max(-1).values], -1);
            var flat = vectors.reshape(-1, vectors.shape[2]);
            var positions = maxLength - n + 1;
            var index = new List<long>();
            for (var b = 0; b < lengths.Count; b++)
            {
                for (var start = 0; start + n <= lengths[b]; start++)
                {
                    index.Add(((long)b * positions) + start);
                    spans.Add((b, start, start + n));
                }
            }

            if (index.Count > 0)
            {
                parts.Add(flat.index_select(0, torch.tensor(index.ToArray(), device: tokens.device)));
            }
        }

        var result = parts.Count == 0 ? torch.zeros([0, tokens.shape[2] * 2], device: tokens.device) : torch.cat(parts, 0);
        return (result.MoveToOuterDisposeScope(), spans);
    }
}
