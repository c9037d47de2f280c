using System.Runtime.Intrinsics;

namespace Prodigy.Build.Core.Text;

/// <summary>
/// The Mersenne Twister both Python's <c>random</c> and numpy's legacy <c>numpy.random</c> draw from
/// (MT19937, the reference code's <c>init_genrand</c>, <c>init_by_array</c> and <c>genrand_int32</c>);
/// they differ only in how an int seeds it, which <see cref="PythonRandom"/> and
/// <see cref="NumpyRandom"/> say.
/// </summary>
internal sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];

    // The tempered outputs of the current state, made 624 at a time: a dropout mask of a batch takes a
    // million of them, and a whole block twists and tempers eight words per instruction.
    private readonly uint[] _outputs = new uint[N];
    private int _index = N + 1;

    /// <summary>init_genrand: numpy's <c>RandomState.seed(int)</c>.</summary>
    public void InitGenrand(uint seed)
    {
        _state[0] = seed;
        for (var i = 1; i < N; i++)
        {
            _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + (uint)i;
        }

        _index = N;
    }

    /// <summary>init_by_array: Python's <c>random.seed(int)</c>, over the 32-bit words of the int.</summary>
    public void InitByArray(IReadOnlyList<uint> key)
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

    /// <summary>The next 32-bit output (genrand_int32).</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
        {
            Refill();
        }

        return _outputs[_index++];
    }

    /// <summary>A double in [0, 1) from 53 bits of two outputs: Python's <c>random()</c> and numpy's <c>random_sample</c>.</summary>
    public double NextDouble() => Next53Bits() * (1.0 / 9007199254740992.0);

    /// <summary>The 53-bit integer <see cref="NextDouble"/> scales: (a &gt;&gt; 5) * 2^26 + (b &gt;&gt; 6).</summary>
    public ulong Next53Bits()
    {
        ulong high = NextUInt32() >> 5;
        ulong low = NextUInt32() >> 6;
        return (high << 26) | low;
    }

    /// <summary>
    /// For each value of <paramref name="mask"/>, <see cref="Next53Bits"/> at or above
    /// <paramref name="threshold"/> gives <paramref name="keep"/>, else zero: the same draws, straight
    /// from the block of outputs.
    /// </summary>
    public void FillThresholded(Span<float> mask, ulong threshold, float keep)
    {
        var i = 0;
        while (i < mask.Length)
        {
            if (_index >= N)
            {
                Refill();
            }

            if ((_index & 1) != 0)
            {
                // A pair that straddles two blocks.
                mask[i++] = Next53Bits() >= threshold ? keep : 0f;
                continue;
            }

            var outputs = _outputs;
            var index = _index;
            var pairs = Math.Min((N - index) / 2, mask.Length - i);
            var target = mask.Slice(i, pairs);
            for (var p = 0; p < target.Length; p++)
            {
                var bits = ((ulong)(outputs[index] >> 5) << 26) | (outputs[index + 1] >> 6);
                target[p] = bits >= threshold ? keep : 0f;
                index += 2;
            }

            _index = index;
            i += pairs;
        }
    }

    // genrand_int32's twist of the whole state, then its tempering of every word. The twist's first
    // N - M words read words not yet twisted, the rest words twisted at least eight before: both go eight
    // at a time, in the reference order.
    private void Refill()
    {
        var state = _state;
        var k = 0;
        for (; k + 8 <= N - M; k += 8)
        {
            TwistEight(state, k, k + M);
        }

        for (; k < N - M; k++)
        {
            state[k] = Twisted(state[k], state[k + 1], state[k + M]);
        }

        for (; k + 8 <= N - 1; k += 8)
        {
            TwistEight(state, k, k + M - N);
        }

        for (; k < N - 1; k++)
        {
            state[k] = Twisted(state[k], state[k + 1], state[k + M - N]);
        }

        state[N - 1] = Twisted(state[N - 1], state[0], state[M - 1]);

        var outputs = _outputs;
        var i = 0;
        for (; i + 8 <= N; i += 8)
        {
            var y = Vector256.Create<uint>(state.AsSpan(i, 8));
            y ^= Vector256.ShiftRightLogical(y, 11);
            y ^= Vector256.ShiftLeft(y, 7) & Vector256.Create(0x9D2C5680u);
            y ^= Vector256.ShiftLeft(y, 15) & Vector256.Create(0xEFC60000u);
            y ^= Vector256.ShiftRightLogical(y, 18);
            y.CopyTo(outputs.AsSpan(i, 8));
        }

        _index = 0;
    }

    private static uint Twisted(uint current, uint next, uint far)
    {
        var y = (current & 0x80000000u) | (next & 0x7FFFFFFFu);
        return far ^ (y >> 1) ^ ((0u - (y & 1)) & 0x9908B0DFu);
    }

    private static void TwistEight(uint[] state, int k, int far)
    {
        var current = Vector256.Create<uint>(state.AsSpan(k, 8));
        var next = Vector256.Create<uint>(state.AsSpan(k + 1, 8));
        var distant = Vector256.Create<uint>(state.AsSpan(far, 8));
        var y = (current & Vector256.Create(0x80000000u)) | (next & Vector256.Create(0x7FFFFFFFu));
        var odd = Vector256<uint>.Zero - (y & Vector256<uint>.One);
        (distant ^ Vector256.ShiftRightLogical(y, 1) ^ (odd & Vector256.Create(0x9908B0DFu))).CopyTo(state.AsSpan(k, 8));
    }
}
