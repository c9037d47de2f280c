using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Tests;

/// <summary>numpy's legacy global generator, checked against values numpy prints.</summary>
public class NumpyRandomTests
{
    [Fact]
    public void RandomSampleMatchesNumpy()
    {
        // numpy.random.seed(0); numpy.random.rand(3); then seed(42): rand(3)
        var random = new NumpyRandom(0);
        Assert.Equal([0.5488135039273248, 0.7151893663724195, 0.6027633760716439], new[] { random.RandomSample(), random.RandomSample(), random.RandomSample() });
        random.Seed(42);
        Assert.Equal([0.3745401188473625, 0.9507143064099162, 0.7319939418114051], new[] { random.RandomSample(), random.RandomSample(), random.RandomSample() });
    }

    [Fact]
    public void NormalMatchesNumpys_polar_method_and_keeps_the_second_value()
    {
        // numpy.random.seed(0); numpy.random.randn(5): the pairs come out second value first.
        var random = new NumpyRandom(0);
        double[] expected = [1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458, 1.8675579901499675];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], random.StandardNormal(), 14);
        }

        // seed(42); randn(4)
        random.Seed(42);
        double[] seeded = [0.4967141530112327, -0.13826430117118466, 0.6476885381006925, 1.5230298564080254];
        for (var i = 0; i < seeded.Length; i++)
        {
            Assert.Equal(seeded[i], random.StandardNormal(), 14);
        }
    }

    [Fact]
    public void Seeding_forgets_a_kept_normal_value()
    {
        var random = new NumpyRandom(0);
        random.StandardNormal();
        random.Seed(0);
        Assert.Equal(1.764052345967664, random.StandardNormal(), 14);
    }

    [Fact]
    public void Arrays_draw_in_C_order_as_float32()
    {
        // uniform(-0.1, 0.1, (2, 2)).astype("float32") after seed(0), as thinc's uniform_init draws a table.
        var values = new float[4];
        new NumpyRandom(0).FillUniform(values, -0.1, 0.1);
        var reference = new NumpyRandom(0);
        Assert.Equal(Enumerable.Range(0, 4).Select(_ => (float)(-0.1 + (0.2 * reference.RandomSample()))), values);
        Assert.Equal((float)(-0.1 + (0.2 * 0.5488135039273248)), values[0]);
    }

    [Fact]
    public void Dropout_masks_are_thincs_get_dropout_mask()
    {
        // (uniform(0, 1, shape) >= drop) / (1 - drop), as float32; seed 0 draws 0.549, 0.715, 0.603, 0.545, 0.424, ...
        var mask = new float[5];
        new NumpyRandom(0).FillDropoutMask(mask, 0.55);
        var keep = (float)(1 / 0.45);
        Assert.Equal([0f, keep, keep, 0f, 0f], mask);

        // Over many values, the kept share is 1 - drop, and the draws are those of random_sample.
        var large = new float[100_000];
        new NumpyRandom(7).FillDropoutMask(large, 0.1);
        var samples = new NumpyRandom(7);
        Assert.All(large, m => Assert.Equal(samples.RandomSample() >= 0.1 ? (float)(1 / 0.9) : 0f, m));
        Assert.InRange(large.Count(m => m > 0) / (double)large.Length, 0.895, 0.905);
    }

    [Fact]
    public void Skipping_samples_leaves_the_generator_where_drawing_them_does()
    {
        // 1,001 samples cross the 624-word blocks at an odd place.
        var skipped = new NumpyRandom(9);
        skipped.SkipSamples(1001);
        var drawn = new NumpyRandom(9);
        for (var i = 0; i < 1001; i++)
        {
            drawn.RandomSample();
        }

        Assert.Equal(drawn.RandomSample(), skipped.RandomSample());
    }

    [Fact]
    public void A_rate_of_zero_or_one_draws_nothing()
    {
        var random = new NumpyRandom(0);
        var mask = new float[3];
        random.FillDropoutMask(mask, 0);
        Assert.Equal([1f, 1f, 1f], mask);
        random.FillDropoutMask(mask, 1);
        Assert.Equal([0f, 0f, 0f], mask);
        Assert.Equal(0.5488135039273248, random.RandomSample());
    }
}
