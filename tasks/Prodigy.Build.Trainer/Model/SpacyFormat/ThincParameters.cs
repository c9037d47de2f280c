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

    public ThincParameters(ComponentPlan plan, Device device)
    {
        Plan = plan;
        foreach (var parameter in plan.Parameters)
        {
            using var noGrad = torch.no_grad();
            using var initial = Initial(parameter);
            var tensor = new Parameter(initial.to(device).contiguous(), requires_grad: true);
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

    // thinc's initialisers by layer: HashEmbed uniform ±0.1, Maxout and Linear Glorot-uniform, LayerNorm
    // G ones, biases zero; the parser's upper layer and SparseLinear start at zero; the lower layer's W
    // and pad normal (then rescaled by the parser, as spaCy's LSUV init does).
    internal static Tensor Initial(ModelParameter parameter)
    {
        var shape = parameter.Shape;
        var key = parameter.Key;
        string Last(int n) => string.Join('.', key.Split('.')[^n..]);
        return Last(2) switch
        {
            "layernorm.G" => torch.ones(shape),
            "lower.W" => torch.randn(shape).Times(Math.Sqrt(1.0 / (shape[0] * shape[3]))),
            "lower.pad" => torch.randn(shape),
            "upper.W" or "upper.b" or "sparse_linear.W" or "sparse_linear.b" => torch.zeros(shape),
            "maxout.W" or "projection.W" or "static_vectors.W" or "linear.W" => Glorot(shape),
            _ when key.EndsWith(".E", StringComparison.Ordinal) => torch.rand(shape).Times(0.2).Plus(-0.1),
            _ => torch.zeros(shape),
        };
    }

    // thinc's glorot_uniform_init: the bound is sqrt(6 / (shape[0] + shape[1])) whatever the rank, so a
    // Maxout's W (nO, nP, nI) gets sqrt(6 / (nO + nP)), not a fan-in/fan-out bound: 0.25 for the tok2vec's
    // 96 x 3 x 288, where a fan-based bound would give 0.10 and, under the LayerNorm that follows, a
    // larger step per update than spaCy's.
    private static Tensor Glorot(long[] shape)
    {
        var scale = Math.Sqrt(6.0 / (shape[0] + shape[1]));
        return torch.rand(shape).Times(2).Plus(-1).Times(scale);
    }
}
