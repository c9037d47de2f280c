using System.Numerics;
using Prodigy.Build.Core.Pipelines;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

// The CPU training pass of the encoder, forward and backward written out. Autograd ran the same
// arithmetic as some forty small kernels a layer each way (max over the pieces and its scatter, layer
// norm, the dropout product, the window's concatenations and their slices, each table's gather and
// scatter into a zeroed table-sized gradient), which cost about as much as the layers' matrix products;
// here each layer is one pass over its rows each way and torch does only the matrix products. The
// output is a leaf: the components backpropagate into it, then BackwardPending sends its gradient on.
public sealed partial class TorchTok2Vec
{
    private readonly List<HostPass> _pending = [];

    /// <summary>
    /// Whether a CPU training pass runs the hand-written forward and backward (the default) rather than
    /// torch's autograd over <see cref="Forward"/>'s tensor operations, which a GPU runs. Both compute the
    /// same gradients (tested); this is for that comparison.
    /// </summary>
    internal bool HostKernels { get; set; } = true;

    private bool RunsOnHost(bool train, Device device, int rows) =>
        train && rows > 0 && HostKernels && device.type == DeviceType.CPU && _parameters[$"{_prefix}embed.layernorm.G"].requires_grad;

    /// <summary>
    /// Sends the gradients that reached the outputs of this update's CPU training passes into the
    /// encoder's parameters (after the components' backward pass), and frees what the passes kept.
    /// </summary>
    public void BackwardPending()
    {
        try
        {
            foreach (var pass in _pending)
            {
                // A pass whose output its caller already freed (a forward pass no update followed) has nothing to send.
                if (pass.Output.IsInvalid)
                {
                    continue;
                }

                using var gradient = pass.Output.grad;
                if (gradient is not null)
                {
                    Backward(pass, gradient);
                }
            }
        }
        finally
        {
            DiscardPending();
        }
    }

    private void DiscardPending()
    {
        foreach (var pass in _pending)
        {
            pass.Dispose();
        }

        _pending.Clear();
    }

    private Tensor HostForward(IReadOnlyList<TrainingDoc> docs, BatchLayout layout, double dropout)
    {
        using var noGrad = torch.no_grad();
        var pass = new HostPass { Rows = layout.Total };
        _pending.Add(pass);
        var width = Width;
        var staticWidth = _vectorTable is null ? 0 : (int)_parameters[$"{_prefix}embed.static_vectors.W"].shape[0];
        var columns = (_tables.Length * width) + staticWidth;

        // MultiHashEmbed: each table's four rows summed into its columns, then its column mask.
        var concatenated = pass.Own(torch.empty([layout.Total, columns]));
        var concatenatedValues = Values(concatenated);
        pass.TableRows = new int[_tables.Length][];
        pass.TableMasks = new Tensor?[_tables.Length];
        for (var t = 0; t < _tables.Length; t++)
        {
            var rows = new int[layout.Total * 4];
            for (var d = 0; d < docs.Count; d++)
            {
                var docRows = docs[d].HashRows(this)[t];
                for (var j = 0; j < docRows.Length; j++)
                {
                    rows[(layout.Starts[d] * 4) + j] = (int)docRows[j];
                }
            }

            pass.TableRows[t] = rows;
            var mask = dropout > 0 ? pass.Own(_masks.Mask([width], dropout, CPU)) : null;
            pass.TableMasks[t] = mask;
            GatherSum(Values(_parameters[$"{_prefix}embed.hashembed.{t}.E"]), rows, width, concatenatedValues, columns, t * width, mask is null ? default : Values(mask));
        }

        if (_vectorTable is not null)
        {
            StaticVectorsForward(pass, docs, layout, dropout, concatenatedValues, columns, _tables.Length * width);
        }

        var mixed = NormalizedMaxoutForward(pass, concatenated, $"{_prefix}embed.", dropout);

        // with_array(pad), as Forward lays it out.
        (pass.Positions, pass.PaddedRows) = PaddedPositions(layout);

        using var x = torch.zeros([pass.PaddedRows, width]);
        var xValues = Values(x);
        CopyRows(Values(mixed), width, pass.Positions, xValues, toPositions: true);
        mixed.Dispose();
        for (var block = 0; block < Depth; block++)
        {
            var expanded = pass.Own(torch.empty([pass.PaddedRows, ((2 * WindowSize) + 1) * width]));
            Tok2VecModel.ExpandWindow(xValues, pass.PaddedRows, width, WindowSize, Values(expanded));
            using var update = NormalizedMaxoutForward(pass, expanded, $"{_prefix}encode.{block}.", dropout);
            TensorPrimitives.Add(xValues, Values(update), xValues);
        }

        var output = torch.empty([layout.Total, width]);
        CopyRows(xValues, width, pass.Positions, Values(output), toPositions: false);
        pass.Output = output.requires_grad_(true);
        return output;
    }

