using Prodigy.Build.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// Where a training run's dropout masks come from, as in spaCy. On the CPU: numpy's global generator,
/// through thinc's <c>get_dropout_mask</c>, in the order spaCy's layers draw (the tok2vec's per table and
/// per layer, then each component's), so the masks of a CPU run are spaCy's. On a GPU: the device's own
/// generator, as spaCy's masks there come from cupy's on the device, so no mask crosses the bus per
/// batch. The parser's hidden-layer mask is drawn on the host from numpy on either
/// (<see cref="Numpy"/>), as spaCy's ParserStepModel draws it with NumpyOps.
/// </summary>
public sealed class DropoutMasks(NumpyRandom numpy)
{
    /// <summary>numpy's global generator, as the run has left it.</summary>
    public NumpyRandom Numpy { get; } = numpy;

    /// <summary><paramref name="x"/> times a mask of its shape (thinc's Dropout); <paramref name="x"/> itself outside training or at rate zero, drawing nothing.</summary>
    public Tensor Apply(Tensor x, bool train, double rate) => train && rate > 0 ? x * Mask(x.shape, rate, x.device) : x;

    /// <summary>
    /// Draws what masks of <paramref name="count"/> values at <paramref name="rate"/> would draw, without
    /// making them: for a layer spaCy runs but whose output nothing reads. On a GPU nothing (its masks
    /// come from the device's generator, not numpy's).
    /// </summary>
    public void Skip(long count, double rate, Device device)
    {
        if (device.type == DeviceType.CPU)
        {
            Numpy.SkipDropoutMask(count, rate);
        }
    }

    /// <summary>A mask of <paramref name="shape"/>: each value kept with 1 - rate and scaled by 1 / (1 - rate), else zero.</summary>
    public Tensor Mask(long[] shape, double rate, Device device)
    {
        if (device.type != DeviceType.CPU)
        {
            return torch.rand(shape, device: device).AtLeast(rate).to(ScalarType.Float32).DividedBy(1 - rate);
        }

        // Drawn straight into the tensor's storage: a managed array per mask (a block's covers every
        // padded row of the batch) was large-object garbage on every step, which the GC let pile up.
        var mask = torch.empty(shape, ScalarType.Float32);
        Numpy.FillDropoutMask(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(mask.bytes), rate);
        return mask;
    }
}
