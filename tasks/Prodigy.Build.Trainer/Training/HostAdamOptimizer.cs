using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Model.SpacyFormat;

namespace Prodigy.Build.Trainer.Training;

/// <summary>What the training loop asks of an optimizer: clear the gradients before a batch, update after it.</summary>
public interface IPipelineOptimizer : IDisposable
{
    void ZeroGrad();

    void Step();
}

/// <summary>
/// thinc's Adam (<see cref="AdamRule"/>, the arithmetic <see cref="AdamOptimizer"/> runs on torch
/// parameters) over managed params: each clipped by its own norm, with its own update count; a param
/// that never had a gradient is not touched, one that had one is updated every step.
/// </summary>
public sealed class HostAdamOptimizer : IPipelineOptimizer
{
    private readonly LoopSettings _loop;
    private readonly HostParameter[] _parameters;
    private readonly float[][] _firstMoment;
    private readonly float[][] _secondMoment;
    private readonly int[] _steps;

    public HostAdamOptimizer(IEnumerable<HostParameter> parameters, LoopSettings loop)
    {
        _loop = loop;
        _parameters = [.. parameters];
        _firstMoment = [.. _parameters.Select(p => new float[p.Weights.Length])];
        _secondMoment = [.. _parameters.Select(p => new float[p.Weights.Length])];
        _steps = new int[_parameters.Length];
    }

    public void ZeroGrad()
    {
        foreach (var parameter in _parameters)
        {
            parameter.ZeroGradient();
        }
    }

    public void Step()
    {
        for (var p = 0; p < _parameters.Length; p++)
        {
            var parameter = _parameters[p];
            if (!parameter.HasGradient)
            {
                continue;
            }

            var weights = parameter.Weights;
            var gradient = parameter.Gradient;
            var update = AdamRule.For(_loop, ++_steps[p]);
            var length = weights.Length;
            var chunks = (length + AdamRule.Chunk - 1) / AdamRule.Chunk;
            if (_loop.GradClip > 0)
            {
                // With L2 as a gradient term, thinc clips the gradient after adding it.
                var l2 = update.GradientL2;
                var partial = new double[chunks];
                Parallel.For(0, chunks, chunk =>
                {
                    var start = chunk * AdamRule.Chunk;
                    var count = Math.Min(AdamRule.Chunk, length - start);
                    partial[chunk] = AdamRule.SquaredNorm(gradient.AsSpan(start, count), l2 == 0 ? [] : weights.AsSpan(start, count), l2);
                });

                var squared = 0.0;
                foreach (var value in partial)
                {
                    squared += value;
                }

                update = update with { Scale = AdamRule.ClipScale(_loop, Math.Sqrt(squared)) };
            }

            var first = _firstMoment[p];
            var second = _secondMoment[p];
            Parallel.For(0, chunks, chunk =>
            {
                var start = chunk * AdamRule.Chunk;
                var count = Math.Min(AdamRule.Chunk, length - start);
                update.Apply(weights.AsSpan(start, count), gradient.AsSpan(start, count), first.AsSpan(start, count), second.AsSpan(start, count));
            });
        }
    }

    public void Dispose()
    {
    }
}
