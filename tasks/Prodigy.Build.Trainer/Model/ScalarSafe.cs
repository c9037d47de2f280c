using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// Tensor arithmetic that keeps its <see cref="Scalar"/> arguments alive for the whole native call.
/// TorchSharp 0.107 turns a number (and the implicit <c>alpha = 1</c> of <c>a + b</c>, <c>a - b</c>,
/// <c>index_add</c>) into a temporary <see cref="Scalar"/> whose last managed use is reading its handle:
/// a garbage collection started by any other thread during the call can then finalize it, and LibTorch
/// reads freed memory ("Expected false to be true ... Scalar.h", a training run killed at a random step).
/// Each helper holds its Scalars in a <c>using</c> until LibTorch returns; the training and inference
/// code uses these, never the operators with numbers.
/// </summary>
internal static class ScalarSafe
{
    /// <summary><c>a + b</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b)
    {
        using var one = 1.ToScalar();
        return a.add(b, one);
    }

    /// <summary><c>a - b</c> (TorchSharp's sub of two tensors takes no Scalar: kept here so the code reads alike).</summary>
    public static Tensor Minus(this Tensor a, Tensor b) => a.sub(b);

    /// <summary><c>a + alpha * b</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b, double alpha)
    {
        using var scalar = alpha.ToScalar();
        return a.add(b, scalar);
    }

    /// <summary><c>value / a</c>, element-wise.</summary>
    public static Tensor DividedInto(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        using var numerator = torch.full_like(a, scalar);
        return numerator.div(a);
    }

    /// <summary><c>a + value</c>.</summary>
    public static Tensor Plus(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        using var one = 1.ToScalar();
        return a.add(scalar, one);
    }

    /// <summary><c>a * value</c>.</summary>
    public static Tensor Times(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        return a.mul(scalar);
    }

    /// <summary><c>a / value</c>.</summary>
    public static Tensor DividedBy(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        return a.div(scalar);
    }

    /// <summary><c>value - a</c>, element-wise.</summary>
    public static Tensor SubtractedFrom(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        using var one = 1.ToScalar();
        // neg() is a new tensor; adding in place to it leaves a untouched.
        return a.neg().add_(scalar, one);
    }

    /// <summary><c>a.clamp_min(min)</c>.</summary>
    public static Tensor ClampMin(this Tensor a, double min)
    {
        using var low = min.ToScalar();
        return a.clamp_min(low);
    }

    /// <summary>A new tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    public static Tensor Full(long[] shape, double value, Device device, ScalarType dtype = ScalarType.Float32)
    {
        using var scalar = value.ToScalar();
        return torch.full(shape, scalar, dtype: dtype, device: device);
    }

    /// <summary><c>a &gt;= value</c>.</summary>
    public static Tensor AtLeast(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        return a.ge(scalar);
    }

    /// <summary><c>a ** exponent</c>.</summary>
    public static Tensor Power(this Tensor a, double exponent)
    {
        using var scalar = exponent.ToScalar();
        return a.pow(scalar);
    }

    /// <summary><c>a.clamp(min, max)</c>.</summary>
    public static Tensor ClampTo(this Tensor a, double min, double max)
    {
        using var low = min.ToScalar();
        using var high = max.ToScalar();
        return a.clamp(low, high);
    }

    /// <summary><c>a.clamp_max(max)</c>.</summary>
    public static Tensor AtMost(this Tensor a, double max)
    {
        using var high = max.ToScalar();
        return a.clamp_max(high);
    }

    /// <summary><c>a.index_add(dim, index, source)</c> (alpha 1).</summary>
    public static Tensor IndexAdd(this Tensor a, long dim, Tensor index, Tensor source)
    {
        using var one = 1.ToScalar();
        return a.index_add(dim, index, source, one);
    }

    /// <summary>In place: <c>a += alpha * b</c>.</summary>
    public static Tensor AddInPlace(this Tensor a, Tensor b, double alpha = 1)
    {
        using var scalar = alpha.ToScalar();
        return a.add_(b, scalar);
    }

    /// <summary>In place: <c>a += value</c>.</summary>
    public static Tensor AddInPlace(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        using var one = 1.ToScalar();
        return a.add_(scalar, one);
    }

    /// <summary>In place: <c>a /= value</c>.</summary>
    public static Tensor DivInPlace(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        return a.div_(scalar);
    }

    /// <summary>In place: <c>a *= value</c>.</summary>
    public static Tensor MulInPlace(this Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        return a.mul_(scalar);
    }

    /// <summary>In place: <c>a += value * t1 * t2</c>.</summary>
    public static Tensor AddcmulInPlace(this Tensor a, Tensor t1, Tensor t2, double value)
    {
        using var scalar = value.ToScalar();
        return a.addcmul_(t1, t2, scalar);
    }

    /// <summary>In place: <c>a += value * t1 / t2</c>.</summary>
    public static Tensor AddcdivInPlace(this Tensor a, Tensor t1, Tensor t2, double value)
    {
        using var scalar = value.ToScalar();
        return a.addcdiv_(t1, t2, scalar);
    }

    /// <summary><c>torch.arange(count)</c> of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor Arange(long count, ScalarType dtype, Device device)
    {
        using var start = 0.ToScalar();
        using var stop = count.ToScalar();
        using var step = 1.ToScalar();
        return torch.arange(start, stop, step, dtype, device);
    }
}
