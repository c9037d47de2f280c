using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Tests;

/// <summary>CPython's random.Random, checked against values CPython 3.11 prints.</summary>
public class PythonRandomTests
{
    [Fact]
    public void GetRandBitsMatchesPython()
    {
        // [random.Random(0).getrandbits(32) for _ in range(3)]
        var random = new PythonRandom(0);
        Assert.Equal([3626764237u, 1654615998u, 3255389356u], new[] { random.NextUInt32(), random.NextUInt32(), random.NextUInt32() });
    }

    [Fact]
    public void ShuffleMatchesPython()
    {
        // r = random.Random(0); l = list(range(10)); r.shuffle(l)
        var items = Enumerable.Range(0, 10).ToList();
        new PythonRandom(0).Shuffle(items);
        Assert.Equal([7, 8, 1, 5, 3, 4, 2, 0, 9, 6], items);
    }

    [Fact]
    public void RandomAndUniformMatchPython()
    {
        // random.seed(0); [random.random() for _ in range(3)], then random.uniform(50, 200) as Parser.update draws it
        var random = new PythonRandom(0);
        Assert.Equal([0.8444218515250481, 0.7579544029403025, 0.420571580830845], new[] { random.NextDouble(), random.NextDouble(), random.NextDouble() });
        Assert.Equal(50 + (150 * 0.25891675029296335), random.Uniform(50, 200));
    }

    [Fact]
    public void LargeSeedsUseAllTheirWords()
    {
        // random.Random(2**40 + 5).getrandbits(32)
        Assert.Equal(2166296868u, new PythonRandom((1L << 40) + 5).NextUInt32());
    }
}
