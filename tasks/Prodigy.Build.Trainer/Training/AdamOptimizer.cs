using System.Runtime.InteropServices;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// thinc's Adam.v1 (<c>Optimizer.__call__</c> with <c>ops.adam</c>) as the config describes it, for
/// each parameter on its own as thinc keys them: L2 as a gradient term when not decoupled; the gradient
/// clipped by its own norm (<c>clip_gradient</c>: scaled to grad_clip when its norm reaches it); Adam with
/// the parameter's own update count, the bias correction folded into the rate
/// (<c>lr * sqrt(1 - b2^t) / (1 - b1^t)</c>) and eps added to the uncorrected <c>sqrt(m2)</c>; then, when
/// L2 is weight decay, <c>w -= lr * L2 * w</c> after the step. A parameter that never had a gradient is
/// not touched (thinc's <c>has_grad</c>); one that had one is updated every step, with a zero gradient
/// when its component learned nothing from the batch, as <c>finish_update</c> does.
/// </summary>
/// <remarks>
/// One fused pass per CPU parameter: TorchSharp's optimizers run about eight tensor operations per
/// parameter, each a full pass over memory, and the bag-of-words table alone has a million weights
/// (the optimizer took 6.7 of 9.5 ms of a healthsea step). Here each weight is read and written once
/// per step, vectorised, over chunks in parallel. Parameters that are not CPU float32 (a CUDA run) take
/// the same arithmetic as tensor operations on their own device, the clipping factor computed there
/// too, so a GPU step copies nothing to the host. Both paths are one algorithm; the tests run the
/// tensor path on the CPU against the fused one and both against a plain transcription of thinc's.
/// </remarks>
public sealed class AdamOptimizer : IPipelineOptimizer
{
    private readonly LoopSettings _loop;
    private readonly Parameter[] _fused;
    private readonly float[][] _firstMoment;
    private readonly float[][] _secondMoment;
    private readonly int[] _fusedSteps;
    private readonly bool[] _fusedGradientCleared;
    private readonly Parameter[] _others;
    private readonly Tensor[] _otherFirstMoment;
    private readonly Tensor[] _otherSecondMoment;
    private readonly int[] _otherSteps;

    /// <param name="parameters">The parameters to update.</param>
    /// <param name="loop">The optimizer settings.</param>
    /// <param name="tensorPathOnly">Update every parameter with tensor operations, CPU ones too (for testing the device path).</param>
    public AdamOptimizer(IEnumerable<Parameter> parameters, LoopSettings loop, bool tensorPathOnly = false)
    {
        _loop = loop;
        var all = parameters.ToList();
        _fused = [.. all.Where(p => !tensorPathOnly && IsFusable(p))];
        _others = [.. all.Where(p => tensorPathOnly || !IsFusable(p))];
        _firstMoment = [.. _fused.Select(p => new float[p.numel()])];
        _secondMoment = [.. _fused.Select(p => new float[p.numel()])];
        _fusedSteps = new int[_fused.Length];
        _fusedGradientCleared = new bool[_fused.Length];
        _otherFirstMoment = [.. _others.Select(p => torch.zeros_like(p))];
        _otherSecondMoment = [.. _others.Select(p => torch.zeros_like(p))];
        _otherSteps = new int[_others.Length];
    }

    /// <summary>Clears the gradients of every parameter (those the last <see cref="Step"/> zeroed as it read them are skipped).</summary>
    public void ZeroGrad()
    {
        // Every TorchSharp wrapper is disposed here and now: left to the finalizer, native handles
        // were released on its thread while training went on, and a long run crashed (SIGSEGV).
        for (var p = 0; p < _fused.Length; p++)
        {
            if (_fusedGradientCleared[p])
            {
                _fusedGradientCleared[p] = false;
                continue;
            }

            using var grad = _fused[p].grad;
            if (grad is not null)
            {
                using var zeroed = grad.zero_();
            }
        }

        foreach (var parameter in _others)
        {
            using var grad = parameter.grad;
            if (grad is not null)
            {
                using var zeroed = grad.zero_();
            }
        }
    }

    /// <summary>
    /// Updates every parameter that has a gradient, each clipped by its own norm as configured. A CPU
    /// gradient is left zeroed (it is cleared as it is read), as the next <see cref="ZeroGrad"/> would leave it.
    /// </summary>
    public void Step()
    {
        for (var p = 0; p < _fused.Length; p++)
        {
            using var grad = _fused[p].grad;
            if (grad is null)
            {
                continue;
            }

            // A contiguous gradient is its own storage here, so clearing it as it is read zeroes the
            // parameter's gradient; a copy (a strided gradient) is left for ZeroGrad to clear.
            var inPlace = grad.is_contiguous();
            using var contiguous = grad.contiguous();
            var weights = _fused[p];
            AdamRule.Step(
                _loop,
                ++_fusedSteps[p],
                _firstMoment[p].Length,
                (start, count) => MemoryMarshal.Cast<byte, float>(weights.bytes).Slice(start, count),
                (start, count) => MemoryMarshal.Cast<byte, float>(contiguous.bytes).Slice(start, count),
                _firstMoment[p],
                _secondMoment[p],
                clearGradient: inPlace);
            _fusedGradientCleared[p] = inPlace;
        }

        StepOnDevice();
    }

    public void Dispose()
    {
        foreach (var moment in _otherFirstMoment.Concat(_otherSecondMoment))
        {
            moment.Dispose();
        }
    }

    // The fused update's arithmetic as tensor operations, on each parameter's own device.
    private void StepOnDevice()
    {
        using var noGrad = torch.no_grad();
        for (var p = 0; p < _others.Length; p++)
        {
            using var grad = _others[p].grad;
            if (grad is null)
            {
                continue;
            }

            var update = AdamRule.For(_loop, ++_otherSteps[p]);
            var weights = _others[p];
            using var gradient = update.GradientL2 != 0 ? grad.Plus(weights, update.GradientL2) : grad.clone();
            if (_loop.GradClip > 0)
            {
                // min(1, clip / norm) stays a tensor on the device: reading it back would make every GPU step wait.
                using var norm = gradient.norm();
                using var ratio = norm.DividedInto(_loop.GradClip);
                using var factor = ratio.AtMost(1.0);
                // In-place ops return their own tensor (the gradient, a moment or the parameter), which must not be disposed.
                gradient.mul_(factor);
            }

            _otherFirstMoment[p].MulInPlace(update.Beta1).AddInPlace(gradient, 1 - update.Beta1);
            _otherSecondMoment[p].MulInPlace(update.Beta2).AddcmulInPlace(gradient, gradient, 1 - update.Beta2);
            using var denominator = _otherSecondMoment[p].sqrt();
            denominator.AddInPlace(update.Eps);
            using var direction = _otherFirstMoment[p].div(denominator);
            weights.AddInPlace(direction, -update.StepSize);
            if (update.Decay != 0f)
            {
                using var shrink = weights.detach().Times(update.Decay);
                weights.AddInPlace(shrink, -1);
            }
        }
    }

    private static bool IsFusable(Parameter parameter) =>
        parameter.device_type == DeviceType.CPU && parameter.dtype == ScalarType.Float32 && parameter.is_contiguous();
}