    // StaticVectors as the autograd path computes it: V[rows] Wᵀ, zero for a token without a vector, the column mask.
    private void StaticVectorsForward(HostPass pass, IReadOnlyList<TrainingDoc> docs, BatchLayout layout, double dropout, Span<float> concatenated, int columns, int offset)
    {
        var w = _parameters[$"{_prefix}embed.static_vectors.W"];
        var staticWidth = (int)w.shape[0];
        var (rows, missing, last) = StaticRows(docs, layout);
        if (last < 0)
        {
            // An empty table: zeros, and no mask drawn (as the autograd path).
            for (var i = 0; i < layout.Total; i++)
            {
                concatenated.Slice((i * columns) + offset, staticWidth).Clear();
            }

            return;
        }

        var mask = dropout > 0 ? pass.Own(_masks.Mask([staticWidth], dropout, CPU)) : null;
        pass.StaticMask = mask;

        using var index = torch.tensor(rows);
        pass.StaticInput = pass.Own(_vectorTable!.index_select(0, index));
        using var projected = pass.StaticInput.matmul(w.t()).contiguous();
        var values = Values(projected);
        for (var i = 0; i < layout.Total; i++)
        {
            var target = concatenated.Slice((i * columns) + offset, staticWidth);
            if (missing[i])
            {
                target.Clear();
            }
            else if (mask is null)
            {
                values.Slice(i * staticWidth, staticWidth).CopyTo(target);
            }
            else
            {
                TensorPrimitives.Multiply(values.Slice(i * staticWidth, staticWidth), Values(mask), target);
            }
        }
    }

    // Maxout (torch's matrix product, then the max over each output's pieces) and LayerNorm, then the
    // layer's dropout; what the backward pass needs is kept in the pass. The product runs with the
    // weights' rows reordered piece-major (thinc stores them nO x nP x nI), so that each piece is a
    // contiguous run of the nO outputs and the max, the normalization and their backward are vector
    // operations over a row rather than a three-way comparison per output.
    private Tensor NormalizedMaxoutForward(HostPass pass, Tensor input, string prefix, double dropout)
    {
        var w = _parameters[prefix + "maxout.W"];
        var b = _parameters[prefix + "maxout.b"];
        var nO = (int)w.shape[0];
        var nP = (int)w.shape[1];
        var rows = (int)input.shape[0];
        using var permutedW = w.permute(1, 0, 2);
        using var contiguousW = permutedW.contiguous();
        var pieceMajorW = pass.Own(contiguousW.view(nP * nO, w.shape[2]));
        using var transposedB = b.t();
        using var pieceMajorB = transposedB.contiguous();
        using var flatB = pieceMajorB.view(nP * nO);
        using var pieces = torch.nn.functional.linear(input, pieceMajorW, flatB);
        var layer = new HostLayer(prefix, input, pieceMajorW, pass.Own(torch.empty([rows, nO])), pass.Own(torch.empty([rows, nO])), pass.Own(torch.empty([rows])));
        var output = torch.empty([rows, nO]);
        NormalizedMaxoutKernels.Forward(
            Values(pieces), rows, nO, nP, Values(_parameters[prefix + "layernorm.G"]), Values(_parameters[prefix + "layernorm.b"]),
            Values(layer.Winner), Values(layer.Normalized), Values(layer.InverseDeviation), Values(output));
        if (dropout > 0)
        {
            layer.Mask = pass.Own(_masks.Mask([rows, nO], dropout, CPU));
            TensorPrimitives.Multiply(Values(output), Values(layer.Mask), Values(output));
        }

        pass.Layers.Add(layer);
        return output;
    }

