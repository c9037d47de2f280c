using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Spacy;
using Xunit.Sdk;

namespace Prodigy.Build.Core.Tests.Spacy;

public sealed class DocBinTests
{
    public static IEnumerable<object[]> Cases() => DocBinSpec.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void WritePayload_IsByteForByteSpacysPayload(string specPath)
    {
        var spec = DocBinSpec.Load(specPath);
        var expected = File.ReadAllBytes(spec.PathOf(".msgpack"));
        var actual = DocBin.WritePayload(spec.Docs, spec.Options);
        AssertBytes(expected, actual, spec.Name);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_SpacysFile_GivesTheSpecsDocs(string specPath)
    {
        var spec = DocBinSpec.Load(specPath);
        var docs = DocBin.Read(spec.PathOf(".spacy"), out var options);
        Assert.Equal(spec.Options.StoreUserData, options.StoreUserData);
        AssertDocsMatchSpec(spec, docs);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_SpacysFile_WritesBackTheSameBytes(string specPath)
    {
        var spec = DocBinSpec.Load(specPath);
        var docs = DocBin.Read(spec.PathOf(".spacy"), out var options);
        var expected = File.ReadAllBytes(spec.PathOf(".msgpack"));
        AssertBytes(expected, DocBin.WritePayload(docs, options), spec.Name + " (read, written again)");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Write_ThenRead_RoundTrips(string specPath)
    {
        var spec = DocBinSpec.Load(specPath);
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "out.spacy");
        DocBin.Write(path, spec.Docs, spec.Options);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0x78, bytes[0]);
        var payload = DocBin.Decompress(bytes);
        AssertBytes(File.ReadAllBytes(spec.PathOf(".msgpack")), payload, spec.Name + " (decompressed)");
        var docs = DocBin.Read(path);
        AssertDocsMatchSpec(spec, docs);
        Assert.Equal([path], Directory.EnumerateFiles(temp.Path));
    }

    [Fact]
    public void Write_IsDeterministic()
    {
        var spec = DocBinSpec.Load(Path.Combine("spacy", "docbin", "07-many-docs.json"));
        using var temp = new TempFolder();
        var a = Path.Combine(temp.Path, "a.spacy");
        var b = Path.Combine(temp.Path, "b.spacy");
        DocBin.Write(a, spec.Docs, spec.Options);
        DocBin.Write(b, spec.Docs, spec.Options);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.Equal(DocBin.WritePayload(spec.Docs, spec.Options), DocBin.WritePayload(spec.Docs, spec.Options));
    }

    [Fact]
    public void Write_ThatFails_LeavesTheEarlierFileIntact()
    {
        var spec = DocBinSpec.Load(Path.Combine("spacy", "docbin", "07-many-docs.json"));
        using var temp = new TempFolder();
        var path = Path.Combine(temp.Path, "train.spacy");
        DocBin.Write(path, spec.Docs, spec.Options);
        var before = File.ReadAllBytes(path);

        // A doc that fails only late (the last one, after earlier docs were streamed out): a span outside the doc.
        var bad = new SpacyDoc(["a", "b"], [true, false], ["a", "b"]);
        bad.SpanGroups.Add(new("sc", new SpacySpanGroup("sc", [new SpacySpan(1, 3, "X")])));
        var docs = spec.Docs.Concat([bad]).ToList();
        Assert.Throws<ArgumentException>(() => DocBin.Write(path, docs, spec.Options));
        Assert.Equal(before, File.ReadAllBytes(path));

        // A failure in the middle of streaming (a lone surrogate cannot be UTF-8 encoded) also leaves it intact.
        var lone = new SpacyDoc(["ok"], [false], ["ok"]);
        lone.Cats.Add(new("\ud800", 1.0));
        Assert.Throws<ArgumentException>(() => DocBin.Write(path, spec.Docs.Concat([lone]).ToList(), spec.Options));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.EnumerateFiles(temp.Path));
    }

    [Fact]
    public void Write_RefusesInvalidDocs()
    {
        var doc = new SpacyDoc(["a", "b"], [true, false], ["a", "b"]) { Pos = ["NOUN", "NNP"] };
        Assert.Throws<ArgumentException>(() => DocBin.WritePayload([doc]));
        doc = new SpacyDoc(["a", "b"], [true, false], ["a", "b"]) { Heads = [0, 2] };
        Assert.Throws<ArgumentException>(() => DocBin.WritePayload([doc]));
        doc = new SpacyDoc(["a", "b"], [true, false], ["a", "b"]) { Entities = [EntityTag.Outside] };
        Assert.Throws<ArgumentException>(() => DocBin.WritePayload([doc]));
        Assert.Throws<ArgumentException>(() => DocBin.WritePayload([], new DocBinOptions { Attrs = ["NOT_AN_ATTR"] }));
    }

