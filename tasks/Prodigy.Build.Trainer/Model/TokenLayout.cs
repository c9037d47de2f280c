using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The tokens of a batch packed one after the other, without padding (docs differ in length by an
/// order of magnitude; padding to the longest cost two to four times the work): where each doc
/// starts, which doc each token is in, and for each neighbour offset a mask that is zero where the
/// neighbour lies in another doc.
/// </summary>
public sealed class TokenLayout : IDisposable
{
    private readonly Dictionary<int, Tensor> _neighbourMasks = [];

    public TokenLayout(IReadOnlyList<int> lengths, Device device)
    {
        Lengths = [.. lengths];
        Starts = new int[lengths.Count];
        var total = 0;
        for (var d = 0; d < lengths.Count; d++)
        {
            Starts[d] = total;
            total += lengths[d];
        }

        Total = total;
        Device = device;
        var docOf = new long[total];
        for (var d = 0; d < lengths.Count; d++)
        {
            Array.Fill(docOf, d, Starts[d], lengths[d]);
        }

        // Owned by the layout (disposed with it), not by whatever dispose scope is open.
        DocIndex = torch.tensor(docOf, device: device).DetachFromDisposeScope();
    }

    public int[] Lengths { get; }

    public int[] Starts { get; }

    public int Total { get; }

    public int Docs => Lengths.Length;

    public Device Device { get; }

    /// <summary>[T]: the doc of each token.</summary>
    public Tensor DocIndex { get; }

    /// <summary>[T, 1]: 1 where the token <paramref name="offset"/> positions away is in the same doc.</summary>
    public Tensor NeighbourMask(int offset)
    {
        if (!_neighbourMasks.TryGetValue(offset, out var mask))
        {
            var values = new float[Total];
            for (var d = 0; d < Docs; d++)
            {
                for (var i = 0; i < Lengths[d]; i++)
                {
                    var j = i + offset;
                    values[Starts[d] + i] = j >= 0 && j < Lengths[d] ? 1 : 0;
                }
            }

            _neighbourMasks[offset] = mask = torch.tensor(values, [Total, 1], device: Device).DetachFromDisposeScope();
        }

        return mask;
    }

    public void Dispose()
    {
        DocIndex.Dispose();
        foreach (var mask in _neighbourMasks.Values)
        {
            mask.Dispose();
        }
    }
}
