namespace Prodigy.Build.Core.Text;

/// <summary>
/// numpy's global generator as thinc and spaCy draw from it (the legacy <c>numpy.random</c>
/// <c>RandomState</c>: MT19937 seeded by init_genrand, as <c>numpy.random.seed(int)</c> and so
/// spaCy's <c>fix_random_seed</c> seed it): <c>random_sample</c>, <c>uniform</c>, <c>normal</c> (the
/// legacy polar method, which keeps its second value for the next call) and thinc's
/// <c>get_dropout_mask</c>. Every initial weight thinc's initializers give and every dropout mask of a
/// CPU run come from this generator, so with the same seed and the same calls in the same order a
/// model starts, and drops, as spaCy's does.
/// </summary>
public sealed class NumpyRandom
{
    private readonly Mt19937 _generator = new();
    private double? _gauss;

    public NumpyRandom(uint seed) => Seed(seed);

    /// <summary><c>numpy.random.seed(seed)</c>: the state from init_genrand, no normal value kept.</summary>
    public void Seed(uint seed)
    {
        _generator.InitGenrand(seed);
        _gauss = null;
    }

    /// <summary><c>random_sample()</c>: a double in [0, 1) from 53 bits of two outputs.</summary>
    public double RandomSample() => _generator.NextDouble();

    /// <summary><c>uniform(low, high)</c>: <c>low + (high - low) * random_sample()</c>.</summary>
    public double Uniform(double low, double high) => low + ((high - low) * RandomSample());

    /// <summary>
    /// <c>standard_normal()</c> as <c>RandomState</c> draws it (legacy_gauss): Marsaglia's polar method,
    /// two uniforms in the unit disc giving two values, the second returned by the next call.
    /// </summary>
    public double StandardNormal()
    {
        if (_gauss is { } kept)
        {
            _gauss = null;
            return kept;
        }

        double x1, x2, r2;
        do
        {
            x1 = (2.0 * RandomSample()) - 1.0;
            x2 = (2.0 * RandomSample()) - 1.0;
            r2 = (x1 * x1) + (x2 * x2);
        }
        while (r2 >= 1.0 || r2 == 0.0);

        var f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        _gauss = f * x1;
        return f * x2;
    }

    /// <summary><c>uniform(low, high, size)</c> cast to float32 (what thinc's initializers store), in C order.</summary>
    public void FillUniform(Span<float> values, double low, double high)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)Uniform(low, high);
        }
    }

    /// <summary><c>normal(loc, scale, size)</c> cast to float32, in C order.</summary>
    public void FillNormal(Span<float> values, double loc, double scale)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(loc + (scale * StandardNormal()));
        }
    }

    /// <summary>Advances the generator past <paramref name="count"/> <c>random_sample</c> draws (what a mask of that many values takes).</summary>
    public void SkipSamples(long count)
    {
        for (var i = 0L; i < count; i++)
        {
            _generator.Next53Bits();
        }
    }

    /// <summary>Advances the generator as <see cref="FillDropoutMask"/> of <paramref name="count"/> values would, without the mask.</summary>
    public void SkipDropoutMask(long count, double drop)
    {
        if (drop > 0 && drop < 1)
        {
            SkipSamples(count);
        }
    }

    /// <summary>
    /// thinc's <c>Ops.get_dropout_mask(shape, drop)</c> over <paramref name="mask"/>'s values (C order):
    /// each <c>(uniform(0, 1) &gt;= drop) / (1 - drop)</c> as float32. A rate at or below zero is all ones
    /// and one at or above one all zeros, both without drawing, as thinc returns them.
    /// </summary>
    public void FillDropoutMask(Span<float> mask, double drop)
    {
        if (drop <= 0)
        {
            mask.Fill(1f);
            return;
        }

        if (drop >= 1)
        {
            mask.Clear();
            return;
        }

        // u >= drop on u = k / 2^53 is k >= ceil(drop * 2^53): the same decision without the division.
        var threshold = (ulong)Math.Ceiling(drop * 9007199254740992.0);
        _generator.FillThresholded(mask, threshold, (float)(1.0 / (1.0 - drop)));
    }
}
