using System.Diagnostics;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>
/// Content-hash incremental builds through real MSBuild builds (with the fake tool): what reruns a
/// stage, what does not, the lock file, clean, and two builds at once.
/// </summary>
public sealed class IncrementalBuildTests : IDisposable
{
    private const string Line = """{"text": "Hello"}""";
    private readonly ProjectBuilder _project = ProjectBuilder.Create();

    public IncrementalBuildTests()
    {
        _project.File("data/a.jsonl", Line + "\n").File("data/b.jsonl", Line + "\n")
            .Item("NerDataset", "data/a.jsonl")
            .Item("TextcatDataset", "data/b.jsonl");
    }

    public void Dispose() => _project.Dispose();

    private string LockPath => Path.Combine(_project.Directory, "obj", "Debug", "prodigy.lock");

    private string Data(string name) => Path.Combine(_project.Directory, "data", name);

    private string Corpus(string name) => Path.Combine(_project.CorpusDir, name);

    [Fact]
    public void A_second_build_does_no_work_and_says_so()
    {
        var first = _project.Build().ShouldSucceed();
        Assert.Equal(1, first.DataToSpacyRuns);
        Assert.Contains("corpus: rebuilding, it has not been built yet", first.Messages);

        var second = _project.Build().ShouldSucceed();

        Assert.Equal(0, second.DataToSpacyRuns);
        Assert.Contains("corpus: up to date", second.Messages);
    }

