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

/// <summary>Neighbour features: each position gets its own vector and those of <c>window</c> neighbours on each side (zeros beyond the doc).</summary>
public static class Window
{
    /// <summary><paramref name="input"/> [B, L, W], already zero at padding → [B, L, (2·window+1)·W].</summary>
    public static Tensor Expand(Tensor input, int window)
    {
        if (window == 0)
        {
            return input.alias();
        }

        var parts = new List<Tensor>();
        var length = input.shape[1];
        for (var offset = -window; offset <= window; offset++)
        {
            if (offset == 0)
            {
                parts.Add(input);
                continue;
            }

            // Shift along the sequence; positions that fall off the doc get zeros.
            var pad = Math.Min(Math.Abs(offset), length);
            var padding = torch.zeros([input.shape[0], pad, input.shape[2]], dtype: input.dtype, device: input.device);
            parts.Add(offset < 0
                ? torch.cat([padding, input[.., ..(int)(length - pad), ..]], 1)
                : torch.cat([input[.., (int)pad.., ..], padding], 1));
        }

        return torch.cat(parts, 2);
    }
}
