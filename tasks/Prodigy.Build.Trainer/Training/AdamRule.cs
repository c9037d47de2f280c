using System.Numerics;
using Prodigy.Build.Trainer.Configuration;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// thinc's Adam.v1 arithmetic on host floats, without TorchSharp: the step size and decay of a
/// parameter's t-th update, the clipping factor of a gradient norm, and the fused per-weight update.
/// <see cref="AdamOptimizer"/> (torch parameters) and <see cref="HostAdamOptimizer"/> (managed arrays)
/// both run it, so the two cannot drift apart.
/// </summary>
internal static class AdamRule
{
    /// <summary>Weights per parallel chunk; the norm is summed chunk by chunk in this order, so the same gradients give the same norm on every run.</summary>
    public const int Chunk = 1 << 15;

    /// <summary>The step size and decay of a parameter's <paramref name="step"/>-th update, as thinc's _adam computes them (in double).</summary>
    public static AdamUpdate For(LoopSettings loop, int step)
    {
        var fix1 = 1.0 - Math.Pow(loop.Beta1, step);
        var fix2 = 1.0 - Math.Pow(loop.Beta2, step);
        return new AdamUpdate(
            Scale: 1f,
            Beta1: (float)loop.Beta1,
            Beta2: (float)loop.Beta2,
            Eps: (float)loop.Eps,
            StepSize: (float)(loop.LearnRate * Math.Sqrt(fix2) / fix1),
            Decay: loop.L2IsWeightDecay ? (float)(loop.LearnRate * loop.L2) : 0f,
            GradientL2: loop.L2IsWeightDecay ? 0f : (float)loop.L2);
    }

    /// <summary>A slice of a parameter's weights or gradient, wherever they are stored (a managed array, a CPU tensor's memory).</summary>
    public delegate Span<float> Slice(int start, int count);

    /// <summary>
    /// A parameter's <paramref name="step"/>-th update, fused: the gradient's norm (for clipping), then
    /// each weight and its two moments read and written once, chunk by chunk in parallel. With
    /// <paramref name="clearGradient"/>, each chunk of the gradient is zeroed right after it is read,
    /// while it is still in the cache (a separate zeroing pass over every gradient cost more than a
    /// millisecond a step).
    /// </summary>
    public static void Step(LoopSettings loop, int step, int length, Slice weights, Slice gradient, float[] first, float[] second, bool clearGradient = false)
    {
        var update = For(loop, step);
        var chunks = (length + Chunk - 1) / Chunk;
        if (loop.GradClip > 0)
        {
            // With L2 as a gradient term, thinc clips the gradient after adding it.
            var l2 = update.GradientL2;
            var partial = new double[chunks];
            ForEachChunk(chunks, chunk =>
            {
                var start = chunk * Chunk;
                var count = Math.Min(Chunk, length - start);
                partial[chunk] = SquaredNorm(gradient(start, count), l2 == 0 ? [] : weights(start, count), l2);
            });

            var squared = 0.0;
            foreach (var value in partial)
            {
                squared += value;
            }

            update = update with { Scale = ClipScale(loop, Math.Sqrt(squared)) };
        }

        ForEachChunk(chunks, chunk =>
        {
            var start = chunk * Chunk;
            var count = Math.Min(Chunk, length - start);
            var slice = gradient(start, count);
            update.Apply(weights(start, count), slice, first.AsSpan(start, count), second.AsSpan(start, count));
            if (clearGradient)
            {
                slice.Clear();
            }
        });
    }

    // Most params (biases, layer norms, small layers) are one chunk: those run inline, since handing a
    // few hundred weights to the thread pool costs more than updating them. Either way each chunk is
    // computed alone and the partial norms are summed in chunk order, so the result is the same.
    private static void ForEachChunk(int chunks, Action<int> body)
    {
        if (chunks == 1)
        {
            body(0);
            return;
        }

        Parallel.For(0, chunks, body);
    }

    /// <summary>thinc's clip_gradient: the factor that brings a gradient of norm <paramref name="norm"/> to grad_clip once it reaches it.</summary>
    public static float ClipScale(LoopSettings loop, double norm) => norm >= loop.GradClip ? (float)(loop.GradClip / norm) : 1f;

    /// <summary>The squared norm of one chunk of the gradient, plus <paramref name="l2"/> times the weights when L2 is a gradient term (<paramref name="weights"/> empty otherwise).</summary>
    public static double SquaredNorm(ReadOnlySpan<float> gradient, ReadOnlySpan<float> weights, float l2)
    {
        if (weights.IsEmpty)
        {
            return SumOfSquares(gradient);
        }

        var sum = 0.0;
        for (var i = 0; i < gradient.Length; i++)
        {
            var g = gradient[i] + (l2 * weights[i]);
            sum += g * g;
        }

        return sum;
    }

    private static double SumOfSquares(ReadOnlySpan<float> values)
    {
        var accumulator = Vector<float>.Zero;
        var i = 0;
        for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(values[i..]);
            accumulator += v * v;
        }

        double sum = Vector.Sum(accumulator);
        for (; i < values.Length; i++)
        {
            sum += values[i] * values[i];
        }

        return sum;
    }
}

/// <summary>One parameter's Adam update: the clipping scale, the betas, eps, the bias-corrected step size, the decoupled decay and the L2 gradient term.</summary>
internal readonly record struct AdamUpdate(float Scale, float Beta1, float Beta2, float Eps, float StepSize, float Decay, float GradientL2)
{
    // thinc: g (+ L2 w), clipped; m1 = b1 m1 + (1 - b1) g; m2 = b2 m2 + (1 - b2) g g;
    // w += -lr_t * (m1 / (sqrt(m2) + eps)); then w -= lr L2 w (weight decay).
    public void Apply(Span<float> weights, ReadOnlySpan<float> gradients, Span<float> first, Span<float> second)
    {
        var i = 0;
        var width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var scale = new Vector<float>(Scale);
            var beta1 = new Vector<float>(Beta1);
            var beta2 = new Vector<float>(Beta2);
            var oneMinusBeta1 = new Vector<float>(1 - Beta1);
            var oneMinusBeta2 = new Vector<float>(1 - Beta2);
            var eps = new Vector<float>(Eps);
            var stepSize = new Vector<float>(-StepSize);
            var decay = new Vector<float>(Decay);
            var l2 = new Vector<float>(GradientL2);
            for (; i <= weights.Length - width; i += width)
            {
                var w = new Vector<float>(weights[i..]);
                var g = (new Vector<float>(gradients[i..]) + (l2 * w)) * scale;
                var m = (beta1 * new Vector<float>(first[i..])) + (oneMinusBeta1 * g);
                var v = (beta2 * new Vector<float>(second[i..])) + (oneMinusBeta2 * g * g);
                w += stepSize * (m / (Vector.SquareRoot(v) + eps));
                w -= decay * w;
                m.CopyTo(first[i..]);
                v.CopyTo(second[i..]);
                w.CopyTo(weights[i..]);
            }
        }

        for (; i < weights.Length; i++)
        {
            var w = weights[i];
            var g = (gradients[i] + (GradientL2 * w)) * Scale;
            var m = (Beta1 * first[i]) + ((1 - Beta1) * g);
            var v = (Beta2 * second[i]) + ((1 - Beta2) * g * g);
            w += -StepSize * (m / (MathF.Sqrt(v) + Eps));
            weights[i] = w - (Decay * w);
            first[i] = m;
            second[i] = v;
        }
    }
}
