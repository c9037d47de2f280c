using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks.Tests;

/// <summary>
/// Database datasets in the tasks: how they are passed to the tool, and their digests as stage inputs
/// (with the fake tool, whose "database" is a text file of "NAME: ..." lines).
/// </summary>
public sealed class DatabaseDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-dbtasks-").FullName;
    private FakeBuildEngine _engine = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Db => Path.Combine(_dir, "prodigy.db");

    private static TaskItem Item(string include, string? database = null, string component = "ner", string? itemType = null)
    {
        var item = new TaskItem(include);
        item.SetMetadata("ProdigyComponent", component);
        if (database is not null)
        {
            item.SetMetadata("Database", database);
        }

        if (itemType is not null)
        {
            item.SetMetadata("ProdigyItemType", itemType);
        }

        return item;
    }

    private ProdigyDataToSpacy Stage(params ITaskItem[] datasets) => new()
    {
        BuildEngine = _engine,
        ToolAssembly = TestPaths.FakeTool,
        OutputDirectory = Path.Combine(_dir, "corpus"),
        Datasets = datasets,
        WorkingDirectory = _dir,
        ProjectDirectory = _dir,
        StageName = "corpus",
        LockFile = Path.Combine(_dir, "obj", "prodigy.lock"),
        HashCacheFile = Path.Combine(_dir, "obj", "prodigy.hashes"),
        StageOutputs = [new TaskItem(Path.Combine(_dir, "corpus", "train.spacy"))],
        SdkVersion = "1.0",
    };

    private void WriteDb(params string[] lines)
    {
        File.WriteAllLines(Db, lines);
        File.SetLastWriteTimeUtc(Db, DateTime.UtcNow.AddMinutes(-10 - lines.Length)); // older than the racy window, a new time each write
    }

    private int DigestRuns => _engine.Messages.Count(m => m.Message == "prodigy-build db-digest");

    private int CorpusRuns => _engine.Messages.Count(m => m.Message == "prodigy-build data-to-spacy");

    [Fact]
    public void Database_items_go_to_the_tool_as_db_specs_resolved_against_the_project()
    {
        var task = new ProdigyDataToSpacy
        {
            BuildEngine = _engine,
            ToolAssembly = "/tool/Prodigy.Build.Tool.dll",
            OutputDirectory = "/out",
            ProjectDirectory = _dir,
            Datasets = [Item("fashion_brands", "true"), Item("news", "data/prodigy.db"), Item(Path.Combine(_dir, "a.jsonl"), "false")],
        };

        Assert.Equal(
            ["--output", "/out", "--dataset", "ner:db:fashion_brands", "--dataset", "ner:db:news," + Path.Combine(_dir, "data", "prodigy.db"), "--dataset", "ner:" + Path.Combine(_dir, "a.jsonl"), ""],
            task.ResponseFileText().Split('\n'));

        var dbOut = new ProdigyDbOut
        {
            BuildEngine = _engine,
            ToolAssembly = "/tool/Prodigy.Build.Tool.dll",
            OutputDirectory = Path.Combine(_dir, "db-out"),
            ProjectDirectory = _dir,
            Datasets = [Item("street", "true", itemType: "ImageDataset"), Item("news", "prodigy.db")],
        };
        Assert.Equal(
            ["--output", Path.Combine(_dir, "db-out"), "--image-dataset", "db:street", "--dataset", "db:news," + Db, ""],
            dbOut.ResponseFileText().Split('\n'));

        var stats = new ProdigyStats
        {
            BuildEngine = _engine,
            ToolAssembly = "/tool/Prodigy.Build.Tool.dll",
            ProjectDirectory = _dir,
            JsonFile = Path.Combine(_dir, "stats.json"),
            Datasets = [Item("news", "prodigy.db"), Item("news", "prodigy.db", component: "spancat")],
        };
        Assert.Equal(["--dataset", "db:news," + Db, "--json", Path.Combine(_dir, "stats.json"), ""], stats.ResponseFileText().Split('\n'));
    }

    [Fact]
    public void A_database_dataset_is_fingerprinted_by_its_digest_and_a_stage_reruns_only_when_it_changes()
    {
        WriteDb("ner: one", "other: x");
        var dataset = Item("ner", "prodigy.db");

        Assert.True(Stage(dataset).Execute(), _engine.Log);
        Assert.Equal((1, 1), (DigestRuns, CorpusRuns));
        var lockText = File.ReadAllText(Path.Combine(_dir, "obj", "prodigy.lock"));
        Assert.Contains("- path: \"prodigy.db#ner\"\n        role: ner\n        size: 1\n", lockText.ReplaceLineEndings("\n"));

        // Nothing changed: neither the digest nor the corpus is computed again; no process starts.
        _engine = new FakeBuildEngine();
        var task = Stage(dataset);
        Assert.True(task.Execute(), _engine.Log);
        Assert.True(task.UpToDate);
        Assert.Equal((0, 0), (DigestRuns, CorpusRuns));

        // Another dataset in the same database changed: the digest is computed again, the corpus is up to date.
        WriteDb("ner: one", "other: x", "other: y");
        _engine = new FakeBuildEngine();
        task = Stage(dataset);
        Assert.True(task.Execute(), _engine.Log);
        Assert.True(task.UpToDate, _engine.Log);
        Assert.Equal((1, 0), (DigestRuns, CorpusRuns));

        // A new annotation in the dataset: the corpus is rebuilt, and the log says why.
        WriteDb("ner: one", "other: x", "other: y", "ner: two");
        _engine = new FakeBuildEngine();
        task = Stage(dataset);
        Assert.True(task.Execute(), _engine.Log);
        Assert.False(task.UpToDate);
        Assert.Equal((1, 1), (DigestRuns, CorpusRuns));
        Assert.Contains(_engine.Messages, m => m.Message == "corpus: rebuilding, prodigy.db#ner changed");
    }

    [Fact]
    public void A_missing_dataset_fails_the_stage_check_with_the_tools_error()
    {
        WriteDb("other: x");

        Assert.False(Stage(Item("ner", "prodigy.db")).Execute());

        var error = Assert.Single(_engine.Errors);
        Assert.Equal(("PRD2203", Db), (error.Code, error.File));
        Assert.Equal(0, CorpusRuns);
    }

    [Fact]
    public void A_name_Prodigy_refuses_is_PRD1102()
    {
        var task = Stage(Item("my dataset", "true"));

        Assert.False(task.Execute());

        Assert.Equal("PRD1102", Assert.Single(_engine.Errors).Code);
    }

    [Fact]
    public void Remembered_digests_survive_a_reload_and_are_dropped_when_a_file_they_depend_on_changes()
    {
        var cachePath = Path.Combine(_dir, "obj", "prodigy.hashes");
        var config = Path.Combine(_dir, "prodigy.json");
        WriteDb("ner: one");
        var cache = FileHashCache.Load(cachePath);
        cache.RememberDigest("db:ner", 1, "abc", Db, [Db, config], DateTime.UtcNow.Ticks);
        cache.Save();

        cache = FileHashCache.Load(cachePath);
        Assert.Equal((1L, "abc", Db), cache.GetDigest("db:ner"));
        Assert.Null(cache.GetDigest("db:other"));

        File.WriteAllText(config, "{}"); // a file that did not exist now does
        Assert.Null(FileHashCache.Load(cachePath).GetDigest("db:ner"));

        // A file written within two seconds of the computation could have changed unseen: not trusted.
        // Fixed times, so the test does not depend on how fast it runs: written 1.5 s before, and 2.5 s before.
        var computedAt = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        cache = FileHashCache.Load(cachePath);
        File.SetLastWriteTimeUtc(Db, computedAt.AddSeconds(-1.5));
        cache.RememberDigest("db:ner", 1, "abc", Db, [Db], computedAt.Ticks);
        Assert.Null(cache.GetDigest("db:ner"));
        File.SetLastWriteTimeUtc(Db, computedAt.AddSeconds(-2.5));
        cache.RememberDigest("db:ner", 1, "abc", Db, [Db], computedAt.Ticks);
        Assert.Equal((1L, "abc", Db), cache.GetDigest("db:ner"));
    }
}
