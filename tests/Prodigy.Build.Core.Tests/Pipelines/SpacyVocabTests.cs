using System.Buffers.Binary;
using System.Text;
using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

public sealed class SpacyVocabTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-vocab-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CopySharedVocab(string pipeline = "textcat")
    {
        var target = Path.Combine(_dir, "vocab");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(SharedPipelines.Folder(pipeline), "vocab")))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    [Theory]
    [MemberData(nameof(SharedPipelines.Names), MemberType = typeof(SharedPipelines))]
    public void Shared_vocab_reads_and_writes_back_byte_identical(string pipeline)
    {
        var source = Path.Combine(SharedPipelines.Folder(pipeline), "vocab");
        var vocab = SpacyVocab.Read(source);

        using var strings = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(source, "strings.json")));
        Assert.Equal(strings.RootElement.EnumerateArray().Select(e => e.GetString()), vocab.Strings);
        Assert.Equal((0, 0, "default"), (vocab.Vectors.Rows, vocab.Vectors.Width, vocab.Vectors.Mode));
        Assert.Empty(vocab.Vectors.KeyToRow);

        var target = Path.Combine(_dir, "out");
        vocab.Write(target);

        Assert.Equal(SpacyVocab.FileNames.Order(StringComparer.Ordinal), Directory.EnumerateFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var file in SpacyVocab.FileNames)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, file)), File.ReadAllBytes(Path.Combine(target, file)));
        }
    }

    [Fact]
    public void Empty_vectors_file_is_what_numpy_writes_for_shape_0_0()
    {
        var shared = File.ReadAllBytes(Path.Combine(SharedPipelines.Folder("ner"), "vocab", "vectors"));

        Assert.Equal(shared, NpyFile.ToBytes(0, 0, []));
    }

    [Fact]
    public void Vectors_written_from_our_own_table_read_back_the_same()
    {
        var data = new[] { 1f, -2f, 0.5f, float.Epsilon, 3.25f, -0f };
        var keyToRow = new Dictionary<ulong, int>
        {
            [18_446_744_073_709_551_557UL] = 2, // a uint64 string id above int64's range
            [5] = 0,
            [1UL << 40] = 1,
            [300] = 2, // two keys may share a row
        };
        var vocab = new SpacyVocab
        {
            Strings = ["apple", "caf\u00e9"],
            Vectors = new SpacyVectors { Rows = 3, Width = 2, Data = data, KeyToRow = keyToRow },
        };

        vocab.Write(_dir);
        var read = SpacyVocab.Read(_dir);

        Assert.Equal(["apple", "caf\u00e9"], read.Strings);
        Assert.Equal((3, 2, "default"), (read.Vectors.Rows, read.Vectors.Width, read.Vectors.Mode));
        Assert.Equal(data, read.Vectors.Data);
        Assert.Equal(keyToRow.ToList(), read.Vectors.KeyToRow.ToList()); // order kept
        Assert.Equal(1, read.Vectors.Find(1UL << 40));
        Assert.Equal(-1, read.Vectors.Find(6));
        Assert.Equal([3.25f, -0f], read.Vectors.Row(2).ToArray());
        Assert.Equal("[\n  \"apple\",\n  \"caf\\u00e9\"\n]", File.ReadAllText(Path.Combine(_dir, "strings.json")));
        Assert.Equal("{\n  \"mode\":\"default\"\n}", File.ReadAllText(Path.Combine(_dir, "vectors.cfg")));
        Assert.Equal([0x80], File.ReadAllBytes(Path.Combine(_dir, "lookups.bin")));
    }

    [Fact]
    public void Npy_header_is_numpys_with_growth_room_and_64_byte_alignment()
    {
        var bytes = NpyFile.ToBytes(3, 2, new float[6] { 1, 2, 3, 4, 5, 6 });

        Assert.Equal(0x93, bytes[0]);
        Assert.Equal("NUMPY"u8.ToArray(), bytes[1..6]);
        Assert.Equal((1, 0), (bytes[6], bytes[7]));
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        var header = Encoding.Latin1.GetString(bytes, 10, headerLength);
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
        Assert.StartsWith(dict + new string(' ', 20), header);
        Assert.Equal(dict, header.TrimEnd());
        Assert.EndsWith(" \n", header);
        Assert.Equal(10 + headerLength + 24, bytes.Length);
        Assert.Equal(6f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(bytes.Length - 4)));
    }

    [Fact]
    public void Npy_header_of_a_large_table_keeps_alignment_and_less_growth_room()
    {
        var header = NpyFile.Header(1_000_000, 300);

        Assert.Equal(0, header.Length % 64);
        var text = Encoding.Latin1.GetString(header, 10, header.Length - 10);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 300), }" + new string(' ', 14), text);
    }

    [Fact]
    public void Key2row_is_a_msgpack_map_of_python_ints()
    {
        var vectors = new SpacyVectors
        {
            Rows = 200,
            Width = 0,
            KeyToRow = new Dictionary<ulong, int> { [5] = 1, [0xFFFF_FFFF_FFFF_FFFFUL] = 199, [70_000] = 128 },
        };

        Assert.Equal(
            new byte[] { 0x83, 0x05, 0x01, 0xCF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xCC, 0xC7, 0xCE, 0x00, 0x01, 0x11, 0x70, 0xCC, 0x80 },
            vectors.KeyToRowBytes());
    }

    [Fact]
    public void Inconsistent_table_is_refused_before_writing()
    {
        var vocab = new SpacyVocab { Vectors = new SpacyVectors { Rows = 2, Width = 2, Data = new float[3] } };

        Assert.Throws<ArgumentException>(() => vocab.Write(_dir));
        Assert.False(File.Exists(Path.Combine(_dir, "strings.json")));
    }

    [Theory]
    [InlineData("strings.json")]
    [InlineData("vectors")]
    [InlineData("key2row")]
    [InlineData("vectors.cfg")]
    [InlineData("lookups.bin")]
    public void Missing_vocab_file_is_PRD2411_naming_it(string file)
    {
        var vocab = CopySharedVocab();
        File.Delete(Path.Combine(vocab, file));

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyVocab.Read(vocab));

        Assert.Equal("PRD2411", e.Code);
        Assert.Equal(Path.Combine(vocab, file), e.Path);
    }

    [Fact]
    public void Malformed_strings_json_is_PRD2412_with_line_and_column()
    {
        var vocab = CopySharedVocab();
        File.WriteAllText(Path.Combine(vocab, "strings.json"), "[\n  \"a\",\n  \"b\" \"c\"\n]");

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyVocab.Read(vocab));

        Assert.Equal("PRD2412", e.Code);
        Assert.Equal(Path.Combine(vocab, "strings.json"), e.Path);
        Assert.Contains("line 3, column 7", e.Reason);
    }

    [Fact]
    public void Strings_json_that_is_not_a_list_of_strings_is_PRD2413()
    {
        var vocab = CopySharedVocab();
        File.WriteAllText(Path.Combine(vocab, "strings.json"), "[\n  \"a\",\n  3\n]");

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyVocab.Read(vocab));

        Assert.Equal("PRD2413", e.Code);
        Assert.Contains("line 3", e.Reason);
    }

    [Theory]
    [InlineData("descr", "dtype")] // an unknown key
    [InlineData("'shape': (0, 0)", "'shape': (0, x)")]
    [InlineData("NUMPY", "NUMPZ")]
    [InlineData("<f4", "<f8")]
    public void Corrupt_npy_header_is_PRD2414(string from, string to)
    {
        var vocab = CopySharedVocab();
        var path = Path.Combine(vocab, "vectors");
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(path));
        Assert.Contains(from, text);
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text.Replace(from, to, StringComparison.Ordinal)));

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyVocab.Read(vocab));

        Assert.Equal("PRD2414", e.Code);
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Npy_data_shorter_than_its_shape_is_PRD2414()
    {
        var bytes = NpyFile.ToBytes(2, 2, new float[4]);

        var e = Assert.Throws<SpacyPipelineException>(() => NpyFile.Read(bytes[..^1], "vectors"));

        Assert.Equal("PRD2414", e.Code);
        Assert.Contains("needs 16 bytes", e.Reason);
    }

    [Fact]
    public void Floret_vectors_are_PRD2415_naming_the_mode()
    {
        var vocab = CopySharedVocab();
        File.WriteAllText(Path.Combine(vocab, "vectors.cfg"), "{\n  \"mode\":\"floret\",\n  \"minn\":4\n}");

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyVocab.Read(vocab));

        Assert.Equal("PRD2415", e.Code);
        Assert.Equal(Path.Combine(vocab, "vectors.cfg"), e.Path);
        Assert.Contains("'floret'", e.Reason);
    }

    [Fact]
    public void Key2row_that_is_not_msgpack_is_PRD2416()
    {
        var vocab = CopySharedVocab();
        File.WriteAllBytes(Path.Combine(vocab, "key2row"), [0x81, 0x01]);

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyVocab.Read(vocab));

        Assert.Equal("PRD2416", e.Code);
        Assert.Equal(Path.Combine(vocab, "key2row"), e.Path);
    }

    [Fact]
    public void Key2row_row_outside_the_table_is_PRD2416()
    {
        var vocab = CopySharedVocab();
        File.WriteAllBytes(Path.Combine(vocab, "key2row"), [0x81, 0x05, 0x00]); // {5: 0} but the table has 0 rows

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyVocab.Read(vocab));

        Assert.Equal("PRD2416", e.Code);
        Assert.Contains("0-row", e.Reason);
    }
}
