using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>The fused optimizer must do what PyTorch's AdamW / Adam with L2 and global-norm clipping do.</summary>
[Collection(TorchCollection.Name)]
public class AdamOptimizerTests(TorchRuntimeFixture fixture)
{
    private readonly TorchRuntimeFixture _runtime = fixture;

    [Theory]
    [InlineData(true, 1.0)]
    [InlineData(false, 1.0)]
    [InlineData(true, 0.0)]
    public void Step_MatchesTorchAdam(bool decoupledWeightDecay, double gradClip)
    {
        Assert.NotNull(_runtime.Info);
        var loop = new LoopSettings(Seed: 0, Dropout: 0, MaxEpochs: 0, MaxSteps: 0, Patience: 0, EvalFrequency: 200,
            LearnRate: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, L2: 0.01, L2IsWeightDecay: decoupledWeightDecay, GradClip: gradClip,
            BatchStart: 100, BatchStop: 1000, BatchCompound: 1.001, BatchTolerance: 0.2, DiscardOversize: false);
        torch.random.manual_seed(7);
        // Sizes that are not multiples of the vector width or the chunk, so both tails run.
        var shapes = new long[][] { [70_001], [13, 7], [3] };
        var ours = shapes.Select(s => new TorchSharp.Modules.Parameter(torch.randn(s))).ToArray();
        var reference = ours.Select(p => new TorchSharp.Modules.Parameter(p.detach().clone())).ToArray();
        var initial = ours.Select(p => p.detach().clone()).ToArray();
        using var fused = new AdamOptimizer(ours, loop);
        using optim.Optimizer torchAdam = decoupledWeightDecay
            ? optim.AdamW(reference, loop.LearnRate, loop.Beta1, loop.Beta2, loop.Eps, loop.L2)
            : optim.Adam(reference, loop.LearnRate, loop.Beta1, loop.Beta2, loop.Eps, loop.L2);
        for (var step = 0; step < 25; step++)
        {
            fused.ZeroGrad();
            torchAdam.zero_grad();
            // Gradients large enough that clipping applies: a loss with a known gradient per parameter.
            var targets = shapes.Select(s => torch.randn(s) * 3).ToArray();
            for (var i = 0; i < ours.Length; i++)
            {
                ((ours[i] - targets[i]).pow(2).sum() * 0.5).backward();
                ((reference[i] - targets[i]).pow(2).sum() * 0.5).backward();
            }

            fused.Step();
            if (gradClip > 0)
            {
                nn.utils.clip_grad_norm_(reference, gradClip);
            }

            torchAdam.step();
        }

        for (var i = 0; i < ours.Length; i++)
        {
            var difference = (ours[i] - reference[i]).abs().max().item<float>();
            Assert.True(difference < 1e-5, $"parameter {i}: max difference {difference}");
        }

        // The weights did move (the test would pass trivially if neither optimizer stepped).
        for (var i = 0; i < ours.Length; i++)
        {
            Assert.True((ours[i] - initial[i]).abs().max().item<float>() > 0.05, $"parameter {i} did not move");
        }
    }

    [Theory]
    [InlineData(true, 1.0)]
    [InlineData(false, 1.0)]
    [InlineData(true, 0.0)]
    public void Device_path_updates_as_the_fused_path_does(bool decoupledWeightDecay, double gradClip)
    {
        // The tensor path is what a CUDA run uses; on the CPU it must give the fused path's weights.
        Assert.NotNull(_runtime.Info);
        var loop = new LoopSettings(Seed: 0, Dropout: 0, MaxEpochs: 0, MaxSteps: 0, Patience: 0, EvalFrequency: 200,
            LearnRate: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, L2: 0.01, L2IsWeightDecay: decoupledWeightDecay, GradClip: gradClip,
            BatchStart: 100, BatchStop: 1000, BatchCompound: 1.001, BatchTolerance: 0.2, DiscardOversize: false);
        torch.random.manual_seed(11);
        var shapes = new long[][] { [70_001], [13, 7], [3] };
        var fusedParameters = shapes.Select(s => new TorchSharp.Modules.Parameter(torch.randn(s))).ToArray();
        var deviceParameters = fusedParameters.Select(p => new TorchSharp.Modules.Parameter(p.detach().clone())).ToArray();
        var initial = fusedParameters.Select(p => p.detach().clone()).ToArray();
        using var fused = new AdamOptimizer(fusedParameters, loop);
        using var onDevice = new AdamOptimizer(deviceParameters, loop, tensorPathOnly: true);
        for (var step = 0; step < 25; step++)
        {
            fused.ZeroGrad();
            onDevice.ZeroGrad();
            var targets = shapes.Select(s => torch.randn(s) * 3).ToArray();
            for (var i = 0; i < shapes.Length; i++)
            {
                ((fusedParameters[i] - targets[i]).pow(2).sum() * 0.5).backward();
                ((deviceParameters[i] - targets[i]).pow(2).sum() * 0.5).backward();
            }

            fused.Step();
            onDevice.Step();
        }

        for (var i = 0; i < shapes.Length; i++)
        {
            var difference = (fusedParameters[i] - deviceParameters[i]).abs().max().item<float>();
            Assert.True(difference < 1e-5, $"parameter {i}: max difference {difference}");
        }

        for (var i = 0; i < shapes.Length; i++)
        {
            Assert.True((deviceParameters[i] - initial[i]).abs().max().item<float>() > 0.05, $"parameter {i} did not move");
        }
    }
}