    private void Backward(HostPass pass, Tensor outputGradient)
    {
        using var noGrad = torch.no_grad();
        var width = Width;
        using var contiguousGradient = outputGradient.contiguous();
        using var dX = torch.zeros([pass.PaddedRows, width]);
        var dXValues = Values(dX);
        CopyRows(Values(contiguousGradient), width, pass.Positions, dXValues, toPositions: true);

        // The blocks last to first: each adds its update to the rows (a residual), so a row's gradient
        // reaches the block's input both directly and through the window of its neighbours.
        for (var block = Depth - 1; block >= 0; block--)
        {
            using var dExpanded = NormalizedMaxoutBackward(pass.Layers[block + 1], dX);
            ExpandWindowBackward(Values(dExpanded), pass.PaddedRows, width, WindowSize, dXValues);
        }

        using var dMixed = torch.empty([pass.Rows, width]);
        CopyRows(dXValues, width, pass.Positions, Values(dMixed), toPositions: false);
        using var dConcatenated = NormalizedMaxoutBackward(pass.Layers[0], dMixed);
        var dValues = Values(dConcatenated);
        var columns = (int)dConcatenated.shape[1];
        for (var t = 0; t < _tables.Length; t++)
        {
            var table = _parameters[$"{_prefix}embed.hashembed.{t}.E"];
            using var tableGradient = GradientOf(table);
            ScatterAdd(dValues, columns, t * width, width, pass.TableRows[t], pass.TableMasks[t] is { } mask ? Values(mask) : default, Values(tableGradient));
        }

        if (pass.StaticInput is not null)
        {
            // spaCy's StaticVectors backprop: dW += (dY ⊙ mask)ᵀ V[rows], missing tokens' rows included.
            var w = _parameters[$"{_prefix}embed.static_vectors.W"];
            using var slice = dConcatenated.narrow(1, _tables.Length * width, w.shape[0]);
            using var dStatic = pass.StaticMask is null ? slice.contiguous() : slice * pass.StaticMask;
            using var wGradient = GradientOf(w);
            using var transposed = dStatic.t();
            wGradient.addmm_(transposed, pass.StaticInput, 1, 1);
        }
    }

    // The layer's backward: dropout, LayerNorm and the max in one pass over the rows, then torch's
    // products for the weights' gradients (back from piece-major to thinc's order) and the input's;
    // returns the input's gradient.
    private Tensor NormalizedMaxoutBackward(HostLayer layer, Tensor outputGradient)
    {
        var w = _parameters[layer.Prefix + "maxout.W"];
        var b = _parameters[layer.Prefix + "maxout.b"];
        var nO = (int)w.shape[0];
        var nP = (int)w.shape[1];
        var rows = (int)outputGradient.shape[0];
        using var dPieces = torch.empty([rows, nP * nO]);
        using (var gainGradient = GradientOf(_parameters[layer.Prefix + "layernorm.G"]))
        using (var biasGradient = GradientOf(_parameters[layer.Prefix + "layernorm.b"]))
        {
            NormalizedMaxoutKernels.Backward(
                Values(outputGradient), layer.Mask is null ? default : Values(layer.Mask), rows, nO, nP, Values(_parameters[layer.Prefix + "layernorm.G"]),
                Values(layer.Winner), Values(layer.Normalized), Values(layer.InverseDeviation), Values(dPieces), Values(gainGradient), Values(biasGradient));
        }

        // In-place ops return the tensor they update, which its own using frees.
        using var transposed = dPieces.t();
        using var pieceMajorWGradient = transposed.mm(layer.Input);
        using var shapedWGradient = pieceMajorWGradient.view(nP, nO, w.shape[2]);
        using var wGradientInThincOrder = shapedWGradient.permute(1, 0, 2);
        using var wGradient = GradientOf(w);
        wGradient.add_(wGradientInThincOrder);
        using var summed = dPieces.sum(0L);
        using var shapedSum = summed.view(nP, nO);
        using var bGradientInThincOrder = shapedSum.t();
        using var bGradient = GradientOf(b);
        bGradient.add_(bGradientInThincOrder);
        return dPieces.mm(layer.PieceMajorWeights);
    }

    // The parameter's gradient tensor, made (zeros) on its first use as autograd would make it.
    private static Tensor GradientOf(Parameter parameter)
    {
        if (parameter.grad is { } existing)
        {
            return existing;
        }

        // The parameter holds its own reference: this wrapper is freed here, not left to the finalizer.
        using var zeros = torch.zeros_like(parameter);
        parameter.grad = zeros;
        return parameter.grad!;
    }

    // A contiguous CPU tensor's floats, in place.
    private static Span<float> Values(Tensor tensor) => MemoryMarshal.Cast<byte, float>(tensor.bytes);

