using Prodigy.Build.Trainer.Model;

namespace Prodigy.Build.Trainer.Tests;

public class BiluoCrfTests
{
    private const int Tags = 9; // O + two labels

    [Theory]
    [InlineData(new[] { 0, 1, 3, 0, 8 })]
    [InlineData(new[] { -1, 1, -1, -1, 0 })]
    [InlineData(new[] { -1, -1, -1, -1, -1 })]
    public void Gradients_MatchFiniteDifferences(int[] gold)
    {
        var random = new Random(3);
        var length = gold.Length;
        var emissions = Enumerable.Range(0, length * Tags).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var transitions = Enumerable.Range(0, Tags * Tags).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var emissionGradient = new float[emissions.Length];
        var gradients = new BiluoCrf.Gradients(Tags);
        Assert.True(BiluoCrf.Accumulate(emissions, gold, length, Tags, transitions, emissionGradient, gradients, 1f));

        double Loss(float[] e, float[] a)
        {
            var g = new BiluoCrf.Gradients(Tags);
            BiluoCrf.Accumulate(e, gold, length, Tags, a, new float[e.Length], g, 1f);
            return g.Loss;
        }

        AssertFiniteDifferences("emission", emissions, e => Loss(e, transitions), emissionGradient.Select(g => (double)g).ToArray());
        AssertFiniteDifferences("transition", transitions, a => Loss(emissions, a), gradients.Transitions);
    }

    private static void AssertFiniteDifferences(string what, float[] values, Func<float[], double> loss, double[] analytic)
    {
        const float h = 1e-2f;
        for (var i = 0; i < values.Length; i++)
        {
            var plus = (float[])values.Clone();
            var minus = (float[])values.Clone();
            plus[i] += h;
            minus[i] -= h;
            var numeric = (loss(plus) - loss(minus)) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) < 1e-3, $"{what} {i}: numeric {numeric}, analytic {analytic[i]}");
        }
    }

    [Fact]
    public void A_sentence_without_annotation_gives_no_loss_and_no_gradient()
    {
        var random = new Random(5);
        var emissions = Enumerable.Range(0, 4 * Tags).Select(_ => (float)random.NextDouble()).ToArray();
        var transitions = Enumerable.Range(0, Tags * Tags).Select(_ => (float)random.NextDouble()).ToArray();
        var emissionGradient = new float[emissions.Length];
        var gradients = new BiluoCrf.Gradients(Tags);

        Assert.True(BiluoCrf.Accumulate(emissions, [-1, -1, -1, -1], 4, Tags, transitions, emissionGradient, gradients, 1f));

        Assert.Equal(0, gradients.Loss, 9);
        Assert.All(emissionGradient, g => Assert.Equal(0, g, 6));
        Assert.All(gradients.Transitions, g => Assert.Equal(0, g, 6));
    }

    [Fact]
    public void Decode_yields_only_valid_entities_even_when_each_token_prefers_an_invalid_tag()
    {
        // Token 0 prefers B of label 0, token 1 prefers O: B then O is invalid. Token 2 prefers L of label 1
        // without a B. The best valid path is found instead: here U of label 0, then O, O.
        var emissions = new float[3 * Tags];
        emissions[(0 * Tags) + Biluo.Begin(0)] = 5;
        emissions[(0 * Tags) + Biluo.Unit(0)] = 4;
        emissions[(1 * Tags) + Biluo.Outside] = 5;
        emissions[(2 * Tags) + Biluo.Last(1)] = 5;
        emissions[(2 * Tags) + Biluo.Outside] = 1;

        var entities = BiluoCrf.Decode(emissions, 3, Tags, new float[Tags * Tags]);

        Assert.Equal([(0, 1, 0)], entities);
    }

    [Fact]
    public void Decode_follows_the_transition_scores()
    {
        // Equal tag scores; a strong B->L transition of label 1 makes a two-token entity the best path.
        var transitions = new float[Tags * Tags];
        transitions[(Biluo.Begin(1) * Tags) + Biluo.Last(1)] = 10;

        var entities = BiluoCrf.Decode(new float[2 * Tags], 2, Tags, transitions);

        Assert.Equal([(0, 2, 1)], entities);
    }
}
