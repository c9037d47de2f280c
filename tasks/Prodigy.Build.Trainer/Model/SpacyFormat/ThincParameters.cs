using Prodigy.Build.Core.Pipelines;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// The torch parameters of one planned component, one per <see cref="ModelParameter"/> and in its
/// shape, so that training updates exactly what the pipeline folder stores: <see cref="Export"/>
/// copies them into the plan's tree for writing, <see cref="Set"/> takes a base model's values.
/// </summary>
public sealed class ThincParameters : IComponentParameters
{
    private readonly Dictionary<string, Parameter> _byKey = new(StringComparer.Ordinal);
    private readonly List<(string Key, Parameter Tensor)> _ordered = [];

    /// <summary>The component's params on <paramref name="device"/>, starting from <paramref name="initial"/> (see <see cref="ThincInitialization"/>).</summary>
    public ThincParameters(ComponentPlan plan, Device device, IReadOnlyDictionary<string, float[]> initial)
    {
        Plan = plan;
        foreach (var parameter in plan.Parameters)
        {
            using var noGrad = torch.no_grad();
            using var values = torch.tensor(initial[parameter.Key], parameter.Shape);
            var tensor = new Parameter(values.to(device).contiguous(), requires_grad: true);
            _byKey[parameter.Key] = tensor;
            _ordered.Add((parameter.Key, tensor));
        }
    }

    public ComponentPlan Plan { get; }

    public Parameter this[string key] => _byKey.TryGetValue(key, out var p) ? p : throw new KeyNotFoundException($"component '{Plan.Name}' has no param '{key}'");

    public bool Has(string key) => _byKey.ContainsKey(key);

    /// <summary>Every parameter, in the plan's order (for the optimizer).</summary>
    public IEnumerable<Parameter> All => _ordered.Select(p => p.Tensor);

    public long Count => _ordered.Sum(p => p.Tensor.numel());

    public float[] Values(string key)
    {
        using var cpu = this[key].detach().cpu().contiguous();
        return cpu.data<float>().ToArray();
    }

    /// <summary>Freezes or unfreezes every parameter (<c>frozen_components</c>).</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var (_, tensor) in _ordered)
        {
            tensor.requires_grad = trainable;
        }
    }

    /// <summary>Copies the current values into the plan's tree, for writing the folder.</summary>
    public void Export()
    {
        foreach (var parameter in Plan.Parameters)
        {
            using var cpu = _byKey[parameter.Key].detach().cpu().contiguous();
            parameter.Set(cpu.data<float>().ToArray());
        }
    }

    /// <summary>Sets a parameter's values (host floats in its shape), e.g. from a base model.</summary>
    public void Set(string key, float[] values)
    {
        var tensor = this[key];
        using var noGrad = torch.no_grad();
        using var source = torch.tensor(values, tensor.shape, device: tensor.device);
        tensor.copy_(source);
    }

    public void Dispose()
    {
        foreach (var (_, tensor) in _ordered)
        {
            tensor.Dispose();
        }
    }
}
