namespace Prodigy.Build.Core.Text;

/// <summary>
/// CPython's <c>random.Random</c> (MT19937, seeded as <c>random.Random(int)</c> seeds it) for the
/// operations a train/evaluation split and spaCy's training loop need: <c>getrandbits</c>, <c>random</c>,
/// <c>uniform</c> and <c>shuffle</c>. With the same seed it yields the same numbers as Python, so a split
/// made here equals one made by Prodigy tooling, and a training run shuffles its examples (and cuts its
/// parser's documents) in the order <c>spacy train</c> does after <c>fix_random_seed</c>.
/// </summary>
public sealed class PythonRandom
{
    private readonly Mt19937 _generator = new();

    /// <summary>Seeds as <c>random.Random(seed)</c> does for an int: init_by_array over the 32-bit words of |seed|.</summary>
    public PythonRandom(long seed)
    {
        var magnitude = (ulong)Math.Abs(seed);
        var key = new List<uint>();
        do
        {
            key.Add((uint)(magnitude & 0xFFFFFFFF));
            magnitude >>= 32;
        }
        while (magnitude != 0);

        _generator.InitByArray(key);
    }

    /// <summary>The next 32-bit output of the generator (genrand_uint32).</summary>
    public uint NextUInt32() => _generator.NextUInt32();

    /// <summary>Python's <c>getrandbits(k)</c> for 1 &lt;= k &lt;= 32.</summary>
    public uint GetRandBits(int bits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 32);
        return NextUInt32() >> (32 - bits);
    }

    // Python's _randbelow_with_getrandbits.
    private int RandBelow(int n)
    {
        var bits = 32 - int.LeadingZeroCount(n);
        var r = GetRandBits(bits);
        while (r >= (uint)n)
        {
            r = GetRandBits(bits);
        }

        return (int)r;
    }

    /// <summary>Python's <c>random()</c>: a double in [0, 1) from 53 bits of two outputs (random_random).</summary>
    public double NextDouble() => _generator.NextDouble();

    /// <summary>Python's <c>uniform(a, b)</c>: <c>a + (b - a) * random()</c>.</summary>
    public double Uniform(double a, double b) => a + ((b - a) * NextDouble());

    /// <summary>Python's <c>shuffle(x)</c>, in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = RandBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
