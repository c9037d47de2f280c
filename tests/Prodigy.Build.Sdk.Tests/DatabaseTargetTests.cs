using System.Text.Json;
using Microsoft.Data.Sqlite;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>
/// Datasets in Prodigy's database (real SQLite files made with Prodigy's schema), DbOut, Stats and
/// ImageDataset, built with the real tool.
/// </summary>
public sealed class DatabaseTargetTests : IDisposable
{
    private const string Image = """{"image":"photos/cat.jpg","width":100,"height":80,"spans":[{"label":"CAT","type":"rect","x":10,"y":10,"width":30,"height":20,"points":[[10,10],[10,30],[40,30],[40,10]]},{"label":"TAIL","type":"polygon","points":[[50,50],[60,50],[55,70]]}],"_input_hash":5,"_task_hash":6,"answer":"accept"}""";
    private readonly ProjectBuilder _project = ProjectBuilder.Create().UseRealTool();
    private DateTime _stamp = DateTime.UtcNow.AddHours(-2);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _project.Dispose();
    }

    private string DbPath => Path.Combine(_project.Directory, "prodigy.db");

    private static IEnumerable<string> Shared(string file, int count) =>
        File.ReadLines(Path.Combine(SharedData.Root, "datasets", file)).Take(count);

    // Writes through Prodigy's schema, then dates the file back (as an annotation made a while ago), each time a different time.
    private void Annotate(string dataset, IEnumerable<string> tasks)
    {
        using (var db = File.Exists(DbPath) ? OpenExisting() : ProdigyTestDatabase.Create(DbPath))
        {
            db.AddExamples(dataset, tasks);
        }

        _stamp = _stamp.AddMinutes(1);
        File.SetLastWriteTimeUtc(DbPath, _stamp);
    }

    private ProdigyTestDatabase OpenExisting() => ProdigyTestDatabase.Create(DbPath); // CREATE ... IF NOT EXISTS: opens it as it is

    private static int Runs(BuildOutcome outcome, string command) => outcome.Messages.Count(m => m == "prodigy-build " + command);

    [Fact]
    public void A_database_dataset_builds_a_corpus_and_only_a_new_annotation_in_it_rebuilds()
    {
        Annotate("fashion", Shared("fashion_brands/fashion_brands_training.jsonl", 60));
        Annotate("other", Shared("news_headlines_ner/annotated_news_headlines-ORG-PERSON-LOCATION-ner.jsonl", 5));
        _project.Item("NerDataset", "fashion", ("Database", "prodigy.db"));

        var first = _project.Build().ShouldSucceed();
        Assert.Equal((1, 1), (Runs(first, "db-digest"), first.DataToSpacyRuns));
        Assert.Contains($"Read {DbPath}#fashion: 60 task(s), 0 ignored", first.Log);
        Assert.True(new FileInfo(Path.Combine(_project.CorpusDir, "train.spacy")).Length > 0, first.Log);

        // Nothing changed: no process at all.
        var second = _project.Build().ShouldSucceed();
        Assert.Equal((0, 0), (Runs(second, "db-digest"), second.DataToSpacyRuns));
        Assert.Contains("corpus: up to date", second.Messages);

        // The database file changed, but not this dataset: the digest is checked, the corpus stays.
        Annotate("other", Shared("news_headlines_ner/annotated_news_headlines-ORG-PERSON-LOCATION-ner.jsonl", 9).Skip(5));
        var third = _project.Build().ShouldSucceed();
        Assert.Equal((1, 0), (Runs(third, "db-digest"), third.DataToSpacyRuns));
        Assert.Contains("corpus: up to date", third.Messages);

        // A new annotation in the dataset: the corpus is rebuilt, and the log says why.
        Annotate("fashion", Shared("fashion_brands/fashion_brands_training.jsonl", 61).Skip(60));
        var fourth = _project.Build().ShouldSucceed();
        Assert.Equal(1, fourth.DataToSpacyRuns);
        Assert.Contains("corpus: rebuilding, prodigy.db#fashion changed", fourth.Messages);
        Assert.Contains("path: \"prodigy.db#fashion\"", File.ReadAllText(Path.Combine(_project.Directory, "obj", "Debug", "prodigy.lock")));
    }

    [Fact]
    public void Database_true_reads_the_database_Prodigy_itself_would_use()
    {
        Directory.CreateDirectory(Path.Combine(_project.Directory, "annotations"));
        _project.File("prodigy.json", """{"db": "sqlite", "db_settings": {"sqlite": {"name": "team.db", "path": "annotations"}}}""");
        using (var db = ProdigyTestDatabase.Create(Path.Combine(_project.Directory, "annotations", "team.db")))
        {
            db.AddExamples("insults", Shared("reddit_insult_textcat/annotated_reddit-INSULT-textcat.jsonl", 80));
        }

        _project.Item("TextcatMultilabelDataset", "insults", ("Database", "true"));

        var outcome = _project.Build().ShouldSucceed();

        Assert.Contains($"Read {Path.Combine(_project.Directory, "annotations", "team.db")}#insults: 80 task(s)", outcome.Log);
    }

    [SkippableTheory]
    [InlineData(Prodigy.Build.Core.Prodigy.ProdigyServerKind.PostgreSql)]
    [InlineData(Prodigy.Build.Core.Prodigy.ProdigyServerKind.MySql)]
    public void A_dataset_on_a_server_builds_and_only_a_new_annotation_rebuilds_and_no_password_is_written(Prodigy.Build.Core.Prodigy.ProdigyServerKind kind)
    {
        using var db = ServerTestDatabase.ForTest(kind);
        db.AddExamples("fashion", Shared("fashion_brands/fashion_brands_training.jsonl", 60));
        var settings = db.Settings;
        _project.File("prodigy.json", db.ProdigyJson()).Item("NerDataset", "fashion", ("Database", "true"));

        var first = _project.Build().ShouldSucceed();
        Assert.Equal((1, 1), (Runs(first, "db-digest"), first.DataToSpacyRuns));
        Assert.Contains($"Read {settings.Display}#fashion: 60 task(s), 0 ignored", first.Log);

        // No file can say the server's data is unchanged: the digest is asked for again, the corpus stays.
        var second = _project.Build().ShouldSucceed();
        Assert.Equal((1, 0), (Runs(second, "db-digest"), second.DataToSpacyRuns));
        Assert.Contains("corpus: up to date", second.Messages);

        db.AddExamples("fashion", Shared("fashion_brands/fashion_brands_training.jsonl", 61).Skip(60));
        var third = _project.Build().ShouldSucceed();
        Assert.Equal(1, third.DataToSpacyRuns);
        Assert.Contains(third.Messages, m => m.StartsWith("corpus: rebuilding, ", StringComparison.Ordinal) && m.Contains("#fashion changed", StringComparison.Ordinal));

        // A wrong password: PRD2207 naming the server, not the password, and the corpus stays as it was.
        var corpus = File.ReadAllBytes(Path.Combine(_project.CorpusDir, "train.spacy"));
        File.WriteAllText(Path.Combine(_project.Directory, "prodigy.json"), db.ProdigyJson(password: "wrong-" + db.Password));
        var failed = _project.Build();
        var error = failed.ShouldFailWith("PRD2207");
        Assert.Contains($"{settings.Database} on {settings.Host}:{settings.Port}", error.Message, StringComparison.Ordinal);
        Assert.Equal(corpus, File.ReadAllBytes(Path.Combine(_project.CorpusDir, "train.spacy")));

        // The password is in prodigy.json only: not in the lock file, the hash cache or the log.
        var obj = Path.Combine(_project.Directory, "obj");
        var written = Directory.EnumerateFiles(obj, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".spacy", StringComparison.Ordinal)).Select(File.ReadAllText);
        Assert.DoesNotContain(written.Concat([first.Log, second.Log, third.Log, failed.Log]), text => text.Contains(db.Password, StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_dataset_lists_the_datasets_there_are_and_a_missing_database_is_PRD0102()
    {
        Annotate("fashion", Shared("fashion_brands/fashion_brands_training.jsonl", 5));
        _project.Item("NerDataset", "fashon", ("Database", "prodigy.db"));

        var error = _project.Build().ShouldFailWith("PRD2203");
        Assert.Equal(DbPath, error.File);
        Assert.Contains("no dataset 'fashon'; its datasets are: fashion.", error.Message);

        using var other = ProjectBuilder.Create().UseRealTool();
        other.Property("ProdigyDatabase", "missing.db").Item("NerDataset", "fashion", ("Database", "true"));
        Assert.Contains("missing.db", other.Build().ShouldFailWith("PRD0102").Message);

        using var badName = ProjectBuilder.Create().UseRealTool();
        badName.Item("NerDataset", "fashion,news", ("Database", "true"));
        Assert.Contains("'fashion,news'", badName.Build().ShouldFailWith("PRD0101").Message); // ';' separates items, ',' does not
    }

    [Fact]
    public void DbOut_exports_database_and_file_datasets_and_images_as_COCO_and_Stats_counts_them()
    {
        Annotate("products", Shared("reddit_product_ner/annotated_reddit-PRODUCT-ner.jsonl", 200));
        Annotate("photos", [Image]);
        _project.Item("NerDataset", "products", ("Database", "true"))
            .Property("ProdigyDatabase", "prodigy.db")
            .Item("ImageDataset", "photos", ("Database", "prodigy.db"))
            .File("data/clauses.jsonl", string.Join("\n", Shared("healthsea_clausecat/annotation.jsonl", 30)) + "\n")
            .Item("TextcatDataset", "data/clauses.jsonl")
            .Property("ProdigyDataToSpacyOnBuild", "false");

        var outcome = _project.Build("DbOut").ShouldSucceed();

        var dir = Path.Combine(_project.Directory, "bin", "Debug", "db-out");
        Assert.Equal(Shared("reddit_product_ner/annotated_reddit-PRODUCT-ner.jsonl", 200), File.ReadAllLines(Path.Combine(dir, "products.jsonl")));
        Assert.Equal(Shared("healthsea_clausecat/annotation.jsonl", 30), File.ReadAllLines(Path.Combine(dir, "clauses.jsonl")));
        Assert.Equal([Image], File.ReadAllLines(Path.Combine(dir, "photos.jsonl")));
        using (var coco = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "photos.coco.json"))))
        {
            Assert.Equal(2, coco.RootElement.GetProperty("annotations").GetArrayLength());
            Assert.Equal("photos/cat.jpg", coco.RootElement.GetProperty("images")[0].GetProperty("file_name").GetString());
        }

        Assert.Contains("db-out: up to date", _project.Build("DbOut").ShouldSucceed().Messages);

        var stats = _project.Build("Stats").ShouldSucceed();
        Assert.Contains(stats.Messages, m => m.StartsWith("Dataset 'products' (", StringComparison.Ordinal));
        Assert.Contains(stats.Messages, m => m.Trim() == "Annotations   200");
        using (var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_project.Directory, "bin", "Debug", "prodigy-stats.json"))))
        {
            Assert.Equal(["clauses", "photos", "products"], json.RootElement.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("name").GetString()!).Order());
        }

        _project.Build("Clean").ShouldSucceed();
        Assert.False(File.Exists(Path.Combine(dir, "products.jsonl")));
        Assert.False(File.Exists(Path.Combine(_project.Directory, "bin", "Debug", "prodigy-stats.json")));
        Assert.Contains(outcome.Messages, m => m.StartsWith("Saved COCO annotations of 1 accepted image task(s)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_corrupt_database_is_a_clear_error_and_the_corpus_stays()
    {
        Annotate("fashion", Shared("fashion_brands/fashion_brands_training.jsonl", 20));
        _project.Item("NerDataset", "fashion", ("Database", "prodigy.db"));
        _project.Build().ShouldSucceed();
        var train = File.ReadAllBytes(Path.Combine(_project.CorpusDir, "train.spacy"));

        SqliteConnection.ClearAllPools();
        File.WriteAllBytes(DbPath, Enumerable.Range(0, 4096).Select(i => (byte)(i * 13 % 256)).ToArray());
        var error = _project.Build().ShouldFailWith("PRD2201");

        Assert.Equal(DbPath, error.File);
        Assert.Equal(train, File.ReadAllBytes(Path.Combine(_project.CorpusDir, "train.spacy")));
    }

    [Fact]
    public void An_image_outside_its_image_fails_DbOut_at_its_example()
    {
        Annotate("photos", [Image.Replace("[55,70]", "[55,90]", StringComparison.Ordinal)]);
        _project.Item("ImageDataset", "photos", ("Database", "prodigy.db")).Property("ProdigyDataToSpacyOnBuild", "false");

        var error = _project.Build("DbOut").ShouldFailWith("PRD2213");

        Assert.Equal((DbPath, 1), (error.File, error.LineNumber));
        Assert.Contains("shape 2 (TAIL) has the point (55, 90) outside the 100x80 image", error.Message);
    }
}
