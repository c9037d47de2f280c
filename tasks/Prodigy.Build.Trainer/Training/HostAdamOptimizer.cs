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
            AdamRule.Step(_loop, ++_steps[p], weights.Length, (start, count) => weights.AsSpan(start, count), (start, count) => gradient.AsSpan(start, count), _firstMoment[p], _secondMoment[p]);
        }
    }

    public void Dispose()
    {
    }
}
