using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// One float32 param of an architecture's layer tree under a name that says what it is
/// (<c>embed.hashembed.0.E</c>, <c>lower.W</c>), with the shape thinc gives it. A trainer fills a
/// planned tree through these (<see cref="Set"/>) or reads a loaded one (<see cref="Get"/>), without
/// knowing where in thinc's walk order the layer sits.
/// </summary>
public sealed class ModelParameter(string key, ThincLayer layer, string param, long[] shape)
{
    public string Key { get; } = key;

    public ThincLayer Layer { get; } = layer;

    public string Param { get; } = param;

    /// <summary>The shape thinc saves (<c>maxout.W</c> is nO x nP x nI, <c>precomputable_affine.W</c> nF x nO x nP x nI).</summary>
    public long[] Shape { get; } = shape;

    public long Size => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Sets the values to write (row-major, <see cref="Shape"/>).</summary>
    public void Set(ReadOnlySpan<float> values)
    {
        if (values.Length != Size)
        {
            throw new ArgumentException($"{Key} is ({string.Join(", ", Shape)}) = {Size} values, got {values.Length}", nameof(values));
        }

        Layer.Weights[Param] = NdArray.FromFloats(values, Shape);
    }

    /// <summary>The values: those set for writing, else the bound model file's.</summary>
    public float[] Get() => (Layer.Weights.GetValueOrDefault(Param) ?? Layer.Data?.Param(Param)
        ?? throw new InvalidOperationException($"{Key} has no value: the tree is neither bound to a model file nor given weights")).ToFloats();

    /// <summary>The shape the bound file holds (a base model's may differ from the plan, e.g. fewer classes).</summary>
    public long[] BoundShape() => Layer.Data?.Param(Param)?.Shape ?? Shape;

    internal static long DimOf(ThincLayer layer, string name) =>
        layer.Dims.FirstOrDefault(d => d.Key == name).Value ?? throw new InvalidOperationException($"layer '{layer.Name}' has no dim '{name}' set");
}