    [Fact]
    public void StringsAreSortedByCodePointNotUtf16()
    {
        // U+1F600 (a surrogate pair in UTF-16) sorts after U+FF01 by code point, before it by UTF-16 ordinal.
        var doc = new SpacyDoc(["\U0001F600", "\uFF01"], [true, false], ["\U0001F600", "\uFF01"]);
        var payload = (List<KeyValuePair<object?, object?>>)MsgPackReader.Decode(DocBin.WritePayload([doc]))!;
        var strings = (List<object?>)payload.Single(p => (string)p.Key! == "strings").Value!;
        Assert.Equal(["", "\uFF01", "\U0001F600"], strings.Cast<string>());
    }

    [Fact]
    public void ReadPayload_AcceptsOldSpanGroupFormsAndMissingKeys()
    {
        var doc = new SpacyDoc(["a", "b"], [true, false], ["a", "b"]);
        var group = new SpacySpanGroup("sc", [new SpacySpan(0, 2, "X")]);
        doc.SpanGroups.Add(new("sc", group));
        var payload = (List<KeyValuePair<object?, object?>>)MsgPackReader.Decode(DocBin.WritePayload([doc]))!;
        var blob = (byte[])((List<object?>)payload.Single(p => (string)p.Key! == "span_groups").Value!)[0]!;
        var groupMap = (List<KeyValuePair<object?, object?>>)MsgPackReader.Decode(blob)!;
        var groupBytes = (byte[])groupMap[0].Key!;

        // The older form: a list of group bytes, keyed by the group's name.
        var old = new MsgPackWriter();
        old.WriteArrayHeader(1);
        old.WriteBinary(groupBytes);
        var docs = DocBin.ReadPayload(Rebuild(payload, "span_groups", [old.ToArray()], drop: "flags"));
        Assert.Equal("sc", Assert.Single(docs[0].SpanGroups).Key);
        Assert.Equal(new SpacySpan(0, 2, "X"), Assert.Single(docs[0].SpanGroups[0].Value.Spans));
        Assert.NotNull(docs[0].Spaces);

        // b"" = no groups; and no span_groups / cats keys at all.
        Assert.Empty(DocBin.ReadPayload(Rebuild(payload, "span_groups", [Array.Empty<byte>()]))[0].SpanGroups);
        var withoutGroups = (List<KeyValuePair<object?, object?>>)MsgPackReader.Decode(Rebuild(payload, "span_groups", null))!;
        var bare = DocBin.ReadPayload(Rebuild(withoutGroups, "cats", null));
        Assert.Empty(bare[0].SpanGroups);
        Assert.Equal(["a", "b"], bare[0].Words);
    }

    [Fact]
    public void HasUnknownSpaces_IgnoresStoredSpaces()
    {
        var doc = new SpacyDoc(["a", "b"], null, ["a", "b"]);
        var payload = DocBin.WritePayload([doc]);
        var read = Assert.Single(DocBin.ReadPayload(payload));
        Assert.Null(read.Spaces);
        Assert.Equal("a b ", read.Text);
    }

    private static byte[] Rebuild(List<KeyValuePair<object?, object?>> map, string key, List<object?>? value, string? drop = null)
    {
        var w = new MsgPackWriter();
        var entries = map.Where(p => (string)p.Key! != drop && (value is not null || (string)p.Key! != key))
            .Select(p => (string)p.Key! == key ? new KeyValuePair<object?, object?>(key, value) : p).ToList();
        w.WriteValue(entries);
        return w.ToArray();
    }

    internal static void AssertBytes(byte[] expected, byte[] actual, string what)
    {
        var common = expected.AsSpan().CommonPrefixLength(actual);
        if (common == expected.Length && common == actual.Length)
        {
            return;
        }

        var from = Math.Max(0, common - 16);
        throw new XunitException(
            $"{what}: {actual.Length} bytes written, {expected.Length} expected; first difference at offset {common} (0x{common:X}).\n" +
            $"expected @{from}: {Hex(expected, from)}\nactual   @{from}: {Hex(actual, from)}");

        static string Hex(byte[] bytes, int from) =>
            Convert.ToHexString(bytes.AsSpan(from, Math.Clamp(bytes.Length - from, 0, 48))).ToLowerInvariant();
    }

