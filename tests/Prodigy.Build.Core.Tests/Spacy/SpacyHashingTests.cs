using System.Globalization;
using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Hashing;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Spacy;

public sealed class SpacyHashingTests
{
    private static string StringsFolder => Path.Combine(SharedData.Root, "spacy", "strings");

    private static IEnumerable<string[]> Rows(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(StringsFolder, file), Encoding.UTF8);
        Assert.True(lines.Length > 10, file + " has no rows");
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t'));
    }

    private static string ParseJsonString(string literal) => JsonStrings.GetString(JsonDocument.Parse(literal).RootElement);

    [Fact]
    public void Hash64A_MatchesSpacysHashString_ForEveryRow()
    {
        var count = 0;
        foreach (var row in Rows("murmurhash64a.tsv"))
        {
            var text = ParseJsonString(row[0]);
            var expected = ulong.Parse(row[1], CultureInfo.InvariantCulture);
            var utf8 = Encoding.UTF8.GetBytes(text);
            Assert.Equal(int.Parse(row[2], CultureInfo.InvariantCulture), utf8.Length);
            Assert.True(expected == MurmurHash.Hash64A(utf8), $"{row[0]}: expected {expected}, got {MurmurHash.Hash64A(utf8)}");
            Assert.Equal(expected, SpacyStrings.HashString(text));
            count++;
        }

        Assert.Equal(529, count);
    }

    [Fact]
    public void StringIds_MatchVocabStrings_AndHashString_ForEveryRow()
    {
        var count = 0;
        var cache = new SpacyStrings();
        foreach (var row in Rows("strings_vs_symbols.tsv"))
        {
            var text = ParseJsonString(row[0]);
            var vocab = ulong.Parse(row[3], CultureInfo.InvariantCulture);
            var hash = ulong.Parse(row[4], CultureInfo.InvariantCulture);
            Assert.True(vocab == SpacyStrings.GetId(text), $"{row[0]}: vocab.strings {vocab}, got {SpacyStrings.GetId(text)}");
            Assert.Equal(vocab, cache.Add(text));
            Assert.Equal(vocab, cache.Add(text));
            Assert.Equal(hash, SpacyStrings.HashString(text));
            Assert.Equal(row[1] == "yes", SpacyStrings.TryGetSymbol(text, out var symbol));
            if (row[1] == "yes")
            {
                Assert.Equal(int.Parse(row[2], CultureInfo.InvariantCulture), symbol);
            }

            count++;
        }

        Assert.True(count > 20);
    }

    [Fact]
    public void SymbolAndAttributeTables_MatchSpacy()
    {
        var symbols = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(StringsFolder, "symbols.json"))).RootElement.EnumerateObject().ToList();
        Assert.Equal(symbols.Count, SpacyStrings.SymbolCount);
        foreach (var symbol in symbols)
        {
            Assert.True(SpacyStrings.TryGetSymbolName((ulong)symbol.Value.GetInt32(), out var name));
            Assert.Equal(symbol.Name, name);
            Assert.Equal((ulong)symbol.Value.GetInt32(), SpacyStrings.GetId(symbol.Name));
        }

        foreach (var attr in JsonDocument.Parse(File.ReadAllBytes(Path.Combine(StringsFolder, "attrs.json"))).RootElement.EnumerateObject())
        {
            Assert.True(SpacyStrings.TryGetAttributeId(attr.Name, out var id), attr.Name);
            Assert.Equal(attr.Value.GetInt32(), id);
        }
    }

    [Fact]
    public void Empty_IsZero_ButHashStringIsNot()
    {
        Assert.Equal(0UL, SpacyStrings.GetId(""));
        Assert.Equal(14313749767032693980UL, SpacyStrings.HashString(""));
        Assert.Equal(14313749767032693980UL, MurmurHash.Hash64A([]));
    }

    [Fact]
    public void ProdigyInputHash_OfText()
    {
        // Prodigy: murmurhash3 x86 32-bit (seed 0, signed) of 'text=' + json.dumps(text).
        var builder = new StringBuilder("text=");
        ProdigyHashes.AppendPythonJsonString(builder, "hi my name is 0");
        Assert.Equal("text=\"hi my name is 0\"", builder.ToString());
        Assert.Equal(-784135307, unchecked((int)MurmurHash.Hash3X86_32(Encoding.UTF8.GetBytes(builder.ToString()))));
        Assert.Equal(-784135307, ProdigyHashes.InputHash("hi my name is 0"));
    }

    [Theory]
    // Reference values of MurmurHash3_x86_32 (the SMHasher test vectors).
    [InlineData("", 0u, 0u)]
    [InlineData("", 1u, 0x514E28B7u)]
    [InlineData("", 0xffffffffu, 0x81F16F39u)]
    [InlineData("\0\0\0\0", 0u, 0x2362F9DEu)]
    [InlineData("aaaa", 0x9747b28cu, 0x5A97808Au)]
    [InlineData("aaa", 0x9747b28cu, 0x283E0130u)]
    [InlineData("aa", 0x9747b28cu, 0x5D211726u)]
    [InlineData("a", 0x9747b28cu, 0x7FA09EA6u)]
    [InlineData("abcd", 0x9747b28cu, 0xF0478627u)]
    [InlineData("Hello, world!", 0x9747b28cu, 0x24884CBAu)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x9747b28cu, 0x2FA826CDu)]
    public void Hash3X86_32_MatchesReferenceVectors(string input, uint seed, uint expected) =>
        Assert.Equal(expected, MurmurHash.Hash3X86_32(Encoding.UTF8.GetBytes(input), seed));

    [Fact]
    public void PythonJsonAscii_EscapesLikeJsonDumps()
    {
        var builder = new StringBuilder();
        ProdigyHashes.AppendPythonJsonString(builder, "é\"\\\n\u007f\U0001F600/");
        Assert.Equal("\"\\u00e9\\\"\\\\\\n\\u007f\\ud83d\\ude00/\"", builder.ToString());
    }
}
