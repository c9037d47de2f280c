using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>The fused optimizer must do what thinc's Adam.v1 does, parameter by parameter.</summary>
[Collection(TorchCollection.Name)]
public class AdamOptimizerTests(TorchRuntimeFixture fixture)
{
    private readonly TorchRuntimeFixture _runtime = fixture;

    [Theory]
    [InlineData(true, 1.0)]
    [InlineData(false, 1.0)]
    [InlineData(true, 0.0)]
    public void Step_MatchesThincAdam(bool decoupledWeightDecay, double gradClip)
    {
        Assert.NotNull(_runtime.Info);
        var loop = Loop(decoupledWeightDecay, gradClip);
        torch.random.manual_seed(7);
        // Sizes that are not multiples of the vector width or the chunk, so both tails run; the small ones
        // have gradient norms below the clipping threshold on some steps, the large one above.
        var shapes = new long[][] { [70_001], [13, 7], [3] };
        var ours = shapes.Select(s => new TorchSharp.Modules.Parameter(torch.randn(s))).ToArray();
        var reference = ours.Select(p => p.detach().cpu().data<float>().Select(x => (double)x).ToArray()).ToArray();
        var initial = ours.Select(p => p.detach().clone()).ToArray();
        var first = reference.Select(r => new double[r.Length]).ToArray();
        var second = reference.Select(r => new double[r.Length]).ToArray();
        var updates = new int[shapes.Length];
        using var fused = new AdamOptimizer(ours, loop);
        for (var step = 0; step < 25; step++)
        {
            fused.ZeroGrad();
            for (var i = 0; i < ours.Length; i++)
            {
                // The last parameter gets its first gradient at step 5: until then thinc does not touch it
                // (no has_grad), and its bias correction then starts from its own first update.
                if (i == ours.Length - 1 && step < 5)
                {
                    continue;
                }

                var scale = i == 1 ? 0.02 : 3.0;
                var target = torch.randn(shapes[i]) * scale;
                ((ours[i] - target).pow(2).sum() * 0.5).backward();
                var gradient = (ours[i].grad!).cpu().data<float>().Select(x => (double)x).ToArray();
                ThincAdam(loop, reference[i], gradient, first[i], second[i], ++updates[i]);
            }

            fused.Step();
        }

        for (var i = 0; i < ours.Length; i++)
        {
            var values = ours[i].detach().cpu().data<float>().ToArray();
            var difference = values.Select((v, k) => Math.Abs(v - reference[i][k])).Max();
            Assert.True(difference < 1e-5, $"parameter {i}: max difference {difference}");
        }

        // The weights did move (the test would pass trivially if neither optimizer stepped).
        for (var i = 0; i < ours.Length; i++)
        {
            Assert.True((ours[i] - initial[i]).abs().max().item<float>() > 0.01, $"parameter {i} did not move");
        }
    }

    [Fact]
    public void A_step_leaves_the_gradients_zeroed_so_the_next_backward_starts_from_nothing()
    {
        Assert.NotNull(_runtime.Info);
        torch.random.manual_seed(5);
        // One parameter of several chunks (cleared in parallel), one of a single chunk (cleared inline).
        var parameters = new[] { new TorchSharp.Modules.Parameter(torch.randn(100_000)), new TorchSharp.Modules.Parameter(torch.randn(17)) };
        using var optimizer = new AdamOptimizer(parameters, Loop(decoupledWeightDecay: true, gradClip: 1.0));
        foreach (var parameter in parameters)
        {
            (parameter * 2.5).sum().backward();
        }

        optimizer.Step();
        foreach (var parameter in parameters)
        {
            Assert.Equal(0f, parameter.grad!.abs().max().item<float>());
        }

        optimizer.ZeroGrad();
        foreach (var parameter in parameters)
        {
            (parameter * -1.5).sum().backward();
            // Exactly the new gradient: nothing of the first one is left to add to it.
            Assert.Equal(-1.5f, parameter.grad!.min().item<float>());
            Assert.Equal(-1.5f, parameter.grad!.max().item<float>());
        }
    }

