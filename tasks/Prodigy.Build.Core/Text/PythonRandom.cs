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
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index = N + 1;

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

        InitByArray(key);
    }

    private void InitGenrand(uint seed)
    {
        _state[0] = seed;
        for (var i = 1; i < N; i++)
        {
            _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        }

        _index = N;
    }

    private void InitByArray(List<uint> key)
    {
        InitGenrand(19650218u);
        int i = 1, j = 0;
        for (var k = Math.Max(N, key.Count); k > 0; k--)
        {
            _state[i] = (_state[i] ^ ((_state[i - 1] ^ (_state[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j;
            i++;
            j++;
            if (i >= N)
            {
                _state[0] = _state[N - 1];
                i = 1;
            }

            if (j >= key.Count)
            {
                j = 0;
            }
        }

        for (var k = N - 1; k > 0; k--)
        {
            _state[i] = (_state[i] ^ ((_state[i - 1] ^ (_state[i - 1] >> 30)) * 1566083941u)) - (uint)i;
            i++;
            if (i >= N)
            {
                _state[0] = _state[N - 1];
                i = 1;
            }
        }

        _state[0] = 0x80000000u;
    }

    /// <summary>The next 32-bit output of the generator (genrand_uint32).</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
        {
            for (var k = 0; k < N; k++)
            {
                var y = (_state[k] & 0x80000000u) | (_state[(k + 1) % N] & 0x7FFFFFFFu);
                _state[k] = _state[(k + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908B0DFu : 0u);
            }

            _index = 0;
        }

        var value = _state[_index++];
        value ^= value >> 11;
        value ^= (value << 7) & 0x9D2C5680u;
        value ^= (value << 15) & 0xEFC60000u;
        value ^= value >> 18;
        return value;
    }

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
    public double NextDouble()
    {
        var high = NextUInt32() >> 5;
        var low = NextUInt32() >> 6;
        return ((high * 67108864.0) + low) * (1.0 / 9007199254740992.0);
    }

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