    internal static void AssertDocsMatchSpec(DocBinSpec spec, IReadOnlyList<SpacyDoc> docs)
    {
        var specDocs = spec.Json.GetProperty("docs").EnumerateArray().ToList();
        Assert.Equal(specDocs.Count, docs.Count);
        var attrs = spec.Options.ResolveAttributeIds();
        List<JsonElement>? readback = null;
        if (File.Exists(spec.PathOf(".decoded.json")))
        {
            readback = [.. JsonDocument.Parse(File.ReadAllBytes(spec.PathOf(".decoded.json"))).RootElement.GetProperty("readback").EnumerateArray()];
        }

        for (var d = 0; d < docs.Count; d++)
        {
            var json = specDocs[d];
            var built = spec.Docs[d];
            var read = docs[d];
            var at = $"{spec.Name} doc {d}";
            var n = built.Length;
            Assert.True(built.Words.SequenceEqual(read.Words), at + ": words");
            if (built.Spaces is null)
            {
                Assert.Null(read.Spaces);
            }
            else
            {
                Assert.True(read.Spaces is not null && built.Spaces.SequenceEqual(read.Spaces), at + ": spaces");
            }

            if (attrs.Contains(67))
            {
                Assert.True(built.Norms.SequenceEqual(read.Norms), at + ": norms");
            }
            else if (readback is not null)
            {
                Assert.Equal(DocBinSpec.Strings(readback[d].GetProperty("norms")), read.Norms);
            }

            if (attrs.Contains(77))
            {
                Assert.Equal(SpacyEntities.ToIobTags(built.Entities, n), SpacyEntities.ToIobTags(read.Entities, n));
                if (attrs.Contains(452))
                {
                    Assert.Equal(Layer(built.Entities?.Select(e => e.KbId)), Layer(read.Entities?.Select(e => e.KbId)));
                }

                if (attrs.Contains(454))
                {
                    Assert.Equal(Layer(built.Entities?.Select(e => e.Id)), Layer(read.Entities?.Select(e => e.Id)));
                }
            }

            Assert.Equal(built.Cats.Select(c => c.Key), read.Cats.Select(c => c.Key));
            for (var i = 0; i < built.Cats.Count; i++)
            {
                Assert.Equal(built.Cats[i].Value.GetType(), read.Cats[i].Value.GetType());
                Assert.Equal(built.Cats[i].Value, read.Cats[i].Value);
            }

            AssertSpans(built, read, at);
            if (attrs.Contains(75)) Assert.Equal(Layer(built.Tags), Layer(read.Tags));
            if (attrs.Contains(74)) Assert.Equal(Layer(built.Pos), Layer(read.Pos));
            if (attrs.Contains(73)) Assert.Equal(Layer(built.Lemmas), Layer(read.Lemmas));
            if (attrs.Contains(76)) Assert.Equal(Layer(built.Deps), Layer(read.Deps));
            if (attrs.Contains(453))
            {
                string Morph(string? m) => m is null ? "<unset>" : DocBin.CanonicalMorph(m);
                Assert.Equal(built.Morphs?.Select(Morph) ?? Enumerable.Repeat("<unset>", n), read.Morphs?.Select(Morph) ?? Enumerable.Repeat("<unset>", n));
            }

            if (attrs.Contains(79))
            {
                Assert.Equal(built.Heads ?? [.. Enumerable.Range(0, n)], read.Heads ?? [.. Enumerable.Range(0, n)]);
            }

            if (attrs.Contains(80))
            {
                var expected = DocBinSpec.Has(json, "sent_starts", out var s) ? s
                    : DocBinSpec.Has(json, "derived_sent_starts", out var ds) ? ds : default;
                var defaults = Enumerable.Range(0, n).Select(i => i == 0 ? 1 : 0).ToArray();
                Assert.Equal(
                    expected.ValueKind == JsonValueKind.Array ? [.. expected.EnumerateArray().Select(x => x.GetInt32())] : defaults,
                    read.SentStarts ?? defaults);
            }

            if (spec.Options.StoreUserData)
            {
                Assert.Equal(Pack(built.UserData), Pack(read.UserData));
            }
            else
            {
                Assert.Empty(read.UserData);
            }

            string[] Layer(IEnumerable<string>? layer) => layer?.ToArray() ?? Enumerable.Repeat("", n).ToArray();
        }
    }

    private static void AssertSpans(SpacyDoc built, SpacyDoc read, string at)
    {
        // spaCy groups keys by group content (keys of one group together, first-seen order).
        var expected = new List<(SpacySpanGroup Group, byte[] Bytes, List<string> Keys)>();
        foreach (var (key, group) in built.SpanGroups)
        {
            var bytes = Pack(new object[] { group.Name, group.Attrs, group.Spans.Select(s => new object[] { s.Start, s.End, s.Label, s.KbId, s.Id }).ToList() });
            var entry = expected.FindIndex(e => e.Bytes.AsSpan().SequenceEqual(bytes));
            if (entry < 0)
            {
                expected.Add((group, bytes, [key]));
            }
            else
            {
                expected[entry].Keys.Add(key);
            }
        }

        Assert.True(expected.SelectMany(e => e.Keys).SequenceEqual(read.SpanGroups.Select(g => g.Key)), at + ": span group keys " + string.Join(",", read.SpanGroups.Select(g => g.Key)));
        foreach (var (group, _, keys) in expected)
        {
            var first = read.SpanGroups.Single(g => g.Key == keys[0]).Value;
            Assert.Equal(group.Name, first.Name);
            Assert.Equal(group.Spans, first.Spans);
            Assert.Equal(Pack(group.Attrs), Pack(first.Attrs));
            foreach (var key in keys.Skip(1))
            {
                Assert.Same(first, read.SpanGroups.Single(g => g.Key == key).Value);
            }
        }
    }

    internal static byte[] Pack(object? value)
    {
        var w = new MsgPackWriter();
        w.WriteValue(value);
        return w.ToArray();
    }

    internal sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "docbin-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
