using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// The params of one planned component as the trainer holds them: torch tensors
/// (<see cref="ThincParameters"/>) or managed arrays (<see cref="HostParameters"/>). Either is copied
/// into the plan's tree for writing and takes a base model's values the same way.
/// </summary>
public interface IComponentParameters : IDisposable
{
    ComponentPlan Plan { get; }

    /// <summary>How many weights the component has.</summary>
    long Count { get; }

    /// <summary>A param's current values (host floats, row-major in its shape).</summary>
    float[] Values(string key);

    /// <summary>Sets a param's values (host floats in its shape), e.g. from a base model.</summary>
    void Set(string key, float[] values);

    /// <summary>Freezes or unfreezes every param (<c>frozen_components</c>).</summary>
    void SetTrainable(bool trainable);

    /// <summary>Copies the current values into the plan's tree, for writing the folder.</summary>
    void Export();
}

/// <summary>
/// A planned component's params as managed float arrays, for components trained without TorchSharp
/// (the bag-of-words text classifiers on the CPU, and frozen components carried from a base model).
/// Every param starts at zero, as thinc initialises SparseLinear; anything else is set from a base model.
/// </summary>
public sealed class HostParameters : IComponentParameters
{
    private readonly Dictionary<string, HostParameter> _byKey = new(StringComparer.Ordinal);

    public HostParameters(ComponentPlan plan)
    {
        Plan = plan;
        foreach (var parameter in plan.Parameters)
        {
            _byKey[parameter.Key] = new HostParameter(parameter.Key, new float[parameter.Size]);
        }
    }

    public ComponentPlan Plan { get; }

    public long Count => _byKey.Values.Sum(p => (long)p.Weights.Length);

    /// <summary>Whether the optimizer updates these params.</summary>
    public bool Trainable { get; private set; } = true;

    public HostParameter this[string key] => _byKey.TryGetValue(key, out var p) ? p : throw new KeyNotFoundException($"component '{Plan.Name}' has no param '{key}'");

    /// <summary>Every param, in the plan's order (for the optimizer).</summary>
    public IEnumerable<HostParameter> All => Plan.Parameters.Select(p => _byKey[p.Key]);

    public float[] Values(string key) => (float[])this[key].Weights.Clone();

    public void Set(string key, float[] values)
    {
        var weights = this[key].Weights;
        if (values.Length != weights.Length)
        {
            throw new ArgumentException($"{key} has {weights.Length} values, got {values.Length}", nameof(values));
        }

        values.CopyTo(weights, 0);
    }

    public void SetTrainable(bool trainable) => Trainable = trainable;

    public void Export()
    {
        foreach (var parameter in Plan.Parameters)
        {
            parameter.Set(_byKey[parameter.Key].Weights);
        }
    }

    public void Dispose()
    {
    }
}

/// <summary>One managed param: its weights and, once a component has backpropagated into it, its gradient.</summary>
public sealed class HostParameter(string key, float[] weights)
{
    private float[]? _gradient;

    public string Key { get; } = key;

    public float[] Weights { get; } = weights;

    /// <summary>The gradient being accumulated; reading it marks the param as having one (thinc's has_grad), so the optimizer updates it from then on.</summary>
    public float[] Gradient => _gradient ??= new float[Weights.Length];

    public bool HasGradient => _gradient is not null;

    /// <summary>Zeroes the gradient (kept: a param that had one is updated every step, as thinc's finish_update does).</summary>
    public void ZeroGradient()
    {
        if (_gradient is not null)
        {
            Array.Clear(_gradient);
        }
    }
}
