using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks.Tests.Incremental;

public sealed class StageTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-stage-tests-").FullName;

    public StageTests()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "data"));
        Write("data/a.jsonl", "a");
        Write("data/b.jsonl", "b");
        Write("out/train.spacy", "train");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_directory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private Stage Describe(FileHashCache cache, string sdk = "1.0", (string Path, string Role)[]? inputs = null, params KeyValuePair<string, string>[] parameters) =>
        Stage.Describe(
            "corpus",
            _directory,
            sdk,
            parameters.Length == 0 ? [new("ProdigySeed", "0")] : parameters,
            (inputs ?? [("data/a.jsonl", "ner"), ("data/b.jsonl", "textcat")]).Select(i => new StageInput(Path.Combine(_directory, i.Path), i.Role)),
            [Path.Combine(_directory, "out", "train.spacy")],
            cache);

    private StageRecord Locked(FileHashCache cache) => Describe(cache).WithOutputs(cache);

    [Fact]
    public void The_same_inputs_parameters_and_outputs_are_up_to_date()
    {
        var cache = FileHashCache.Load(null);
        Assert.Null(Describe(cache).WhyRebuild(Locked(cache), cache));
        Assert.Equal("it has not been built yet", Describe(cache).WhyRebuild(null, cache));
    }

    [Fact]
    public void The_fingerprint_covers_content_parameters_roles_order_and_sdk_but_not_time_or_folder()
    {
        var cache = FileHashCache.Load(null);
        var fingerprint = Describe(cache).Current.Fingerprint;

        File.SetLastWriteTimeUtc(Path.Combine(_directory, "data", "a.jsonl"), DateTime.UtcNow.AddDays(-3));
        Assert.Equal(fingerprint, Describe(cache).Current.Fingerprint);
        Assert.NotEqual(fingerprint, Describe(cache, sdk: "1.1").Current.Fingerprint);
        Assert.NotEqual(fingerprint, Describe(cache, parameters: [new("ProdigySeed", "1")]).Current.Fingerprint);
        Assert.NotEqual(fingerprint, Describe(cache, inputs: [("data/a.jsonl", "ner eval"), ("data/b.jsonl", "textcat")]).Current.Fingerprint);
        Assert.NotEqual(fingerprint, Describe(cache, inputs: [("data/b.jsonl", "textcat"), ("data/a.jsonl", "ner")]).Current.Fingerprint);
        Write("data/a.jsonl", "A");
        Assert.NotEqual(fingerprint, Describe(cache).Current.Fingerprint);
    }

    [Fact]
    public void The_reason_names_what_changed()
    {
        var cache = FileHashCache.Load(null);
        var locked = Locked(cache);

        Assert.Equal("the SDK changed (1.0 -> 2.0)", Describe(cache, sdk: "2.0").WhyRebuild(locked, cache));
        Assert.Equal("ProdigySeed changed ('0' -> '7')", Describe(cache, parameters: [new("ProdigySeed", "7")]).WhyRebuild(locked, cache));
        Assert.Equal("ProdigyLang is new ('en'), ProdigySeed was removed", Describe(cache, parameters: [new("ProdigyLang", "en")]).WhyRebuild(locked, cache));
        Assert.Equal("data/b.jsonl was removed", Describe(cache, inputs: [("data/a.jsonl", "ner")]).WhyRebuild(locked, cache));
        Assert.Equal("data/a.jsonl is now 'ner eval' (was 'ner')", Describe(cache, inputs: [("data/a.jsonl", "ner eval"), ("data/b.jsonl", "textcat")]).WhyRebuild(locked, cache));
        Assert.Equal("the order of the inputs changed", Describe(cache, inputs: [("data/b.jsonl", "textcat"), ("data/a.jsonl", "ner")]).WhyRebuild(locked, cache));
        Write("data/c.jsonl", "c");
        Assert.Equal("data/c.jsonl was added", Describe(cache, inputs: [("data/a.jsonl", "ner"), ("data/b.jsonl", "textcat"), ("data/c.jsonl", "ner")]).WhyRebuild(locked, cache));
        Write("data/b.jsonl", "B");
        Assert.Equal("data/b.jsonl changed", Describe(cache).WhyRebuild(locked, cache));
    }

    [Fact]
    public void Outputs_are_checked_by_content()
    {
        var cache = FileHashCache.Load(null);
        var locked = Locked(cache);

        Write("out/train.spacy", "TRAIN");
        Assert.Equal("out/train.spacy was modified", Describe(cache).WhyRebuild(locked, cache));
        File.Delete(Path.Combine(_directory, "out", "train.spacy"));
        Assert.Equal("out/train.spacy is missing", Describe(cache).WhyRebuild(locked, cache));
    }

    [Fact]
    public void Many_changes_are_summed_up()
    {
        var cache = FileHashCache.Load(null);
        var locked = Locked(cache);

        var reason = Describe(cache, sdk: "9", parameters: [new("A", "1"), new("B", "2"), new("C", "3")]).WhyRebuild(locked, cache);

        Assert.Equal("the SDK changed (1.0 -> 9), A is new ('1'), B is new ('2') and 2 more change(s)", reason);
    }

    [Fact]
    public void Paths_are_relative_to_the_project_with_forward_slashes()
    {
        Assert.Equal("data/a.jsonl", Stage.Relative(_directory, Path.Combine(_directory, "data", "a.jsonl")));
        var outside = Path.GetFullPath(Path.Combine(_directory, "..", "elsewhere.jsonl"));
        Assert.Equal(outside.Replace('\\', '/'), Stage.Relative(_directory, outside));
    }
}