    // The managed pipelines' optimizer runs the same arithmetic on host arrays: same gradients, same weights, bit for bit.
    [Theory]
    [InlineData(true, 1.0)]
    [InlineData(false, 1.0)]
    [InlineData(true, 0.0)]
    public void The_host_optimizer_steps_as_the_fused_one_bit_for_bit(bool decoupledWeightDecay, double gradClip)
    {
        Assert.NotNull(_runtime.Info);
        var loop = Loop(decoupledWeightDecay, gradClip);
        torch.random.manual_seed(11);
        var shapes = new long[][] { [70_001], [13, 7], [3] };
        var tensors = shapes.Select(s => new TorchSharp.Modules.Parameter(torch.randn(s))).ToArray();
        var host = tensors.Select((t, i) => new Model.SpacyFormat.HostParameter($"p{i}", t.detach().cpu().data<float>().ToArray())).ToArray();
        var initial = host.Select(h => (float[])h.Weights.Clone()).ToArray();
        using var fused = new AdamOptimizer(tensors, loop);
        using var managed = new HostAdamOptimizer(host, loop);
        for (var step = 0; step < 25; step++)
        {
            fused.ZeroGrad();
            managed.ZeroGrad();
            for (var i = 0; i < tensors.Length; i++)
            {
                // The last parameter's gradients start at step 5, and its updates with them.
                if (i == tensors.Length - 1 && step < 5)
                {
                    continue;
                }

                using var gradient = torch.randn(shapes[i]) * (i == 1 ? 0.02 : 3.0);
                // d(sum(p * g))/dp = g exactly.
                (tensors[i] * gradient).sum().backward();
                var values = gradient.data<float>().ToArray();
                var target = host[i].Gradient;
                for (var k = 0; k < values.Length; k++)
                {
                    target[k] += values[k];
                }
            }

            fused.Step();
            managed.Step();
        }

        for (var i = 0; i < tensors.Length; i++)
        {
            Assert.Equal(tensors[i].detach().cpu().data<float>().ToArray(), host[i].Weights);
            Assert.True(host[i].Weights.Select((w, k) => Math.Abs(w - initial[i][k])).Max() > 0.01, $"parameter {i} did not move");
        }
    }

    private static LoopSettings Loop(bool decoupledWeightDecay, double gradClip) => new(Seed: 0, Dropout: 0, MaxEpochs: 0, MaxSteps: 0, Patience: 0, EvalFrequency: 200,
        LearnRate: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, L2: 0.01, L2IsWeightDecay: decoupledWeightDecay, GradClip: gradClip,
        BatchStart: 100, BatchStop: 1000, BatchCompound: 1.001, BatchTolerance: 0.2, DiscardOversize: false);

    // thinc's Optimizer.__call__ for Adam, transcribed in double precision.
    private static void ThincAdam(LoopSettings loop, double[] weights, double[] gradient, double[] mom1, double[] mom2, int update)
    {
        if (!loop.L2IsWeightDecay)
        {
            for (var k = 0; k < gradient.Length; k++)
            {
                gradient[k] += loop.L2 * weights[k];
            }
        }

        if (loop.GradClip > 0)
        {
            var norm = Math.Sqrt(gradient.Sum(g => g * g));
            if (norm >= loop.GradClip)
            {
                for (var k = 0; k < gradient.Length; k++)
                {
                    gradient[k] *= loop.GradClip / norm;
                }
            }
        }

        var fix1 = 1.0 - Math.Pow(loop.Beta1, update);
        var fix2 = 1.0 - Math.Pow(loop.Beta2, update);
        var rate = loop.LearnRate * Math.Sqrt(fix2) / fix1;
        for (var k = 0; k < weights.Length; k++)
        {
            mom1[k] = (loop.Beta1 * mom1[k]) + ((1 - loop.Beta1) * gradient[k]);
            mom2[k] = (loop.Beta2 * mom2[k]) + ((1 - loop.Beta2) * gradient[k] * gradient[k]);
            weights[k] -= rate * (mom1[k] / (Math.Sqrt(mom2[k]) + loop.Eps));
            if (loop.L2IsWeightDecay)
            {
                weights[k] -= loop.LearnRate * loop.L2 * weights[k];
            }
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
        var loop = Loop(decoupledWeightDecay, gradClip);
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
            // As above: one parameter under the clipping threshold, one whose gradients start at step 5.
            var targets = shapes.Select((s, i) => torch.randn(s) * (i == 1 ? 0.02 : 3.0)).ToArray();
            for (var i = 0; i < shapes.Length; i++)
            {
                if (i == shapes.Length - 1 && step < 5)
                {
                    continue;
                }

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
            Assert.True((deviceParameters[i] - initial[i]).abs().max().item<float>() > 0.01, $"parameter {i} did not move");
        }
    }
}
