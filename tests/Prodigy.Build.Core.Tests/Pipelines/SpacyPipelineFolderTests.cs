using System.Text.Json.Nodes;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Tests.Pipelines;

public sealed class SpacyPipelineFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<string> RelativeFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    private string CopyShared(string pipeline)
    {
        var source = SharedPipelines.Folder(pipeline);
        var target = Path.Combine(_dir, "copy-" + pipeline);
        foreach (var file in RelativeFiles(source))
        {
            var to = Path.Combine(target, file);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(Path.Combine(source, file), to);
        }

        return target;
    }

    [Theory]
    [MemberData(nameof(SharedPipelines.Names), MemberType = typeof(SharedPipelines))]
    public void Shared_pipeline_reads_and_writes_back_every_file_byte_identical(string pipeline)
    {
        var source = SharedPipelines.Folder(pipeline);
        var folder = SpacyPipelineFolder.Read(source);

        var target = Path.Combine(_dir, "out");
        folder.Write(target);

        var files = RelativeFiles(source);
        Assert.Equal(files, RelativeFiles(target));
        foreach (var file in files)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(source, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(target, file))),
                $"{pipeline}/{file} differs after read and write");
        }

        // Nothing but the written folder is left beside it (no temporary or old folder).
        Assert.Equal(["out"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Theory]
    [MemberData(nameof(SharedPipelines.Names), MemberType = typeof(SharedPipelines))]
    public void Shared_pipeline_parts_are_interpreted(string pipeline)
    {
        var source = SharedPipelines.Folder(pipeline);
        var folder = SpacyPipelineFolder.Read(source);

        var meta = SharedPipelines.Json(pipeline, "pipeline/meta.json");
        var expected = meta.GetProperty("pipeline").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(expected, folder.Components.Select(c => c.Name));
        Assert.Equal(expected, folder.Meta["pipeline"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("en", folder.Config.GetRaw("nlp", "lang")!.Trim('"'));
        Assert.Empty(folder.OtherFiles);
        foreach (var component in folder.Components)
        {
            Assert.NotNull(component.Cfg);
            Assert.NotNull(component.Model);
            Assert.Empty(component.OtherFiles);
            Assert.Equal(component.Name == "ner", component.Moves is not null);
        }

        // The tokenizer tree encodes back to the file, which the tokenizer rules reader accepts.
        var tokenizerPath = Path.Combine(source, "tokenizer");
        Assert.Equal(File.ReadAllBytes(tokenizerPath), folder.TokenizerBytes());
        var rules = TokenizerRules.FromMsgPack(folder.TokenizerBytes(), tokenizerPath);
        Assert.NotNull(rules);

        Assert.Equal(File.ReadAllLines(Path.Combine(source, "vocab", "strings.json")).Length - 2, folder.Vocab.Strings.Count);
    }

    [Fact]
    public void Ner_moves_decode_to_the_transition_map()
    {
        var folder = SpacyPipelineFolder.Read(SharedPipelines.Folder("ner"));

        var moves = Assert.IsType<List<KeyValuePair<object?, object?>>>(folder.Component("ner")!.Moves);
        Assert.Equal(["moves", "cfg"], moves.Select(kv => kv.Key));
        Assert.StartsWith("{\"0\":{}", Assert.IsType<string>(moves[0].Value));
        Assert.Null(folder.Component("textcat"));
    }

    [Fact]
    public void Unknown_files_and_empty_folders_are_kept()
    {
        var copy = CopyShared("textcat");
        File.WriteAllText(Path.Combine(copy, "README.md"), "hello");
        Directory.CreateDirectory(Path.Combine(copy, "textcat", "extra"));
        File.WriteAllBytes(Path.Combine(copy, "textcat", "extra", "blob.bin"), [1, 2, 3]);
        Directory.CreateDirectory(Path.Combine(copy, "assets", "empty"));

        var folder = SpacyPipelineFolder.Read(copy);
        var target = Path.Combine(_dir, "out");
        folder.Write(target);

        Assert.Equal(["README.md"], folder.OtherFiles.Select(f => f.Key));
        Assert.Equal(["extra/blob.bin"], folder.Component("textcat")!.OtherFiles.Select(f => f.Key));
        Assert.Equal(RelativeFiles(copy), RelativeFiles(target));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(target, "textcat", "extra", "blob.bin")));
        Assert.True(Directory.Exists(Path.Combine(target, "assets", "empty")));
    }

    [Fact]
    public void Write_replaces_an_existing_folder_whole()
    {
        var target = CopyShared("textcat");
        File.WriteAllText(Path.Combine(target, "stale.txt"), "old");
        var folder = SpacyPipelineFolder.Read(SharedPipelines.Folder("textcat"));

        folder.Write(target);

        Assert.False(File.Exists(Path.Combine(target, "stale.txt")));
        Assert.Equal(RelativeFiles(SharedPipelines.Folder("textcat")), RelativeFiles(target));
        Assert.Equal([Path.GetFileName(target)], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Failed_write_leaves_the_existing_folder_intact_and_no_temporary_folder()
    {
        var target = CopyShared("textcat");
        var before = RelativeFiles(target).Select(f => (f, File.ReadAllBytes(Path.Combine(target, f)))).ToList();
        var folder = SpacyPipelineFolder.Read(target);
        folder.Meta["broken"] = double.NaN; // ujson cannot write NaN: the write fails part-way

        var e = Assert.Throws<SpacyPipelineException>(() => folder.Write(target));

        Assert.Equal("PRD2418", e.Code);
        Assert.Contains("meta.json", e.Reason);
        Assert.Equal(before.Select(b => b.f), RelativeFiles(target));
        foreach (var (file, bytes) in before)
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(target, file)));
        }

        Assert.Equal([Path.GetFileName(target)], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Missing_strings_json_is_PRD2411_naming_the_path()
    {
        var copy = CopyShared("textcat");
        File.Delete(Path.Combine(copy, "vocab", "strings.json"));

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2411", e.Code);
        Assert.Equal(Path.Combine(copy, "vocab", "strings.json"), e.Path);
        Assert.Contains(e.Path, e.Message);
    }

    [Theory]
    [InlineData("meta.json")]
    [InlineData("tokenizer")]
    [InlineData("config.cfg")]
    public void Missing_top_level_file_is_PRD2411(string file)
    {
        var copy = CopyShared("textcat");
        File.Delete(Path.Combine(copy, file));

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2411", e.Code);
        Assert.Equal(Path.Combine(copy, file), e.Path);
    }

    [Fact]
    public void Malformed_meta_json_is_PRD2412_with_line_and_column()
    {
        var copy = CopyShared("textcat");
        var path = Path.Combine(copy, "meta.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"name\":\"pipeline\"", "\"name\" \"pipeline\"", StringComparison.Ordinal));

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2412", e.Code);
        Assert.Equal(path, e.Path);
        Assert.Contains("line 3, column 10", e.Reason);
    }

    [Fact]
    public void Malformed_component_cfg_is_PRD2412_naming_the_file()
    {
        var copy = CopyShared("textcat");
        var path = Path.Combine(copy, "textcat", "cfg");
        File.WriteAllText(path, "{\n  \"labels\":[\n    \"A\",\n  ]\n}");

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2412", e.Code);
        Assert.Equal(path, e.Path);
        Assert.Contains("line 4, column 3", e.Reason);
    }

    [Fact]
    public void Meta_json_that_is_not_an_object_is_PRD2413()
    {
        var copy = CopyShared("textcat");
        File.WriteAllText(Path.Combine(copy, "meta.json"), "[\n\n]");

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2413", e.Code);
    }

    [Fact]
    public void Malformed_config_cfg_is_PRD2417()
    {
        var copy = CopyShared("textcat");
        var path = Path.Combine(copy, "config.cfg");
        File.WriteAllText(path, "[nlp]\nlang = \"en\"\nthis line has no value\n");

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2417", e.Code);
        Assert.Equal(path, e.Path);
        Assert.Contains("line 3", e.Reason);
    }

    [Fact]
    public void Corrupt_tokenizer_is_PRD2416()
    {
        var copy = CopyShared("textcat");
        var path = Path.Combine(copy, "tokenizer");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2416", e.Code);
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Floret_vectors_in_a_pipeline_are_PRD2415()
    {
        var copy = CopyShared("textcat");
        File.WriteAllText(Path.Combine(copy, "vocab", "vectors.cfg"), "{\n  \"mode\":\"floret\"\n}");

        var e = Assert.Throws<SpacyPipelineException>(() => SpacyPipelineFolder.Read(copy));

        Assert.Equal("PRD2415", e.Code);
        Assert.Contains("floret", e.Reason);
    }

    [Fact]
    public void Edited_meta_is_written_as_srsly_writes_it()
    {
        var folder = SpacyPipelineFolder.Read(SharedPipelines.Folder("textcat"));
        folder.Meta["version"] = "1.2.3";
        folder.Meta["performance"]!["cats_score"] = 0.5;
        var target = Path.Combine(_dir, "out");

        folder.Write(target);

        var text = File.ReadAllText(Path.Combine(target, "meta.json"));
        Assert.Contains("\n  \"version\":\"1.2.3\",\n", text);
        Assert.Contains("\n    \"cats_score\":0.5,\n", text);
        Assert.Equal(SpacyPipelineFolder.Read(target).Meta.ToJsonString(), folder.Meta.ToJsonString());
    }

    [Fact]
    public void Other_file_path_outside_the_folder_is_refused_and_nothing_is_written()
    {
        var read = SpacyPipelineFolder.Read(SharedPipelines.Folder("textcat"));
        var folder = new SpacyPipelineFolder
        {
            Config = read.Config,
            Meta = read.Meta,
            Tokenizer = read.Tokenizer,
            Vocab = read.Vocab,
            Components = read.Components,
            OtherFiles = [new("../escaped.txt", [1])],
        };
        var target = Path.Combine(_dir, "out");

        var e = Assert.Throws<SpacyPipelineException>(() => folder.Write(target));

        Assert.Equal("PRD2418", e.Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }
}