    private static void GatherSum(ReadOnlySpan<float> table, int[] rows, int width, Span<float> output, int columns, int offset, ReadOnlySpan<float> mask)
    {
        var count = rows.Length / 4;
        for (var i = 0; i < count; i++)
        {
            var target = output.Slice((i * columns) + offset, width);
            table.Slice(rows[i * 4] * width, width).CopyTo(target);
            for (var k = 1; k < 4; k++)
            {
                TensorPrimitives.Add(target, table.Slice(rows[(i * 4) + k] * width, width), target);
            }

            if (!mask.IsEmpty)
            {
                TensorPrimitives.Multiply(target, mask, target);
            }
        }
    }

    private static void ScatterAdd(ReadOnlySpan<float> gradient, int columns, int offset, int width, int[] rows, ReadOnlySpan<float> mask, Span<float> tableGradient)
    {
        Span<float> masked = stackalloc float[width];
        var count = rows.Length / 4;
        for (var i = 0; i < count; i++)
        {
            var source = gradient.Slice((i * columns) + offset, width);
            if (mask.IsEmpty)
            {
                source.CopyTo(masked);
            }
            else
            {
                TensorPrimitives.Multiply(source, mask, masked);
            }

            for (var k = 0; k < 4; k++)
            {
                var target = tableGradient.Slice(rows[(i * 4) + k] * width, width);
                TensorPrimitives.Add(target, masked, target);
            }
        }
    }

    // Packed rows to and from their padded positions.
    private static void CopyRows(ReadOnlySpan<float> source, int width, int[] positions, Span<float> target, bool toPositions)
    {
        for (var i = 0; i < positions.Length; i++)
        {
            if (toPositions)
            {
                source.Slice(i * width, width).CopyTo(target.Slice(positions[i] * width, width));
            }
            else
            {
                source.Slice(positions[i] * width, width).CopyTo(target.Slice(i * width, width));
            }
        }
    }

    // seq2col's backward: each window part's gradient added to the row it was copied from.
    private static void ExpandWindowBackward(ReadOnlySpan<float> dExpanded, int rows, int width, int window, Span<float> dX)
    {
        var span = (2 * window) + 1;
        for (var i = 0; i < rows; i++)
        {
            for (var k = 0; k < span; k++)
            {
                var source = i - window + k;
                if (source >= 0 && source < rows)
                {
                    var target = dX.Slice(source * width, width);
                    TensorPrimitives.Add(target, dExpanded.Slice(((i * span) + k) * width, width), target);
                }
            }
        }
    }

    /// <summary>What one CPU training pass keeps for its backward: its tensors, which it frees.</summary>
    private sealed class HostPass : IDisposable
    {
        private readonly List<Tensor> _owned = [];

        public int Rows { get; init; }

        public int PaddedRows { get; set; }

        public int[] Positions { get; set; } = [];

        public int[][] TableRows { get; set; } = [];

        public Tensor?[] TableMasks { get; set; } = [];

        public Tensor? StaticInput { get; set; }

        public Tensor? StaticMask { get; set; }

        /// <summary>The mixing layer, then each block.</summary>
        public List<HostLayer> Layers { get; } = [];

        public Tensor Output { get; set; } = null!;

        public Tensor Own(Tensor tensor)
        {
            // Kept past the caller's dispose scope, until the backward pass has read it.
            _owned.Add(tensor.DetachFromDisposeScope());
            return tensor;
        }

        public void Dispose()
        {
            foreach (var tensor in _owned)
            {
                tensor.Dispose();
            }

            _owned.Clear();
        }
    }

    /// <summary>A normalized maxout layer's saved values: its input, its weights piece-major, each output's winning piece, the normalized maxima and each row's 1 / sqrt(var + eps).</summary>
    private sealed record HostLayer(string Prefix, Tensor Input, Tensor PieceMajorWeights, Tensor Winner, Tensor Normalized, Tensor InverseDeviation)
    {
        public Tensor? Mask { get; set; }
    }
}

/// <summary>
/// Maxout over pieces laid out piece-major ([rows, nP x nO]: piece p of output o at p x nO + o), then
/// LayerNorm (eps 1e-8 on the biased variance), forward and backward over rows, in vectors across the outputs.
/// </summary>
internal static class NormalizedMaxoutKernels
{
    public const float Epsilon = 1e-8f;

