using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>Prodigy's SQLite database, made in the test through Prodigy's schema, read as Prodigy reads it.</summary>
public sealed class ProdigyDatabaseTests : IDisposable
{
    private static readonly ProdigyDatabaseOptions Impatient = new() { BusyTimeoutSeconds = 1, Attempts = 2, ChunkSize = 3 };

    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-db-").FullName;

    public ProdigyDatabaseTests() => SqliteConnection.ClearAllPools();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string DbPath => Path.Combine(_dir, "prodigy.db");

    private static string Eg(int i, string answer = "accept") =>
        $$"""{"text":"example {{i}}","_input_hash":{{1000 + i}},"_task_hash":{{2000 + i}},"spans":[{"start":0,"end":7,"label":"THING"}],"answer":"{{answer}}"}""";

    [Fact]
    public void Reads_a_dataset_in_the_order_it_was_annotated_with_its_keys_and_values_as_stored()
    {
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddExamples("other", [Eg(99)]);
            db.AddExamples("fashion_brands", Enumerable.Range(1, 7).Select(i => Eg(i)));
            db.AddDataset("2024-01-01_10-00-00", session: true);
        }

        using var database = ProdigyDatabase.Open(DbPath, Impatient);
        Assert.Equal(["other", "fashion_brands"], database.Datasets);
        Assert.Equal(["2024-01-01_10-00-00"], database.Sessions);
        var examples = database.GetDatasetExamples("fashion_brands");
        Assert.Equal(Enumerable.Range(1, 7).Select(i => Eg(i)), examples.Select(e => e.ToJson()));
        Assert.Equal(Enumerable.Range(1, 7), examples.Select(e => e.Position));
        Assert.Equal("example 3", examples[2].Text);
        Assert.Equal(1003, examples[2].InputHash);
        Assert.Equal(2003, examples[2].TaskHash);
        Assert.Equal("accept", examples[2].Answer);
        Assert.Equal("THING", Assert.Single(examples[2].Spans).Label);
        Assert.Equal("fashion_brands", examples[2].Dataset);
        Assert.Equal(examples, ProdigyDatasets.GetDatasetExamples("fashion_brands", DbPath), new JsonComparer());
    }

    [Fact]
    public void A_missing_dataset_is_an_error_that_lists_the_datasets_there_are()
    {
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddExamples("fashion_brands", [Eg(1)]);
            db.AddExamples("news_headlines", [Eg(2)]);
        }

        using var database = ProdigyDatabase.Open(DbPath, Impatient);
        var error = Assert.Throws<ProdigyDataException>(() => database.ReadRows("Fashion_Brands"));
        Assert.Equal("PRD2203", error.Code);
        Assert.Equal(DbPath, error.File);
        Assert.Contains("no dataset 'Fashion_Brands'", error.Message);
        Assert.Contains("did you mean 'fashion_brands'", error.Message);
        Assert.Contains("its datasets are: fashion_brands, news_headlines", error.Message);
        Assert.Equal("PRD2203", Assert.Throws<ProdigyDataException>(() => database.Digest("nope")).Code);
    }

    [Fact]
    public void A_file_that_is_not_a_database_or_is_truncated_or_lacks_Prodigy_tables_is_a_clear_error()
    {
        var garbage = Path.Combine(_dir, "garbage.db");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 8192).Select(i => (byte)(i * 7 % 251)).ToArray());
        var error = Assert.Throws<ProdigyDataException>(() => ProdigyDatabase.Open(garbage, Impatient));
        Assert.Equal("PRD2201", error.Code);
        Assert.Equal(garbage, error.File);

        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddExamples("big", Enumerable.Range(1, 400).Select(i => Eg(i)));
        }

        var truncated = Path.Combine(_dir, "truncated.db");
        var bytes = File.ReadAllBytes(DbPath);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);
        var corrupt = Assert.Throws<ProdigyDataException>(() =>
        {
            using var database = ProdigyDatabase.Open(truncated, Impatient);
            return database.GetDatasetExamples("big").Count;
        });
        Assert.Equal("PRD2201", corrupt.Code);

        var other = Path.Combine(_dir, "other.db");
        using (var connection = new SqliteConnection($"Data Source={other};Pooling=False"))
        {
            connection.Open();
            ProdigyTestDatabase.Execute(connection, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
        }

        var notProdigy = Assert.Throws<ProdigyDataException>(() => ProdigyDatabase.Open(other, Impatient));
        Assert.Equal("PRD2202", notProdigy.Code);
        Assert.Contains("'dataset', 'example', 'link'", notProdigy.Message);

        Assert.Equal("PRD2200", Assert.Throws<ProdigyDataException>(() => ProdigyDatabase.Open(Path.Combine(_dir, "missing.db"))).Code);
    }

    [Fact]
    public async Task Reading_while_an_annotation_server_writes_in_WAL_mode_never_fails_and_never_blocks_the_writer()
    {
        using var db = ProdigyTestDatabase.Create(DbPath, wal: true);
        db.AddExamples("live", Enumerable.Range(1, 50).Select(i => Eg(i)));
        using var writer = db.OpenWriter();
        ProdigyTestDatabase.Execute(writer, "PRAGMA busy_timeout = 0;");
        using var stop = new CancellationTokenSource();
        var written = 50;
        var writes = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                db.AddExamples("live", [Eg(++written)], writer);
            }
        });

        // The writer must be running before the reads start (on a busy machine the task may start late).
        SpinWait.SpinUntil(() => Volatile.Read(ref written) > 52, TimeSpan.FromSeconds(30));
        var counts = new List<int>();
        var reading = System.Diagnostics.Stopwatch.StartNew();
        // At least 20 reads, and on until a read sees the writer's progress (or 30 s pass).
        for (var i = 0; i < 20 || (counts[^1] <= counts[0] && reading.Elapsed < TimeSpan.FromSeconds(30)); i++)
        {
            using var database = ProdigyDatabase.Open(DbPath, Impatient);
            var examples = database.GetDatasetExamples("live");
            Assert.Equal(examples.Select(e => e.Position), Enumerable.Range(1, examples.Count));
            Assert.Equal(examples.Select(e => e.InputHash), examples.Select(e => e.InputHash).Order());
            counts.Add(examples.Count);
            Assert.True(database.Digest("live").Examples >= examples.Count);
        }

        stop.Cancel();
        await writes; // a writer that was kept waiting would have thrown "database is locked"
        Assert.True(counts[0] >= 50);
        Assert.True(counts[^1] > counts[0], "the writer made no progress while the reader read");
    }

    [Fact]
    public void No_lock_is_held_between_chunks_so_a_writer_in_rollback_mode_commits_while_a_read_is_under_way()
    {
        using var db = ProdigyTestDatabase.Create(DbPath, wal: false);
        db.AddExamples("live", Enumerable.Range(1, 9).Select(i => Eg(i)));
        using var database = ProdigyDatabase.Open(DbPath, Impatient);
        using var rows = database.ReadRows("live").GetEnumerator();
        Assert.True(rows.MoveNext()); // the first chunk (3 rows) is read and its statement finished

        using var writer = db.OpenWriter();
        ProdigyTestDatabase.Execute(writer, "PRAGMA busy_timeout = 0;");
        db.AddExamples("live", [Eg(10)], writer); // would fail with SQLITE_BUSY if the reader held its shared lock

        var positions = new List<int> { rows.Current.Position };
        while (rows.MoveNext())
        {
            positions.Add(rows.Current.Position);
        }

        Assert.Equal(Enumerable.Range(1, 10), positions);
    }

    [Fact]
    public void A_database_locked_by_a_writer_is_retried_then_read_when_the_writer_commits()
    {
        using var db = ProdigyTestDatabase.Create(DbPath, wal: false);
        db.AddExamples("live", [Eg(1)]);
        using var writer = db.OpenWriter();
        ProdigyTestDatabase.Execute(writer, "BEGIN EXCLUSIVE");

        // The writer commits when the first attempt has found the lock: no timing involved.
        var busy = new List<int>();
        using var database = ProdigyDatabase.Open(DbPath, new ProdigyDatabaseOptions
        {
            BusyTimeoutSeconds = 1,
            Attempts = 3,
            Busy = attempt =>
            {
                busy.Add(attempt);
                ProdigyTestDatabase.Execute(writer, "COMMIT");
            },
        });

        Assert.Single(database.GetDatasetExamples("live"));
        Assert.Equal([1], busy);
    }

    [Fact]
    public void A_database_locked_for_good_is_a_clear_error_after_the_retries()
    {
        using var db = ProdigyTestDatabase.Create(DbPath, wal: false);
        db.AddExamples("live", [Eg(1)]);
        using var writer = db.OpenWriter();
        ProdigyTestDatabase.Execute(writer, "BEGIN EXCLUSIVE");
        var busy = new List<int>();
        var error = Assert.Throws<ProdigyDataException>(() => ProdigyDatabase.Open(DbPath, new ProdigyDatabaseOptions { BusyTimeoutSeconds = Impatient.BusyTimeoutSeconds, Attempts = Impatient.Attempts, Busy = busy.Add }));
        Assert.Equal("PRD2204", error.Code);
        Assert.Contains("locked by another process", error.Message);
        Assert.Contains("2 attempt(s)", error.Message);
        // Two attempts, the first followed by a retry: bounded by attempts, not by a stopwatch.
        Assert.Equal([1], busy);
        ProdigyTestDatabase.Execute(writer, "ROLLBACK");
    }

    [Fact]
    public void The_digest_changes_with_a_new_annotation_and_with_nothing_else()
    {
        using var db = ProdigyTestDatabase.Create(DbPath);
        db.AddExamples("ner", Enumerable.Range(1, 5).Select(i => Eg(i)));
        string Digest()
        {
            using var database = ProdigyDatabase.Open(DbPath, Impatient);
            return database.Digest("ner").Hash;
        }

        var first = Digest();
        db.AddExamples("other", [Eg(42)]);
        db.AddDataset("2024-05-05_session", session: true);
        ProdigyTestDatabase.Execute(db.Connection, "VACUUM");
        Assert.Equal(first, Digest());

        db.AddExamples("ner", [Eg(3, "reject")]); // the same task answered again
        var second = Digest();
        Assert.NotEqual(first, second);
        using var database = ProdigyDatabase.Open(DbPath, Impatient);
        Assert.Equal(6, database.Digest("ner").Examples);
        Assert.Matches("^[0-9a-f]{32}$", second);
    }

    [Fact]
    public void Content_that_is_not_JSON_names_the_dataset_and_the_example()
    {
        using (var db = ProdigyTestDatabase.Create(DbPath))
        {
            db.AddExamples("ner", [Eg(1)]);
            ProdigyTestDatabase.Execute(db.Connection, "INSERT INTO example (input_hash, task_hash, content) VALUES (1, 2, X'7B2274657874223A')");
            ProdigyTestDatabase.Execute(db.Connection, "INSERT INTO link (example_id, dataset_id) VALUES (last_insert_rowid(), 1)");
        }

        var error = Assert.Throws<ProdigyDataException>(() => ProdigyDatasets.GetDatasetExamples("ner", DbPath));
        Assert.Equal("PRD2207", error.Code);
        Assert.Equal(2, error.Line);
        Assert.Contains("dataset 'ner', example 2 (id 2)", error.Message);
    }

    private sealed class JsonComparer : IEqualityComparer<ProdigyExample>
    {
        public bool Equals(ProdigyExample? x, ProdigyExample? y) => x?.ToJson() == y?.ToJson();

        public int GetHashCode(ProdigyExample obj) => obj.ToJson().GetHashCode(StringComparison.Ordinal);
    }
}
