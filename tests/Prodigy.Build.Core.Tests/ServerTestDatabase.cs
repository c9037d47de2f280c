using System.Data.Common;
using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tests.Shared;

/// <summary>
/// A Prodigy database on a real PostgreSQL or MariaDB server (started by <c>.ci/database-servers</c>,
/// found through <c>PRODIGY_TEST_POSTGRES</c> / <c>PRODIGY_TEST_MYSQL</c>): a database of its own per
/// test (or benchmark), with the tables peewee creates for Prodigy's <c>Dataset</c>, <c>Example</c> and
/// <c>Link</c> models on that backend, filled the way Prodigy's <c>add_examples</c> fills them.
/// </summary>
internal sealed partial class ServerTestDatabase : IDisposable
{
    // peewee's PostgresqlDatabase: AUTO is SERIAL, BlobField BYTEA, BooleanField BOOLEAN, BigIntegerField BIGINT.
    private const string PostgreSqlSchema = """
        CREATE TABLE IF NOT EXISTS "dataset" ("id" SERIAL NOT NULL PRIMARY KEY, "name" VARCHAR(255) NOT NULL, "created" INTEGER NOT NULL, "meta" BYTEA NOT NULL, "session" BOOLEAN NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS "dataset_name" ON "dataset" ("name");
        CREATE TABLE IF NOT EXISTS "example" ("id" SERIAL NOT NULL PRIMARY KEY, "input_hash" BIGINT NOT NULL, "task_hash" BIGINT NOT NULL, "content" BYTEA NOT NULL);
        CREATE TABLE IF NOT EXISTS "link" ("id" SERIAL NOT NULL PRIMARY KEY, "example_id" INTEGER NOT NULL, "dataset_id" INTEGER NOT NULL, FOREIGN KEY ("example_id") REFERENCES "example" ("id"), FOREIGN KEY ("dataset_id") REFERENCES "dataset" ("id"));
        CREATE INDEX IF NOT EXISTS "link_example_id" ON "link" ("example_id");
        CREATE INDEX IF NOT EXISTS "link_dataset_id" ON "link" ("dataset_id");
        """;

    // peewee's MySQLDatabase: AUTO is INTEGER AUTO_INCREMENT, BlobField BLOB, BooleanField BOOL.
    private const string MySqlSchema = """
        CREATE TABLE IF NOT EXISTS `dataset` (`id` INTEGER AUTO_INCREMENT NOT NULL PRIMARY KEY, `name` VARCHAR(255) NOT NULL, `created` INTEGER NOT NULL, `meta` BLOB NOT NULL, `session` BOOL NOT NULL);
        CREATE UNIQUE INDEX `dataset_name` ON `dataset` (`name`);
        CREATE TABLE IF NOT EXISTS `example` (`id` INTEGER AUTO_INCREMENT NOT NULL PRIMARY KEY, `input_hash` BIGINT NOT NULL, `task_hash` BIGINT NOT NULL, `content` BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS `link` (`id` INTEGER AUTO_INCREMENT NOT NULL PRIMARY KEY, `example_id` INTEGER NOT NULL, `dataset_id` INTEGER NOT NULL, FOREIGN KEY (`example_id`) REFERENCES `example` (`id`), FOREIGN KEY (`dataset_id`) REFERENCES `dataset` (`id`));
        CREATE INDEX `link_example_id` ON `link` (`example_id`);
        CREATE INDEX `link_dataset_id` ON `link` (`dataset_id`);
        """;

    private readonly string _adminConnectionString;
    private int _created = 1_700_000_000;

    private ServerTestDatabase(ProdigyServerKind kind, string adminConnectionString, ProdigyServerSettings settings, string password, DbConnection connection)
    {
        Kind = kind;
        _adminConnectionString = adminConnectionString;
        Settings = settings;
        Password = password;
        Connection = connection;
    }

    public ProdigyServerKind Kind { get; }

    /// <summary>How the SDK reaches this test's database.</summary>
    public ProdigyServerSettings Settings { get; }

    /// <summary>The password of <see cref="Settings"/> (for tests that check it is never shown).</summary>
    public string Password { get; }

    /// <summary>A read-write connection (Prodigy's writer).</summary>
    public DbConnection Connection { get; }

    public static string Variable(ProdigyServerKind kind) => kind == ProdigyServerKind.PostgreSql ? "PRODIGY_TEST_POSTGRES" : "PRODIGY_TEST_MYSQL";

