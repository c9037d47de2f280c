using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Prodigy.Build.Tests.Shared;

/// <summary>
/// A real Prodigy SQLite database made in a test, through Prodigy's own schema (the tables peewee
/// creates for Prodigy's <c>Dataset</c>, <c>Example</c> and <c>Link</c> models) and the way Prodigy's
/// <c>add_examples</c> fills them: one <c>example</c> row per task (its <c>_input_hash</c>,
/// <c>_task_hash</c>, and the task's JSON as a BLOB), one <c>link</c> row tying it to the dataset.
/// </summary>
internal sealed class ProdigyTestDatabase : IDisposable
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS "dataset" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "created" INTEGER NOT NULL, "meta" BLOB NOT NULL, "session" INTEGER NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS "dataset_name" ON "dataset" ("name");
        CREATE TABLE IF NOT EXISTS "example" ("id" INTEGER NOT NULL PRIMARY KEY, "input_hash" INTEGER NOT NULL, "task_hash" INTEGER NOT NULL, "content" BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS "link" ("id" INTEGER NOT NULL PRIMARY KEY, "example_id" INTEGER NOT NULL, "dataset_id" INTEGER NOT NULL, FOREIGN KEY ("example_id") REFERENCES "example" ("id"), FOREIGN KEY ("dataset_id") REFERENCES "dataset" ("id"));
        CREATE INDEX IF NOT EXISTS "link_example_id" ON "link" ("example_id");
        CREATE INDEX IF NOT EXISTS "link_dataset_id" ON "link" ("dataset_id");
        """;

    private long _created = 1_700_000_000;

    private ProdigyTestDatabase(string path, SqliteConnection connection)
    {
        Path = path;
        Connection = connection;
    }

    public string Path { get; }

    /// <summary>The writer's connection (read-write), e.g. to hold a lock in a test.</summary>
    public SqliteConnection Connection { get; }

    /// <summary>Creates the file with Prodigy's tables; <paramref name="wal"/> puts it in write-ahead-log mode.</summary>
    public static ProdigyTestDatabase Create(string path, bool wal = false)
    {
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadWriteCreate }.ToString());
        connection.Open();
        Execute(connection, wal ? "PRAGMA journal_mode=WAL;" : "PRAGMA journal_mode=DELETE;");
        Execute(connection, Schema);
        return new ProdigyTestDatabase(path, connection);
    }

    /// <summary>Another read-write connection to the same file (a second writer).</summary>
    public SqliteConnection OpenWriter()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false, DefaultTimeout = 1 }.ToString());
        connection.Open();
        return connection;
    }

    public long AddDataset(string name, bool session = false) => AddDataset(Connection, null, name, session);

    private long AddDataset(SqliteConnection connection, SqliteTransaction? transaction, string name, bool session)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO dataset (name, created, meta, session) VALUES ($name, $created, $meta, $session) RETURNING id";
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$created", _created++);
        command.Parameters.AddWithValue("$meta", Encoding.UTF8.GetBytes("{}"));
        command.Parameters.AddWithValue("$session", session ? 1 : 0);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Adds tasks (JSON lines, stored byte for byte) to a dataset, creating it when needed, in one transaction.</summary>
    public void AddExamples(string dataset, IEnumerable<string> jsonLines, SqliteConnection? connection = null)
    {
        connection ??= Connection;
        using var transaction = connection.BeginTransaction();
        var datasetId = DatasetId(connection, transaction, dataset) ?? AddDataset(connection, transaction, dataset, session: false);
        foreach (var line in jsonLines)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            long Hash(string key) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out var value) && value.TryGetInt64(out var hash) ? hash : 0;
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO example (input_hash, task_hash, content) VALUES ($input, $task, $content) RETURNING id";
            insert.Parameters.AddWithValue("$input", Hash("_input_hash"));
            insert.Parameters.AddWithValue("$task", Hash("_task_hash"));
            insert.Parameters.AddWithValue("$content", Encoding.UTF8.GetBytes(line));
            var exampleId = (long)insert.ExecuteScalar()!;
            using var link = connection.CreateCommand();
            link.Transaction = transaction;
            link.CommandText = "INSERT INTO link (example_id, dataset_id) VALUES ($example, $dataset)";
            link.Parameters.AddWithValue("$example", exampleId);
            link.Parameters.AddWithValue("$dataset", datasetId);
            link.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Adds every line of a JSONL file to a dataset.</summary>
    public void AddFile(string dataset, string jsonlPath) =>
        AddExamples(dataset, File.ReadLines(jsonlPath).Where(l => l.Trim().Length > 0));

    public void Dispose() => Connection.Dispose();

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long? DatasetId(SqliteConnection connection, SqliteTransaction transaction, string name)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id FROM dataset WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteScalar() as long?;
    }
}
