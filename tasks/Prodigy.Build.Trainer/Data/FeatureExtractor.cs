using System.Buffers.Binary;
using Prodigy.Build.Core.Hashing;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Trainer.Data;

/// <summary>
/// Hashed embedding rows of each token, as spaCy's MultiHashEmbed picks them: the attribute's string
/// hash (spaCy's 64-bit string id) hashed again with four seeds per table into the table's rows, so
/// that two words share all four rows only by a rare accident. Also the n-gram buckets of the
/// bag-of-words text classifier.
/// </summary>
public sealed class FeatureExtractor(IReadOnlyList<string> attrs, IReadOnlyList<int> rows)
{
    public const int HashesPerAttr = 4;

    /// <summary>Buckets of the bag-of-words n-gram table (spaCy's TextCatBOW uses 2^18 as well).</summary>
    public const int NgramBuckets = 1 << 18;

    public IReadOnlyList<string> Attrs { get; } = attrs;

    public IReadOnlyList<int> Rows { get; } = rows;

    /// <summary>Row ids per attribute: <c>ids[a][token * 4 + k]</c>.</summary>
    public long[][] TokenRows(Example example)
    {
        var ids = new long[Attrs.Count][];
        for (var a = 0; a < Attrs.Count; a++)
        {
            ids[a] = new long[example.Length * HashesPerAttr];
            for (var t = 0; t < example.Length; t++)
            {
                var key = SpacyStrings.HashString(AttributeText(Attrs[a], example.Words[t], example.Norms[t]));
                for (var k = 0; k < HashesPerAttr; k++)
                {
                    ids[a][(t * HashesPerAttr) + k] = Bucket(key, (uint)((a * HashesPerAttr) + k + 1), Rows[a]);
                }
            }
        }

        return ids;
    }

    /// <summary>Bucket ids of the doc's lowercase 1..n-grams.</summary>
    public static long[] NgramRows(Example example, int ngramSize)
    {
        var keys = new ulong[example.Length];
        for (var t = 0; t < example.Length; t++)
        {
            keys[t] = SpacyStrings.HashString(PythonText.Lower(example.Words[t]));
        }

        var result = new List<long>(example.Length * ngramSize);
        for (var n = 1; n <= ngramSize; n++)
        {
            for (var start = 0; start + n <= keys.Length; start++)
            {
                var key = keys[start];
                for (var k = 1; k < n; k++)
                {
                    key = (key * 0x100000001B3UL) ^ keys[start + k];
                }

                result.Add(Bucket(key, (uint)(100 + n), NgramBuckets));
            }
        }

        return [.. result];
    }

    private static string AttributeText(string attr, string word, string norm) => attr switch
    {
        "NORM" => norm,
        "LOWER" => PythonText.Lower(word),
        "ORTH" => word,
        "PREFIX" => LexicalAttributes.Prefix(word),
        "SUFFIX" => LexicalAttributes.Suffix(word),
        "SHAPE" => LexicalAttributes.Shape(word),
        _ => throw new ArgumentException($"attribute {attr} is not embedded", nameof(attr)),
    };

    private static long Bucket(ulong key, uint seed, int rows)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, key);
        return MurmurHash.Hash3X86_32(bytes, seed) % (uint)rows;
    }
}