    [Fact]
    public void Touching_every_input_and_output_does_no_work()
    {
        _project.Build().ShouldSucceed();
        var later = DateTime.UtcNow.AddMinutes(5);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_project.Directory, "data")).Concat(Directory.EnumerateFiles(_project.CorpusDir, "*", SearchOption.AllDirectories)))
        {
            File.SetLastWriteTimeUtc(file, later);
        }

        File.SetLastWriteTimeUtc(Data("a.jsonl"), later.AddMinutes(1));

        var outcome = _project.Build().ShouldSucceed();

        Assert.Equal(0, outcome.DataToSpacyRuns);
        Assert.Contains("corpus: up to date", outcome.Messages);
        // The outputs are made newer than the touched input, so that time-stamp checks (Visual
        // Studio's fast up-to-date check) agree.
        Assert.True(File.GetLastWriteTimeUtc(Corpus("train.spacy")) >= File.GetLastWriteTimeUtc(Data("a.jsonl")), outcome.Log);
    }

    [Fact]
    public void A_copy_with_bin_obj_and_lock_and_fresh_timestamps_does_no_work()
    {
        _project.Build().ShouldSucceed();
        using var copy = ProjectBuilder.Create();
        foreach (var file in Directory.EnumerateFiles(_project.Directory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Directory, Path.GetRelativePath(_project.Directory, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            File.SetLastWriteTimeUtc(target, DateTime.UtcNow.AddSeconds(Random.Shared.Next(-30, 30)));
        }

        var outcome = ProjectBuilder.BuildProject(copy.ProjectPath).ShouldSucceed();

        Assert.Equal(0, outcome.DataToSpacyRuns);
        Assert.Contains("corpus: up to date", outcome.Messages);
    }

    [Fact]
    public void One_changed_byte_in_one_dataset_reruns_the_corpus_and_names_the_file()
    {
        _project.Build().ShouldSucceed();
        var bytes = File.ReadAllBytes(Data("b.jsonl"));
        bytes[10] = (byte)'J'; // "Hello" -> "HelJo", same size, time stamp kept
        var time = File.GetLastWriteTimeUtc(Data("b.jsonl"));
        File.WriteAllBytes(Data("b.jsonl"), bytes);
        File.SetLastWriteTimeUtc(Data("b.jsonl"), time.AddSeconds(1));

        var outcome = _project.Build().ShouldSucceed();

        Assert.Equal(1, outcome.DataToSpacyRuns);
        Assert.Contains("corpus: rebuilding, data/b.jsonl changed", outcome.Messages);
    }

    [Fact]
    public void A_changed_eval_split_reruns_the_corpus()
    {
        _project.Build().ShouldSucceed();

        var outcome = _project.Build(globalProperties: new Dictionary<string, string> { ["ProdigyEvalSplit"] = "0.3" }).ShouldSucceed();

        Assert.Equal(1, outcome.DataToSpacyRuns);
        Assert.Contains("corpus: rebuilding, ProdigyEvalSplit changed ('0.2' -> '0.3')", outcome.Messages);
    }

    [Fact]
    public void A_new_sdk_version_reruns_the_corpus()
    {
        _project.Build(globalProperties: new Dictionary<string, string> { ["_ProdigySdkVersion"] = "1.0.0" }).ShouldSucceed();

        var outcome = _project.Build(globalProperties: new Dictionary<string, string> { ["_ProdigySdkVersion"] = "1.0.1" }).ShouldSucceed();

        Assert.Equal(1, outcome.DataToSpacyRuns);
        Assert.Contains("corpus: rebuilding, the SDK changed (1.0.0 -> 1.0.1)", outcome.Messages);
    }

    [Fact]
    public void A_changed_dataset_reruns_the_corpus_but_not_the_config_stage()
    {
        _project.Build("Build;SpacyConfig").ShouldSucceed();
        Assert.Contains("config: up to date", _project.Build("Build;SpacyConfig").ShouldSucceed().Messages);
        File.AppendAllText(Data("a.jsonl"), Line + "\n");

        var outcome = _project.Build("Build;SpacyConfig").ShouldSucceed();

        Assert.Contains("corpus: rebuilding, data/a.jsonl changed", outcome.Messages);
        Assert.Contains("config: up to date", outcome.Messages);
        Assert.Equal(0, outcome.Messages.Count(m => m == "prodigy-build spacy-config"));
        var changedPipeline = _project.Build("Build;SpacyConfig", new Dictionary<string, string> { ["ProdigyOptimize"] = "accuracy" }).ShouldSucceed();
        Assert.Contains("config: rebuilding, ProdigyOptimize changed ('efficiency' -> 'accuracy')", changedPipeline.Messages);
    }

    [Theory]
    [InlineData("dev.spacy", false, "bin/Debug/corpus/dev.spacy is missing")]
    [InlineData("labels/ner.json", true, "bin/Debug/corpus/labels/ner.json was modified")]
    public void A_deleted_or_edited_output_reruns_its_stage(string output, bool edit, string reason)
    {
        _project.Build().ShouldSucceed();
        if (edit)
        {
            File.AppendAllText(Corpus(output), " ");
        }
        else
        {
            File.Delete(Corpus(output));
        }

        var outcome = _project.Build().ShouldSucceed();

        Assert.Equal(1, outcome.DataToSpacyRuns);
        Assert.Contains("corpus: rebuilding, " + reason, outcome.Messages);
        Assert.True(File.Exists(Corpus(output)));
        Assert.Contains("corpus: up to date", _project.Build().ShouldSucceed().Messages);
    }

    [Theory]
    [InlineData("version: 1\nstages:\n  Debug/corpus: [unclosed\n")]
    [InlineData("\0\u0001 binary garbage \"")]
    [InlineData("version: 7\nstages: {}\n")]
    [InlineData("- just\n- a list\n")]
    [InlineData("version: 1\nstages:\n  Debug/corpus:\n    sdk: x\n")]
    public void A_corrupt_lock_file_gives_a_warning_and_a_rebuild(string text)
    {
        _project.Build().ShouldSucceed();
        File.WriteAllText(LockPath, text);

        var outcome = _project.Build().ShouldSucceed();

        var warning = Assert.Single(outcome.Warnings, w => w.Code == "PRD1030");
        Assert.Equal(LockPath, warning.File);
        Assert.Equal(1, outcome.DataToSpacyRuns);
        Assert.Contains("corpus: up to date", _project.Build().ShouldSucceed().Messages);
    }

    [Fact]
    public void A_hand_edited_lock_entry_reruns_the_stage_without_a_crash()
    {
        _project.Build().ShouldSucceed();
        var text = File.ReadAllText(LockPath);
        var edited = System.Text.RegularExpressions.Regex.Replace(text, "fingerprint: \"[0-9a-f]{32}\"", "fingerprint: \"00000000000000000000000000000000\"");
        Assert.NotEqual(text, edited);
        File.WriteAllText(LockPath, edited);

        var outcome = _project.Build().ShouldSucceed();

        Assert.Empty(outcome.Warnings);
        Assert.Equal(1, outcome.DataToSpacyRuns);
        Assert.Contains(outcome.Messages, m => m.StartsWith("corpus: rebuilding, its fingerprint", StringComparison.Ordinal));
    }

    [Fact]
    public void The_lock_file_moves_next_to_the_project_and_reads_as_yaml()
    {
        _project.Property("ProdigyLockFile", "prodigy.lock");

        _project.Build().ShouldSucceed();

        var text = File.ReadAllText(Path.Combine(_project.Directory, "prodigy.lock"));
        Assert.False(File.Exists(LockPath));
        Assert.Contains("version: 1\nstages:\n  Debug/corpus:\n    sdk: ", text, StringComparison.Ordinal);
        Assert.Contains("      ProdigyEvalSplit: \"0.2\"\n", text, StringComparison.Ordinal);
        Assert.Contains("    inputs:\n      - path: data/a.jsonl\n        role: ner\n        size: 18\n        hash: \"", text, StringComparison.Ordinal);
        Assert.Contains("      - path: data/b.jsonl\n        role: textcat\n", text, StringComparison.Ordinal);
        Assert.Contains("    outputs:\n      - path: bin/Debug/corpus/train.spacy\n", text, StringComparison.Ordinal);
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        yaml.Load(new StringReader(text));

        // Same inputs, same lock: byte for byte.
        _project.Build("Clean").ShouldSucceed();
        _project.Property("ProdigyLockFile", "prodigy.lock").Build().ShouldSucceed();
        Assert.Equal(text, File.ReadAllText(Path.Combine(_project.Directory, "prodigy.lock")));
    }

    [Fact]
    public void Clean_removes_the_outputs_and_the_lock_entries_of_the_project()
    {
        _project.Property("ProdigyLockFile", "prodigy.lock");
        _project.Build().ShouldSucceed();
        _project.Build("SpacyConfig").ShouldSucceed();
        var lockPath = Path.Combine(_project.Directory, "prodigy.lock");
        // Another configuration's entry stays.
        File.WriteAllText(lockPath, File.ReadAllText(lockPath).Replace("  Debug/config:", "  Release/config:", StringComparison.Ordinal));

        _project.Build("Clean").ShouldSucceed();

        var text = File.ReadAllText(lockPath);
        Assert.DoesNotContain("  Debug/corpus:", text, StringComparison.Ordinal);
        Assert.Contains("Release/config", text, StringComparison.Ordinal);
        Assert.False(File.Exists(Corpus("train.spacy")));
        Assert.Equal(1, _project.Build().ShouldSucceed().DataToSpacyRuns);
    }

    [Fact]
    public void Clean_deletes_a_lock_file_left_empty()
    {
        _project.Build().ShouldSucceed();
        Assert.True(File.Exists(LockPath));

        _project.Build("Clean").ShouldSucceed();

        Assert.False(File.Exists(LockPath));
        Assert.False(File.Exists(Path.Combine(_project.Directory, "obj", "Debug", "prodigy.hashes")));
    }

    [Fact]
    public void A_no_op_build_reads_no_file_whose_size_and_time_are_unchanged()
    {
        _project.Build().ShouldSucceed();
        // Files written in the last two seconds are hashed again (a write within the time stamp's
        // resolution could hide); age them so that the cache can vouch for them.
        var old = DateTime.UtcNow.AddHours(-1);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_project.Directory, "data")).Concat(Directory.EnumerateFiles(_project.CorpusDir, "*", SearchOption.AllDirectories)))
        {
            File.SetLastWriteTimeUtc(file, old);
        }

        var rehash = _project.Build().ShouldSucceed();
        Assert.True(rehash.Messages.Any(m => m.StartsWith("corpus: hashed 7 file(s)", StringComparison.Ordinal)), string.Join("\n", rehash.Messages.Where(m => m.StartsWith("corpus:", StringComparison.Ordinal))));

        var noop = _project.Build().ShouldSucceed();

        Assert.Equal(0, noop.DataToSpacyRuns);
        Assert.Contains(noop.Messages, m => m.StartsWith("corpus: hashed 0 file(s), 0 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_build_keeps_the_previous_corpus_and_lock()
    {
        _project.Build().ShouldSucceed();
        var train = File.ReadAllText(Corpus("train.spacy"));
        var lockText = File.ReadAllText(LockPath);
        File.AppendAllText(Data("a.jsonl"), """{"text": "FAKE_ERROR"}""" + "\n");

        _project.Build().ShouldFailWith("PRD2901");

        Assert.Equal(train, File.ReadAllText(Corpus("train.spacy")));
        Assert.Equal(lockText, File.ReadAllText(LockPath));
    }

    [Fact]
    public async Task Two_concurrent_builds_end_with_valid_outputs_and_lock()
    {
        // The tool pauses 2 s, so that the builds overlap: one waits for the other, then finds the
        // corpus up to date.
        File.AppendAllText(Data("a.jsonl"), """{"text": "FAKE_PAUSE"}""" + "\n");
        _project.Save();

        var builds = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => DotnetBuild(_project.ProjectPath))));

        foreach (var build in builds)
        {
            Assert.True(build.ExitCode == 0, build.Output);
        }

        var outputs = string.Join("\n", builds.Select(b => b.Output));
        Assert.True(builds.Count(b => b.Output.Contains("corpus: rebuilding", StringComparison.Ordinal)) == 1, outputs);
        Assert.True(builds.Count(b => b.Output.Contains("corpus: up to date", StringComparison.Ordinal)) == 1, outputs);
        // Usually the second build logs "corpus: waiting for another build of this project to finish"; on a
        // loaded machine it may only reach the stage after the first is done. Either way: one rebuild.
        // (The waiting itself is asserted in ProjectMutexTests.)
        Assert.StartsWith("train\n", File.ReadAllText(Corpus("train.spacy")), StringComparison.Ordinal);
        Assert.Contains("corpus: up to date", _project.Build().ShouldSucceed().Messages);
    }

    private static (int ExitCode, string Output) DotnetBuild(string project)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var argument in new[] { "build", project, "-nologo", "-v:n", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-tl:off" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
