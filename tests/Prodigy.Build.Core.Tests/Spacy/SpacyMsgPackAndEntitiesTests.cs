using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Core.Tests.Spacy;

public sealed class SpacyMsgPackAndEntitiesTests
{
    private static string Hex(Action<MsgPackWriter> write)
    {
        var w = new MsgPackWriter();
        write(w);
        return Convert.ToHexString(w.WrittenSpan).ToLowerInvariant();
    }

    [Theory]
    [InlineData(0L, "00")]
    [InlineData(127L, "7f")]
    [InlineData(128L, "cc80")]
    [InlineData(255L, "ccff")]
    [InlineData(256L, "cd0100")]
    [InlineData(65535L, "cdffff")]
    [InlineData(65536L, "ce00010000")]
    [InlineData(4294967296L, "cf0000000100000000")]
    [InlineData(-1L, "ff")]
    [InlineData(-32L, "e0")]
    [InlineData(-33L, "d0df")]
    [InlineData(-128L, "d080")]
    [InlineData(-129L, "d1ff7f")]
    [InlineData(-32769L, "d2ffff7fff")]
    [InlineData(-2147483649L, "d3ffffffff7fffffff")]
    public void Integers_UseTheSmallestForm(long value, string hex) => Assert.Equal(hex, Hex(w => w.WriteInt64(value)));

    [Fact]
    public void Headers_SwitchWidthsLikeMsgpackPython()
    {
        Assert.Equal("cb3ff0000000000000", Hex(w => w.WriteDouble(1.0)));
        Assert.Equal("cb3ff0000000000000", Hex(w => w.WriteValue(1.0f)));
        Assert.Equal("cfffffffffffffffff", Hex(w => w.WriteUInt64(ulong.MaxValue)));
        Assert.Equal("c0c3c2", Hex(w => { w.WriteNil(); w.WriteBoolean(true); w.WriteBoolean(false); }));
        Assert.StartsWith("bf", Hex(w => w.WriteString(new string('x', 31))));
        Assert.StartsWith("d920", Hex(w => w.WriteString(new string('x', 32))));
        Assert.StartsWith("da0100", Hex(w => w.WriteString(new string('x', 256))));
        Assert.StartsWith("db00010000", Hex(w => w.WriteString(new string('x', 65536))));
        Assert.StartsWith("d920", Hex(w => w.WriteString(new string('é', 16))));
        Assert.Equal("c400", Hex(w => w.WriteBinary([])));
        Assert.StartsWith("c50100", Hex(w => w.WriteBinary(new byte[256])));
        Assert.StartsWith("c600010000", Hex(w => w.WriteBinary(new byte[65536])));
        Assert.Equal("9f", Hex(w => w.WriteArrayHeader(15)));
        Assert.Equal("dc0010", Hex(w => w.WriteArrayHeader(16)));
        Assert.Equal("dd00010000", Hex(w => w.WriteArrayHeader(65536)));
        Assert.Equal("8f", Hex(w => w.WriteMapHeader(15)));
        Assert.Equal("de0010", Hex(w => w.WriteMapHeader(16)));
        Assert.Equal("df00010000", Hex(w => w.WriteMapHeader(65536)));
        // A tuple key and nested containers.
        Assert.Equal("8192a3612e5fc0a178", Hex(w => w.WriteValue(new List<KeyValuePair<object, object?>> { new(new object?[] { "a._", null }, "x") })));
    }

    [Fact]
    public void WriterOutput_DecodesBack()
    {
        var value = new List<KeyValuePair<object?, object?>>
        {
            new("n", -3L), new("big", 300L), new("f", 0.5), new("s", "héllo"), new("b", new byte[] { 1, 2 }), new("l", new List<object?> { 1L, "a", null, true }),
        };
        var w = new MsgPackWriter();
        w.WriteValue(value);
        var decoded = (List<KeyValuePair<object?, object?>>)MsgPackReader.Decode(w.ToArray())!;
        Assert.Equal(value.Select(p => p.Key), decoded.Select(p => p.Key));
        Assert.Equal(-3L, decoded[0].Value);
        Assert.Equal(300L, decoded[1].Value);
        Assert.Equal(0.5, decoded[2].Value);
        Assert.Equal("héllo", decoded[3].Value);
        Assert.Equal(new byte[] { 1, 2 }, decoded[4].Value);
        Assert.Equal(new List<object?> { 1L, "a", null, true }, decoded[5].Value);
    }

