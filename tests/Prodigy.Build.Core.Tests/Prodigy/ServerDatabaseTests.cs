using System.Text.Json;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>
/// Prodigy's database on PostgreSQL and MariaDB: the settings as Prodigy resolves them, and reads from
/// real servers (skipped, by name, where .ci/database-servers started none) that must equal the reads
/// of the same data from a SQLite file.
/// </summary>
public sealed class ServerDatabaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-server-db-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Dataset(string path) => Path.Combine(SharedData.Root, "datasets", path);

    private ProdigySettings Settings(string json, Dictionary<string, string>? environment = null)
    {
        File.WriteAllText(Path.Combine(_dir, "prodigy.json"), json);
        return ProdigySettings.Load(_dir, name => name == "PRODIGY_HOME" ? Path.Combine(_dir, "home") : environment?.GetValueOrDefault(name));
    }

    [Fact]
    public void PostgreSQL_settings_are_psycopg2s_parameters_with_libpqs_environment_for_the_rest()
    {
        var settings = Settings("""{"db": "postgresql", "db_settings": {"postgresql": {"dbname": "annotations", "user": "ann", "password": "s3cret", "port": 6543}}}""",
            new() { ["PGHOST"] = "db.internal", ["PGPASSWORD"] = "other" });

        var server = Assert.IsType<ProdigyServerSettings>(settings.Server);
        Assert.Equal((ProdigyServerKind.PostgreSql, "db.internal", 6543, "annotations", "ann"), (server.Kind, server.Host, server.Port, server.Database, server.User));
        Assert.True(server.HasPassword);
        Assert.Equal("postgresql://ann@db.internal:6543/annotations", settings.DatabasePath);
        Assert.DoesNotContain("s3cret", server.ToString() + server.Display + settings.DatabasePath, StringComparison.Ordinal);

        // Only the environment: libpq's variables, the database defaulting to the user's name.
        Assert.Equal(10, server.ConnectTimeoutSeconds);
        Assert.Equal(3, Settings("""{"db": "postgresql", "db_settings": {"postgresql": {"connect_timeout": 3}}}""").Server!.ConnectTimeoutSeconds);
        var fromEnvironment = Settings("""{"db": "postgresql"}""", new() { ["PGHOST"] = "h", ["PGPORT"] = "5433", ["PGUSER"] = "u" }).Server!;
        Assert.Equal(("h", 5433, "u", "u"), (fromEnvironment.Host, fromEnvironment.Port, fromEnvironment.User, fromEnvironment.Database));
    }

    [Fact]
    public void MySQL_settings_take_peewees_names_and_their_aliases()
    {
        var server = Settings("""{"db": "mysql", "db_settings": {"mysql": {"host": "10.0.0.5", "user": "ann", "passwd": "pw", "db": "prodigy"}}}""").Server!;
        Assert.Equal((ProdigyServerKind.MySql, "10.0.0.5", 3306, "prodigy", "ann", true), (server.Kind, server.Host, server.Port, server.Database, server.User, server.HasPassword));

        var noDatabase = Assert.Throws<ProdigyDataException>(() => Settings("""{"db": "mysql", "db_settings": {"mysql": {"host": "x"}}}"""));
        Assert.Equal("PRD2205", noDatabase.Code);
        Assert.Contains("\"database\"", noDatabase.Message, StringComparison.Ordinal);
        var badPort = Assert.Throws<ProdigyDataException>(() => Settings("""{"db": "postgresql", "db_settings": {"postgresql": {"port": "fifty"}}}"""));
        Assert.Contains("port 'fifty'", badPort.Message, StringComparison.Ordinal);
        Assert.Equal("PRD2206", Assert.Throws<ProdigyDataException>(() => Settings("""{"db": "oracle"}""")).Code);
    }

    [Theory]
    [InlineData(ProdigyServerKind.PostgreSql)]
    [InlineData(ProdigyServerKind.MySql)]
    public void An_unreachable_server_is_PRD2207_within_the_connect_timeout_naming_host_and_database_not_the_password(ProdigyServerKind kind)
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        var server = new ProdigyServerSettings(kind, "127.0.0.1", 1, "annotations", "ann", "s3cret-pw", connectTimeoutSeconds: 3);

        var error = Assert.Throws<ProdigyDataException>(() => ProdigyDatabase.OpenServer(server));

        Assert.Equal("PRD2207", error.Code);
        Assert.Contains("annotations on 127.0.0.1:1", error.Message, StringComparison.Ordinal);
        Assert.Equal(server.Display, error.File);
        Assert.DoesNotContain("s3cret-pw", error.ToString(), StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(ProdigyServerKind.PostgreSql)]
    [InlineData(ProdigyServerKind.MySql)]
    public void A_wrong_password_is_PRD2207_and_never_shows_a_password(ProdigyServerKind kind)
    {
        using var db = ServerTestDatabase.ForTest(kind);
        var wrong = new ProdigyServerSettings(kind, db.Settings.Host, db.Settings.Port, db.Settings.Database, db.Settings.User, "not-the-password");

        var error = Assert.Throws<ProdigyDataException>(() => ProdigyDatabase.OpenServer(wrong));

        Assert.Equal("PRD2207", error.Code);
        Assert.Contains($"{db.Settings.Database} on {db.Settings.Host}:{db.Settings.Port}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(db.Password, error.ToString(), StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(ProdigyServerKind.PostgreSql)]
    [InlineData(ProdigyServerKind.MySql)]
    public void A_dataset_on_a_server_reads_as_the_same_dataset_in_a_SQLite_file(ProdigyServerKind kind)
    {
        using var server = ServerTestDatabase.ForTest(kind);
        using var sqlite = ProdigyTestDatabase.Create(Path.Combine(_dir, "prodigy.db"));
        foreach (var (name, file) in new[] { ("fashion_brands", "fashion_brands/fashion_brands_training.jsonl"), ("insults", "reddit_insult_textcat/annotated_reddit-INSULT-textcat.jsonl") })
        {
            server.AddFile(name, Dataset(file));
            sqlite.AddFile(name, Dataset(file));
        }

        using var fromServer = ProdigyDatabase.OpenServer(server.Settings, new ProdigyDatabaseOptions { ChunkSize = 97 });
        using var fromFile = ProdigyDatabase.Open(sqlite.Path);

        Assert.Equal(fromFile.Datasets, fromServer.Datasets);
        foreach (var name in fromFile.Datasets)
        {
            var expected = fromFile.ReadRows(name).ToList();
            var actual = fromServer.ReadRows(name).ToList();
            Assert.Equal(expected.Select(r => (r.Position, r.InputHash, r.TaskHash, Convert.ToHexString(r.Content))), actual.Select(r => (r.Position, r.InputHash, r.TaskHash, Convert.ToHexString(r.Content))));
            Assert.Equal(fromFile.Digest(name), fromServer.Digest(name));
        }

        Assert.Equal("PRD2203", Assert.Throws<ProdigyDataException>(() => fromServer.ReadRows("missing").ToList()).Code);
    }

    [SkippableTheory]
    [InlineData(ProdigyServerKind.PostgreSql)]
    [InlineData(ProdigyServerKind.MySql)]
    public void An_annotation_written_during_a_read_is_seen_by_the_next_read_and_the_writer_is_not_kept_waiting(ProdigyServerKind kind)
    {
        using var db = ServerTestDatabase.ForTest(kind);
        db.AddExamples("live", Enumerable.Range(1, 12).Select(Task));
        using var database = ProdigyDatabase.OpenServer(db.Settings, new ProdigyDatabaseOptions { ChunkSize = 4 });
        var before = database.Digest("live");

        // Between two chunks of a read, an annotator saves: the write commits while the read is open.
        // (On the same thread: a read that held a lock would make this write wait forever.)
        var seen = new List<ProdigyDatabaseRow>();
        foreach (var row in database.ReadRows("live"))
        {
            seen.Add(row);
            if (seen.Count == 4)
            {
                db.AddExamples("other", [Task(100)]);
            }
        }

        Assert.Equal(12, seen.Count);
        Assert.Equal(before, database.Digest("live"));
        db.AddExamples("live", [Task(13)]);
        var after = database.Digest("live");
        Assert.Equal(13, after.Examples);
        Assert.NotEqual(before.Hash, after.Hash);
        Assert.Equal(13, database.ReadRows("live").Count());
    }

    private static string Task(int i) => JsonSerializer.Serialize(new { text = $"example {i}", _input_hash = i, _task_hash = 1000 + i, answer = "accept" });
}
