using System.Text.Json;
using Microsoft.Data.Sqlite;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Tool.Tests;

/// <summary><c>db-out</c>, <c>stats</c>, <c>db-digest</c> and database datasets in <c>data-to-spacy</c>, on real SQLite files made through Prodigy's schema.</summary>
public sealed class DbCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-dbcmd-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string DbPath => Path.Combine(_dir, "prodigy.db");

    private static string Datasets => Path.Combine(SharedData.Root, "datasets");

    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CommandLine.RunAsync(args, new StringReader(""), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string NameOf(string file) => Path.GetRelativePath(Datasets, file).Replace(Path.DirectorySeparatorChar, '_').Replace(".jsonl", "", StringComparison.Ordinal);

    [Fact]
    public async Task DbOut_of_every_shared_dataset_round_trips_task_by_task()
    {
        var files = Directory.EnumerateFiles(Datasets, "*.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 20, "the shared datasets are missing");
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            foreach (var file in files)
            {
                db.AddFile(NameOf(file), file);
            }
        }

        var output = Path.Combine(_dir, "out");
        var args = new List<string> { "db-out", "--output", output };
        foreach (var file in files)
        {
            args.Add("--dataset");
            args.Add($"db:{NameOf(file)},{DbPath}");
        }

        var (code, stdout, stderr) = await Run([.. args]);
        Assert.True(code == 0, stdout + stderr);

        var normalised = new List<string>();
        foreach (var file in files)
        {
            var input = File.ReadLines(file).Where(l => l.Trim().Length > 0).ToList();
            var written = File.ReadAllText(Path.Combine(output, NameOf(file) + ".jsonl"));
            Assert.EndsWith("\n", written);
            var lines = written[..^1].Split('\n');
            Assert.Equal(input.Count, lines.Length);
            for (var i = 0; i < input.Count; i++)
            {
                using var expected = JsonDocument.Parse(input[i]);
                using var actual = JsonDocument.Parse(lines[i]);
                Assert.True(SameJson(expected.RootElement, actual.RootElement), $"{file}:{i + 1}\n{input[i]}\n{lines[i]}");
                if (lines[i] != input[i])
                {
                    normalised.Add($"{Path.GetFileName(file)}:{i + 1}");
                }
            }
        }

        // Byte for byte too, except the lines that were not written by Prodigy (spaces after ',' and ':'), which
        // come out in Prodigy's compact form: rel_component's hand-made file, one hand-edited patterns line.
        Assert.Equal(149 + 1, normalised.Count);
        Assert.All(normalised, n => Assert.True(n.StartsWith("annotations.jsonl:", StringComparison.Ordinal) || n == "fashion_brands_patterns.jsonl:97", n));

        var (printed, printedOut, _) = await Run("db-out", "--dataset", $"db:{NameOf(files[0])},{DbPath}");
        Assert.Equal(0, printed);
        Assert.Equal(File.ReadAllText(Path.Combine(output, NameOf(files[0]) + ".jsonl")), printedOut.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task DbOut_of_an_image_dataset_writes_JSONL_and_COCO_and_rejects_invalid_tasks()
    {
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddExamples("street", ImageFixtures.Tasks);
            db.AddExamples("broken", ["""{"image":"a.jpg","width":10,"height":10,"spans":[{"label":"X","points":[[1,1],[20,1],[2,2]]},{"points":[[1,1],[2,1],[2,2]]}]}"""]);
        }

        var output = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = await Run("db-out", "--output", output, "--image-dataset", $"db:street,{DbPath}");
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(output, "street.jsonl")).Length);
        using var coco = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "street.coco.json")));
        Assert.Empty(ImageFixtures.CheckCoco(coco.RootElement));
        Assert.Equal(4, coco.RootElement.GetProperty("annotations").GetArrayLength());

        (code, stdout, stderr) = await Run("db-out", "--output", output, "--image-dataset", $"db:broken,{DbPath}");
        Assert.Equal(1, code);
        Assert.Contains($"{DbPath}(1,1): error PRD2213: dataset 'broken', example 1: shape 1 (X) has the point (20, 1) outside the 10x10 image.", stdout);
        Assert.Contains($"{DbPath}(1,1): error PRD2212: dataset 'broken', example 1: shape 2 has no \"label\"", stdout);
        Assert.False(File.Exists(Path.Combine(output, "broken.jsonl")));
    }

    [Fact]
    public async Task DbOut_refuses_two_datasets_with_one_file_name_and_names_a_missing_dataset()
    {
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddExamples("fashion", ["""{"text":"a"}"""]);
        }

        var file = Path.Combine(_dir, "fashion.jsonl");
        File.WriteAllText(file, "{\"text\":\"b\"}\n");
        var (code, _, stderr) = await Run("db-out", "--output", Path.Combine(_dir, "out"), "--dataset", $"db:fashion,{DbPath}", "--dataset", file);
        Assert.Equal(1, code);
        Assert.Contains("error PRD2210", stderr);

        (code, _, stderr) = await Run("db-out", "--dataset", $"db:fashon,{DbPath}");
        Assert.Equal(1, code);
        Assert.Equal($"{DbPath}: error PRD2203: the database has no dataset 'fashon'; its datasets are: fashion.", stderr.Trim());
    }

    [Fact]
    public async Task Stats_counts_answers_and_labels_of_database_datasets_and_writes_JSON()
    {
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddFile("products", Path.Combine(Datasets, "reddit_product_ner", "annotated_reddit-PRODUCT-ner.jsonl"));
            db.AddFile("clauses", Path.Combine(Datasets, "healthsea_clausecat", "annotation.jsonl"));
        }

        var json = Path.Combine(_dir, "stats.json");
        var (code, stdout, stderr) = await Run("stats", "--database", DbPath, "--json", json);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("2 dataset(s), 0 session(s)", stdout);
        Assert.Contains($"Dataset 'products' ({DbPath}#products)", stdout);
        Assert.Contains("  Annotations   1800\n  Accept        438\n  Reject        1276\n  Ignore        86\n", stdout.ReplaceLineEndings("\n"));
        using var document = JsonDocument.Parse(File.ReadAllBytes(json));
        var clauses = document.RootElement.GetProperty("datasets")[1];
        Assert.Equal("clauses", clauses.GetProperty("name").GetString());
        Assert.Equal(24, clauses.GetProperty("answers").GetProperty("ignore").GetInt32());
        Assert.Equal(4, clauses.GetProperty("labels").EnumerateObject().Count());
    }

    [Fact]
    public async Task DbDigest_names_the_files_it_depends_on_and_changes_with_a_new_annotation()
    {
        using var db = ProdigyTestDatabase.Create(DbPath);
        db.AddExamples("ner", ["""{"text":"a","_input_hash":1,"_task_hash":2}"""]);
        var spec = $"db:ner,{DbPath}";
        var (code, first, stderr) = await Run("db-digest", "--dataset", spec);
        Assert.True(code == 0, stderr);
        var lines = first.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal("# prodigy-build db-digest 1", lines[0]);
        Assert.Matches($"^dataset\t{System.Text.RegularExpressions.Regex.Escape(spec)}\t1\t[0-9a-f]{{32}}\t{System.Text.RegularExpressions.Regex.Escape(DbPath)}$", lines[1]);
        Assert.Equal([$"depends\t{spec}\t{DbPath}", $"depends\t{spec}\t{DbPath}-wal"], lines[2..]);

        db.AddExamples("other", ["""{"text":"b","_input_hash":3,"_task_hash":4}"""]);
        Assert.Equal(first, (await Run("db-digest", "--dataset", spec)).Stdout);
        db.AddExamples("ner", ["""{"text":"c","_input_hash":5,"_task_hash":6}"""]);
        Assert.NotEqual(first, (await Run("db-digest", "--dataset", spec)).Stdout);
    }

    [Fact]
    public async Task DataToSpacy_reads_database_datasets_like_their_exports()
    {
        var train = Path.Combine(Datasets, "fashion_brands", "fashion_brands_training.jsonl");
        var eval = Path.Combine(Datasets, "fashion_brands", "fashion_brands_eval.jsonl");
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddFile("fashion_train", train);
            db.AddFile("fashion_eval", eval);
        }

        var fromFiles = Path.Combine(_dir, "files");
        var fromDb = Path.Combine(_dir, "db");
        var a = await Run("data-to-spacy", "--output", fromFiles, "--dataset", "ner:" + train, "--eval-dataset", "ner:" + eval);
        var b = await Run("data-to-spacy", "--output", fromDb, "--dataset", $"ner:db:fashion_train,{DbPath}", "--eval-dataset", $"ner:db:fashion_eval,{DbPath}");
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, a.Stdout + a.Stderr + b.Stdout + b.Stderr);
        Assert.Contains($"Read {DbPath}#fashion_train: 1235 task(s), 0 ignored", b.Stdout);
        Assert.Equal(DocBin.Decompress(File.ReadAllBytes(Path.Combine(fromFiles, "train.spacy"))), DocBin.Decompress(File.ReadAllBytes(Path.Combine(fromDb, "train.spacy"))));
        Assert.Equal(DocBin.Decompress(File.ReadAllBytes(Path.Combine(fromFiles, "dev.spacy"))), DocBin.Decompress(File.ReadAllBytes(Path.Combine(fromDb, "dev.spacy"))));
    }

    /// <summary>Equal JSON, with keys in the same order and numbers spelled the same.</summary>
    private static bool SameJson(JsonElement a, JsonElement b)
    {
        if (a.ValueKind != b.ValueKind)
        {
            return false;
        }

        return a.ValueKind switch
        {
            JsonValueKind.Object => a.EnumerateObject().Select(p => p.Name).SequenceEqual(b.EnumerateObject().Select(p => p.Name))
                && a.EnumerateObject().Zip(b.EnumerateObject()).All(p => SameJson(p.First.Value, p.Second.Value)),
            JsonValueKind.Array => a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => SameJson(p.First, p.Second)),
            JsonValueKind.String => a.GetString() == b.GetString(),
            JsonValueKind.Number => a.GetRawText() == b.GetRawText(),
            _ => true,
        };
    }
}
