using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// A maxout layer (thinc's Maxout): <c>pieces</c> linear maps, the largest per output unit; with
/// layer normalization, as spaCy's encoder uses it.
/// </summary>
public sealed class Maxout : nn.Module<Tensor, Tensor>
{
    private readonly Linear _linear;
    private readonly LayerNorm? _norm;
    private readonly int _outputs;
    private readonly int _pieces;

    public Maxout(string name, int inputs, int outputs, int pieces, bool normalize) : base(name)
    {
        _outputs = outputs;
        _pieces = pieces;
        _linear = nn.Linear(inputs, (long)outputs * pieces);
        _norm = normalize ? nn.LayerNorm([outputs]) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var shape = input.shape;
        var pieces = _linear.forward(input).view([.. shape[..^1], _outputs, _pieces]);
        var max = pieces.max(-1).values;
        var output = _norm is null ? max : _norm.forward(max);
        return output.MoveToOuterDisposeScope();
    }
}

/// <summary>Neighbour features: each token gets its own vector and those of <c>window</c> neighbours on each side (zeros beyond its doc).</summary>
public static class Window
{
    /// <summary><paramref name="input"/> [T, W] packed tokens → [T, (2·window+1)·W].</summary>
    public static Tensor Expand(Tensor input, int window, TokenLayout layout)
    {
        if (window == 0)
        {
            return input.alias();
        }

        var parts = new List<Tensor>();
        var total = input.shape[0];
        for (var offset = -window; offset <= window; offset++)
        {
            if (offset == 0)
            {
                parts.Add(input);
                continue;
            }

            // Row i takes row i+offset; rows past either end, or in another doc, get zeros.
            var shift = (int)Math.Min(Math.Abs(offset), total);
            var padding = torch.zeros([shift, input.shape[1]], dtype: input.dtype, device: input.device);
            var shifted = offset > 0
                ? torch.cat([input[shift.., ..], padding], 0)
                : torch.cat([padding, input[..(int)(total - shift), ..]], 0);
            parts.Add(shifted * layout.NeighbourMask(offset));
        }

        return torch.cat(parts, 1);
    }
}
