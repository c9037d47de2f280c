using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Tool.Tests;

/// <summary>
/// prodigy-build against Prodigy's database on real PostgreSQL and MariaDB servers, found as Prodigy
/// finds them (prodigy.json's <c>db</c> and <c>db_settings</c> in the working folder): the corpus is the
/// one built from the JSONL files, byte for byte, db-out gives the tasks back, db-digest says the digest
/// depends on no file. The tool runs as its own process, in a folder with that prodigy.json.
/// </summary>
public sealed class ServerDatabaseCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-server-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Datasets => Path.Combine(SharedData.Root, "datasets");

    /// <summary>prodigy.json for <paramref name="db"/> in the tool's working folder, as a team configures Prodigy.</summary>
    private void Configure(ServerTestDatabase db) => File.WriteAllText(Path.Combine(_dir, "prodigy.json"), db.ProdigyJson());

    private async Task<(int ExitCode, string Stdout, string Stderr)> Tool(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Prodigy.Build.Tool.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Prodigy's own settings only: no home folder or overrides of the machine's.
        start.Environment["PRODIGY_HOME"] = Path.Combine(_dir, "home");
        start.Environment.Remove("PRODIGY_CONFIG");
        start.Environment.Remove("PRODIGY_CONFIG_OVERRIDES");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    [SkippableTheory]
    [InlineData(ProdigyServerKind.PostgreSql)]
    [InlineData(ProdigyServerKind.MySql)]
    public async Task The_corpus_from_a_server_is_the_corpus_from_the_exports_and_db_out_gives_the_tasks_back(ProdigyServerKind kind)
    {
        using var db = ServerTestDatabase.ForTest(kind);
        var train = Path.Combine(Datasets, "fashion_brands", "fashion_brands_training.jsonl");
        var eval = Path.Combine(Datasets, "fashion_brands", "fashion_brands_eval.jsonl");
        var textcat = Path.Combine(Datasets, "reddit_insult_textcat", "annotated_reddit-INSULT-textcat.jsonl");
        db.AddFile("fashion_train", train);
        db.AddFile("fashion_eval", eval);
        db.AddFile("insults", textcat);
        Configure(db);

        var fromFiles = await Tool("data-to-spacy", "--output", "files", "--dataset", "ner:" + train, "--eval-dataset", "ner:" + eval, "--dataset", "textcat_multilabel:" + textcat);
        var fromServer = await Tool("data-to-spacy", "--output", "server", "--dataset", "ner:db:fashion_train", "--eval-dataset", "ner:db:fashion_eval", "--dataset", "textcat_multilabel:db:insults");

        Assert.True(fromFiles.ExitCode == 0 && fromServer.ExitCode == 0, fromFiles.Stdout + fromFiles.Stderr + fromServer.Stdout + fromServer.Stderr);
        Assert.Contains($"Read {db.Settings.Display}#fashion_train: 1235 task(s), 0 ignored", fromServer.Stdout, StringComparison.Ordinal);
        foreach (var file in new[] { "train.spacy", "dev.spacy" })
        {
            Assert.Equal(DocBin.Decompress(File.ReadAllBytes(Path.Combine(_dir, "files", file))), DocBin.Decompress(File.ReadAllBytes(Path.Combine(_dir, "server", file))));
        }

        // db-out: each task back as it was stored.
        var exported = await Tool("db-out", "--output", "out", "--dataset", "db:fashion_train");
        Assert.True(exported.ExitCode == 0, exported.Stdout + exported.Stderr);
        var written = File.ReadAllLines(Path.Combine(_dir, "out", "fashion_train.jsonl"));
        var original = File.ReadLines(train).Where(l => l.Trim().Length > 0).ToList();
        Assert.Equal(original.Count, written.Length);
        for (var i = 0; i < written.Length; i++)
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(original[i]), JsonNode.Parse(written[i])), $"task {i + 1}");
        }

        // stats of Prodigy's own database: every dataset on the server.
        var stats = await Tool("stats", "--json", "stats.json");
        Assert.True(stats.ExitCode == 0, stats.Stdout + stats.Stderr);
        Assert.Contains($"Database {db.Settings.Display}: 3 dataset(s), 0 session(s)", stats.Stdout, StringComparison.Ordinal);
        Assert.Contains("1235", File.ReadAllText(Path.Combine(_dir, "stats.json")), StringComparison.Ordinal);

        // db-digest: a server's digest depends on no file (asked again at every build); no password anywhere.
        var digest = await Tool("db-digest", "--dataset", "db:fashion_train");
        Assert.True(digest.ExitCode == 0, digest.Stderr);
        Assert.Contains("server\tdb:fashion_train", digest.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("depends\t", digest.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(db.Password, fromServer.Stdout + fromServer.Stderr + exported.Stdout + stats.Stdout + digest.Stdout, StringComparison.Ordinal);
    }
}