    /// <summary>A fresh database on the server <paramref name="admin"/> connects to (a user who may create databases), with Prodigy's tables.</summary>
    public static ServerTestDatabase Create(ProdigyServerKind kind, string admin)
    {
        var name = "prodigy_t" + Guid.NewGuid().ToString("N")[..12];
        using (var connection = Open(kind, admin))
        {
            Execute(connection, $"CREATE DATABASE {name}");
        }

        DbConnection opened;
        string host, user, password;
        int port;
        if (kind == ProdigyServerKind.PostgreSql)
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = false };
            (host, port, user, password) = (builder.Host!, builder.Port, builder.Username!, builder.Password!);
            opened = Open(kind, builder.ConnectionString);
            Execute(opened, PostgreSqlSchema);
        }
        else
        {
            var builder = new MySqlConnector.MySqlConnectionStringBuilder(admin) { Database = name, Pooling = false };
            (host, port, user, password) = (builder.Server, (int)builder.Port, builder.UserID, builder.Password);
            opened = Open(kind, builder.ConnectionString);
            foreach (var statement in MySqlSchema.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                Execute(opened, statement);
            }
        }

        return new ServerTestDatabase(kind, admin, new ProdigyServerSettings(kind, host, port, name, user, password), password, opened);
    }

    /// <summary>Adds tasks (JSON lines, stored byte for byte) to a dataset, creating it when needed, in one transaction.</summary>
    public void AddExamples(string dataset, IEnumerable<string> jsonLines)
    {
        using var transaction = Connection.BeginTransaction();
        var datasetId = DatasetId(transaction, dataset) ?? AddDataset(transaction, dataset);
        foreach (var line in jsonLines)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            long Hash(string key) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out var value) && value.TryGetInt64(out var hash) ? hash : 0;
            var exampleId = Convert.ToInt64(Scalar(transaction, Returning("INSERT INTO example (input_hash, task_hash, content) VALUES (@input, @task, @content)"),
                ("@input", Hash("_input_hash")), ("@task", Hash("_task_hash")), ("@content", Encoding.UTF8.GetBytes(line))));
            Scalar(transaction, "INSERT INTO link (example_id, dataset_id) VALUES (@example, @dataset)", ("@example", exampleId), ("@dataset", datasetId));
        }

        transaction.Commit();
    }

    /// <summary>The prodigy.json a team would write for this database (<paramref name="password"/> in place of the real one, to test a wrong one).</summary>
    public string ProdigyJson(string? password = null)
    {
        var entry = Kind == ProdigyServerKind.PostgreSql
            ? new System.Text.Json.Nodes.JsonObject { ["host"] = Settings.Host, ["port"] = Settings.Port, ["dbname"] = Settings.Database, ["user"] = Settings.User, ["password"] = password ?? Password }
            : new System.Text.Json.Nodes.JsonObject { ["host"] = Settings.Host, ["port"] = Settings.Port, ["db"] = Settings.Database, ["user"] = Settings.User, ["passwd"] = password ?? Password };
        return new System.Text.Json.Nodes.JsonObject { ["db"] = Settings.SettingsName, ["db_settings"] = new System.Text.Json.Nodes.JsonObject { [Settings.SettingsName] = entry } }.ToJsonString();
    }

    public void AddFile(string dataset, string jsonlPath) => AddExamples(dataset, File.ReadLines(jsonlPath).Where(l => l.Trim().Length > 0));

    public void Dispose()
    {
        Connection.Dispose();
        using var admin = Open(Kind, _adminConnectionString);
        Execute(admin, $"DROP DATABASE IF EXISTS {Settings.Database}" + (Kind == ProdigyServerKind.PostgreSql ? " WITH (FORCE)" : ""));
    }

    private string Returning(string insert) => Kind == ProdigyServerKind.PostgreSql ? insert + " RETURNING id" : insert + "; SELECT LAST_INSERT_ID()";

    private long AddDataset(DbTransaction transaction, string name) => Convert.ToInt64(Scalar(transaction,
        Returning("INSERT INTO dataset (name, created, meta, session) VALUES (@name, @created, @meta, @session)"),
        ("@name", name), ("@created", _created++), ("@meta", Encoding.UTF8.GetBytes("{}")), ("@session", false)));

    private long? DatasetId(DbTransaction transaction, string name) =>
        Scalar(transaction, "SELECT id FROM dataset WHERE name = @name", ("@name", name)) is { } id and not DBNull ? Convert.ToInt64(id) : null;

    private object? Scalar(DbTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command.ExecuteScalar();
    }

    private static DbConnection Open(ProdigyServerKind kind, string connectionString)
    {
        DbConnection connection = kind == ProdigyServerKind.PostgreSql
            ? new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString)
            : new MySqlConnector.MySqlConnection(new MySqlConnector.MySqlConnectionStringBuilder(connectionString) { Pooling = false, AllowUserVariables = true }.ConnectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
