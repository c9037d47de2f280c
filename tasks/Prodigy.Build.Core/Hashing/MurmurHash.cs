using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Prodigy.Build.Core.Hashing;

/// <summary>
/// The MurmurHash variants spaCy and Prodigy use: MurmurHash64A (spaCy's <c>hash_string</c>, seed 1)
/// and MurmurHash3 x86 32-bit (Prodigy's <c>_input_hash</c> / <c>_task_hash</c>). Allocation-free;
/// blocks are read little-endian, as the reference implementations do on x86.
/// </summary>
public static class MurmurHash
{
    private const ulong M64 = 0xc6a4a7935bd1e995UL;
    private const int R64 = 47;

    /// <summary>MurmurHash64A (Austin Appleby's MurmurHash2 for 64-bit platforms).</summary>
    public static ulong Hash64A(ReadOnlySpan<byte> data, ulong seed = 1)
    {
        var length = data.Length;
        var h = seed ^ unchecked((ulong)length * M64);
        var blocks = length >> 3;
        var i = 0;
        for (; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i << 3, 8));
            unchecked
            {
                k *= M64;
                k ^= k >> R64;
                k *= M64;
                h ^= k;
                h *= M64;
            }
        }

        var tail = data[(blocks << 3)..];
        if (!tail.IsEmpty)
        {
            ulong t = 0;
            for (var j = tail.Length - 1; j >= 0; j--)
            {
                t = (t << 8) | tail[j];
            }

            h ^= t;
            h = unchecked(h * M64);
        }

        unchecked
        {
            h ^= h >> R64;
            h *= M64;
            h ^= h >> R64;
        }

        return h;
    }

    /// <summary>MurmurHash3 x86 32-bit. Prodigy (via the <c>mmh3</c>/<c>murmurhash</c> packages) reads the result as a signed int.</summary>
    public static uint Hash3X86_32(ReadOnlySpan<byte> data, uint seed = 0)
    {
        const uint c1 = 0xcc9e2d51;
        const uint c2 = 0x1b873593;
        var h = seed;
        var blocks = data.Length >> 2;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i << 2, 4));
            h = MixBlock(h, k);
        }

        var tail = data[(blocks << 2)..];
        if (!tail.IsEmpty)
        {
            uint k = 0;
            for (var j = tail.Length - 1; j >= 0; j--)
            {
                k = (k << 8) | tail[j];
            }

            unchecked
            {
                k *= c1;
                k = BitOperations.RotateLeft(k, 15);
                k *= c2;
                h ^= k;
            }
        }

        h ^= (uint)data.Length;
        return FMix32(h);
    }

    /// <summary>
    /// MurmurHash3 x86 32-bit of one little-endian uint64 key: thinc's <c>SparseLinear</c> hashes each
    /// n-gram key this way (seeds 0 and 1) to find its two weight rows. Equal to
    /// <see cref="Hash3X86_32(ReadOnlySpan{byte}, uint)"/> over the key's 8 bytes, without the span.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash3X86_32(ulong key, uint seed)
    {
        var h = MixBlock(MixBlock(seed, (uint)key), (uint)(key >> 32));
        h ^= 8;
        return FMix32(h);
    }

    /// <summary>
    /// MurmurHash3's x64 128-bit variant over one 8-byte little-endian key, as four uint32 words (low
    /// and high halves of h1, then of h2): thinc's <c>ops.hash(ids, seed)</c> (its C function is named
    /// <c>MurmurHash3_x86_128_uint64</c> but computes the x64 variant), which gives each token its four
    /// rows of a HashEmbed table.
    /// </summary>
    public static void Hash3X64_128(ulong key, uint seed, Span<uint> output)
    {
        const ulong c1 = 0x87c37b91114253d5UL;
        const ulong c2 = 0x4cf5ad432745937fUL;
        unchecked
        {
            // An 8-byte input has no 16-byte block: only the tail word k1, then the length (8).
            var h1 = (ulong)seed ^ (BitOperations.RotateLeft(key * c1, 31) * c2) ^ 8;
            var h2 = (ulong)seed ^ 8;
            h1 += h2;
            h2 += h1;
            h1 = FMix64(h1);
            h2 = FMix64(h2);
            h1 += h2;
            h2 += h1;
            output[0] = (uint)h1;
            output[1] = (uint)(h1 >> 32);
            output[2] = (uint)h2;
            output[3] = (uint)(h2 >> 32);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong FMix64(ulong k)
    {
        unchecked
        {
            k ^= k >> 33;
            k *= 0xff51afd7ed558ccdUL;
            k ^= k >> 33;
            k *= 0xc4ceb9fe1a85ec53UL;
            return k ^ (k >> 33);
        }
    }

    // One 4-byte block of MurmurHash3 x86 32-bit's body.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint MixBlock(uint h, uint k)
    {
        unchecked
        {
            k *= 0xcc9e2d51;
            k = BitOperations.RotateLeft(k, 15);
            k *= 0x1b873593;
            h ^= k;
            h = BitOperations.RotateLeft(h, 13);
            return h * 5 + 0xe6546b64;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint FMix32(uint h)
    {
        unchecked
        {
            h ^= h >> 16;
            h *= 0x85ebca6b;
            h ^= h >> 13;
            h *= 0xc2b2ae35;
            h ^= h >> 16;
        }

        return h;
    }
}