    [Fact]
    public void FromIobTags_RewritesIob1LikeSpacysDocConstructor()
    {
        string[] Iob(params string?[] tags) => SpacyEntities.ToIobTags(SpacyEntities.FromIobTags(tags), tags.Length);

        Assert.Equal(["O", "O", "B-PERSON", "I-PERSON", "O", "B-ORG", "I-ORG"], Iob("O", "O", "I-PERSON", "I-PERSON", "O", "I-ORG", "I-ORG"));
        Assert.Equal(["O", "B-GPE", "B-LOC", "I-LOC"], Iob("O", "I-GPE", "I-LOC", "I-LOC"));
        Assert.Equal(["-", "B-ORG", "I-ORG"], Iob("-", "I-ORG", "I-ORG"));
        Assert.Equal(["B-X", "I-X", "B-X"], Iob("B-X", "I-X", "B-X"));
        Assert.Equal(["-", "-", "O"], Iob(null, "", "O"));
        // spaCy 3.5.4 leaves an I- tag on token 0 alone.
        Assert.Equal(["I-X", "I-X"], Iob("I-X", "I-X"));
        Assert.Throws<ArgumentException>(() => SpacyEntities.FromIobTags(["U-X"]));
        Assert.Throws<ArgumentException>(() => SpacyEntities.FromIobTags(["B-"]));
        var tags = SpacyEntities.FromIobTags(["B-ORG", "O"]);
        Assert.Equal(new EntityTag(EntityIob.Begin, "ORG"), tags[0]);
        Assert.Equal(EntityTag.Outside, tags[1]);
    }

    [Fact]
    public void CanonicalMorph_SortsFeaturesAndValues()
    {
        Assert.Equal("Tense=Past|VerbForm=Fin", DocBin.CanonicalMorph("VerbForm=Fin|Tense=Past"));
        Assert.Equal("Number=Plur,Sing", DocBin.CanonicalMorph("Number=Sing,Plur"));
        Assert.Equal("A=y|a=z|b=x", DocBin.CanonicalMorph("b=x|A=y|a=z"));
        Assert.Equal("", DocBin.CanonicalMorph("_"));
        Assert.Throws<ArgumentException>(() => DocBin.CanonicalMorph("NoEquals"));
    }

    [Fact]
    public void SentStarts_DerivedFromHeads_WhenDepsAreSet()
    {
        var doc = new SpacyDoc(["a", "b", "c", "d"], [true, true, true, false], ["a", "b", "c", "d"])
        {
            Heads = [1, 1, 3, 3],
            Deps = ["nsubj", "ROOT", "nsubj", "ROOT"],
        };
        var read = Assert.Single(DocBin.ReadPayload(DocBin.WritePayload([doc])));
        Assert.Equal([1, -1, 1, -1], read.SentStarts!);
        Assert.Equal([1, 1, 3, 3], read.Heads!);
    }
}

public sealed class SpacyCompressionTests
{
    [Fact]
    public void Compress_ThenDecompress_GivesThePayload_AtAnyLevel()
    {
        var doc = new SpacyDoc(["a", "b"], [true, false], ["a", "b"]);
        var payload = DocBin.WritePayload([doc]);
        foreach (var level in new[] { 0, 2, 6, 9 })
        {
            var compressed = DocBin.Compress(payload, level);
            Assert.Equal(0x78, compressed[0]);
            Assert.Equal(payload, DocBin.Decompress(compressed));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => new DocBinOptions { CompressionLevel = 10 });
    }
}