    /// <summary>
    /// <paramref name="pieces"/> to <paramref name="output"/> [rows, nO]: each output the largest of its
    /// pieces (the first of equals; its index kept in <paramref name="winner"/> as a float), normalized
    /// over its row, times gain plus bias.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> pieces, int rows, int nO, int nP, ReadOnlySpan<float> gain, ReadOnlySpan<float> bias, Span<float> winner, Span<float> normalized, Span<float> inverseDeviation, Span<float> output)
    {
        var width = Vector<float>.Count;
        for (var r = 0; r < rows; r++)
        {
            var rowPieces = pieces.Slice(r * nP * nO, nP * nO);
            var maxima = normalized.Slice(r * nO, nO);
            var rowWinner = winner.Slice(r * nO, nO);
            rowPieces[..nO].CopyTo(maxima);
            rowWinner.Clear();
            for (var p = 1; p < nP; p++)
            {
                var piece = rowPieces.Slice(p * nO, nO);
                var index = new Vector<float>(p);
                var o = 0;
                for (; o <= nO - width; o += width)
                {
                    var candidate = new Vector<float>(piece[o..]);
                    var best = new Vector<float>(maxima[o..]);
                    var greater = Vector.GreaterThan(candidate, best);
                    Vector.ConditionalSelect(greater, candidate, best).CopyTo(maxima[o..]);
                    Vector.ConditionalSelect(greater, index, new Vector<float>(rowWinner[o..])).CopyTo(rowWinner[o..]);
                }

                for (; o < nO; o++)
                {
                    if (piece[o] > maxima[o])
                    {
                        maxima[o] = piece[o];
                        rowWinner[o] = p;
                    }
                }
            }

            var mean = TensorPrimitives.Sum<float>(maxima) / nO;
            TensorPrimitives.Subtract(maxima, mean, maxima);
            var variance = TensorPrimitives.SumOfSquares<float>(maxima) / nO;
            var inverse = 1f / MathF.Sqrt(variance + Epsilon);
            inverseDeviation[r] = inverse;
            TensorPrimitives.Multiply(maxima, inverse, maxima);
            TensorPrimitives.MultiplyAdd(maxima, gain, bias, output.Slice(r * nO, nO));
        }
    }

    /// <summary>
    /// From the output's gradient (times the dropout <paramref name="mask"/> when there is one) to the
    /// pieces' (<paramref name="dPieces"/>: each output's winner gets its gradient, the other pieces
    /// zero), adding the gain's and bias' gradients.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> mask, int rows, int nO, int nP, ReadOnlySpan<float> gain, ReadOnlySpan<float> winner, ReadOnlySpan<float> normalized, ReadOnlySpan<float> inverseDeviation, Span<float> dPieces, Span<float> gainGradient, Span<float> biasGradient)
    {
        var width = Vector<float>.Count;
        Span<float> dy = stackalloc float[nO];
        Span<float> dMax = stackalloc float[nO];
        for (var r = 0; r < rows; r++)
        {
            var rowGradient = outputGradient.Slice(r * nO, nO);
            if (mask.IsEmpty)
            {
                rowGradient.CopyTo(dy);
            }
            else
            {
                TensorPrimitives.Multiply(rowGradient, mask.Slice(r * nO, nO), dy);
            }

            var rowNormalized = normalized.Slice(r * nO, nO);
            TensorPrimitives.MultiplyAdd(dy, rowNormalized, gainGradient, gainGradient);
            TensorPrimitives.Add(biasGradient, dy, biasGradient);

            // d max = (g - mean(g) - x̂ mean(g x̂)) / sqrt(var + eps), with g = dy * gain.
            TensorPrimitives.Multiply(dy, gain, dMax);
            var meanScaled = TensorPrimitives.Sum<float>(dMax) / nO;
            var meanScaledNormalized = TensorPrimitives.Dot<float>(dMax, rowNormalized) / nO;
            TensorPrimitives.Subtract(dMax, meanScaled, dMax);
            TensorPrimitives.MultiplyAdd(rowNormalized, -meanScaledNormalized, dMax, dMax);
            TensorPrimitives.Multiply(dMax, inverseDeviation[r], dMax);

            var rowWinner = winner.Slice(r * nO, nO);
            for (var p = 0; p < nP; p++)
            {
                var piece = dPieces.Slice((r * nP * nO) + (p * nO), nO);
                var index = new Vector<float>(p);
                var o = 0;
                for (; o <= nO - width; o += width)
                {
                    var won = Vector.Equals(new Vector<float>(rowWinner[o..]), index);
                    Vector.ConditionalSelect(won, new Vector<float>(dMax[o..]), Vector<float>.Zero).CopyTo(piece[o..]);
                }

                for (; o < nO; o++)
                {
                    piece[o] = rowWinner[o] == p ? dMax[o] : 0f;
                }
            }
        }
    }
}
