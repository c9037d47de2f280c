using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>How patient a reader is with a database that another process is writing to.</summary>
public sealed class ProdigyDatabaseOptions
{
    /// <summary>How long one attempt waits for a writer's lock to go (whole seconds, at least 1).</summary>
    public int BusyTimeoutSeconds { get; init; } = 5;

    /// <summary>How many attempts before a busy database is an error.</summary>
    public int Attempts { get; init; } = 3;

    /// <summary>Examples read per statement: the lock a statement holds is given back between chunks.</summary>
    public int ChunkSize { get; init; } = 2000;

    /// <summary>Called when an attempt found the database locked and another follows, with the attempt's number (1 for the first).</summary>
    public Action<int>? Busy { get; init; }

    public static ProdigyDatabaseOptions Default { get; } = new();
}

/// <summary>One row of a dataset: the link's and the example's ids, Prodigy's hashes and the task as stored (JSON, UTF-8).</summary>
public readonly record struct ProdigyDatabaseRow(int Position, long LinkId, long ExampleId, long InputHash, long TaskHash, byte[] Content);

/// <summary>What a dataset holds, in a few bytes: its number of examples and a hash over their hashes.</summary>
public sealed record ProdigyDatasetDigest(string Dataset, long Examples, string Hash);

/// <summary>
/// A Prodigy SQLite database (<c>dataset</c>, <c>example</c>, <c>link</c>; <c>example.content</c> holds
/// the task as JSON), read-only. Nothing here writes to the file or changes its journal mode, and no
/// lock is held between statements: rows are read in chunks, each a short statement of its own, so an
/// annotation server writing to the same file is never kept waiting for long. A database locked by a
/// writer is retried (<see cref="ProdigyDatabaseOptions"/>) before it is an error (PRD2204).
/// </summary>
public sealed class ProdigyDatabase : IDisposable
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    private readonly DbConnection _connection;
    private readonly ProdigyDatabaseOptions _options;

    private ProdigyDatabase(string path, DbConnection connection, ProdigyDatabaseOptions options, ProdigyServerSettings? server = null)
    {
        Path = path;
        _connection = connection;
        _options = options;
        Server = server;
    }

    /// <summary>The database file; for a server, its <see cref="ProdigyServerSettings.Display"/> (no password).</summary>
    public string Path { get; }

    /// <summary>The PostgreSQL or MySQL server; null for a SQLite file.</summary>
    public ProdigyServerSettings? Server { get; }

    /// <summary>
    /// Opens a Prodigy database on a PostgreSQL or MySQL/MariaDB server (read only: nothing is written)
    /// and checks that it has Prodigy's tables. A server that cannot be reached within its connect
    /// timeout, or refuses the login, is PRD2207 naming the host and database (never the password).
    /// </summary>
    public static ProdigyDatabase OpenServer(ProdigyServerSettings server, ProdigyDatabaseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        DbConnection connection = server.Kind == ProdigyServerKind.PostgreSql
            ? new Npgsql.NpgsqlConnection(server.ConnectionString())
            : new MySqlConnector.MySqlConnection(server.ConnectionString());
        var query = server.Kind == ProdigyServerKind.PostgreSql
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('dataset', 'example', 'link')"
            : "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('dataset', 'example', 'link')";
        return new ProdigyDatabase(server.Display, connection, options ?? ProdigyDatabaseOptions.Default, server)
            .RequireProdigyTables(query, "this database", "Check db_settings in prodigy.json: the database Prodigy writes to.");
    }

    /// <summary>The database <paramref name="settings"/> name: Prodigy's SQLite file or its server.</summary>
    public static ProdigyDatabase Connect(ProdigySettings settings, ProdigyDatabaseOptions? options = null) =>
        settings.Server is { } server ? OpenServer(server, options) : Open(settings.DatabasePath, options);

    /// <summary>Opens a Prodigy database file read-only and checks that it has Prodigy's tables.</summary>
    public static ProdigyDatabase Open(string path, ProdigyDatabaseOptions? options = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new ProdigyDataException("PRD2200",
                Directory.Exists(full)
                    ? "the Prodigy database is a folder, not a SQLite file."
                    : "the Prodigy database does not exist. Check the Database metadata or ProdigyDatabase (or prodigy.json's db_settings and PRODIGY_HOME).",
                full);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = Math.Max(1, (options ?? ProdigyDatabaseOptions.Default).BusyTimeoutSeconds),
        }.ToString());
        return new ProdigyDatabase(full, connection, options ?? ProdigyDatabaseOptions.Default).RequireProdigyTables(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('dataset', 'example', 'link')",
            "this SQLite file",
            "Point Database/ProdigyDatabase at the file Prodigy writes (prodigy.db).");
    }

    /// <summary>Opens the connection and checks that Prodigy's three tables are there (PRD2202 if not); disposes itself on failure.</summary>
    private ProdigyDatabase RequireProdigyTables(string query, string what, string hint)
    {
        try
        {
            Run(() =>
            {
                EnsureOpen();
                using var command = _connection.CreateCommand();
                command.CommandText = query;
                using var reader = command.ExecuteReader();
                var tables = new HashSet<string>(StringComparer.Ordinal);
                while (reader.Read())
                {
                    tables.Add(reader.GetString(0));
                }

                var missing = new[] { "dataset", "example", "link" }.Where(t => !tables.Contains(t)).ToList();
                if (missing.Count > 0)
                {
                    throw new ProdigyDataException("PRD2202",
                        $"{what} is not a Prodigy database: it has no table{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Select(t => "'" + t + "'"))}. {hint}",
                        Path);
                }

                return 0;
            });
        }
        catch
        {
            _connection.Dispose();
            throw;
        }

        return this;
    }

    /// <summary>
    /// The database Prodigy itself would use when run in <paramref name="workingDirectory"/> (prodigy.json's
    /// <c>db_settings</c>, <c>PRODIGY_HOME</c>): the counterpart of Prodigy's <c>connect()</c>.
    /// </summary>
    public static ProdigyDatabase Connect(string? workingDirectory = null, ProdigyDatabaseOptions? options = null) =>
        Connect(ProdigySettings.Load(workingDirectory ?? Directory.GetCurrentDirectory()), options);

    /// <summary>The datasets (not the session datasets), oldest first, as Prodigy lists them.</summary>
    public IReadOnlyList<string> Datasets => Names(session: false);

    /// <summary>The session datasets Prodigy keeps per annotation session.</summary>
    public IReadOnlyList<string> Sessions => Names(session: true);

    /// <summary>Whether a dataset (or session dataset) of that name exists.</summary>
    public bool Contains(string dataset) => DatasetId(dataset) is not null;

    /// <summary>The dataset's examples in the order they were added, as typed tasks (Prodigy's <c>get_dataset_examples</c>).</summary>
    public IReadOnlyList<ProdigyExample> GetDatasetExamples(string dataset, CancellationToken cancellationToken = default) =>
        ReadRows(dataset, cancellationToken).Select(row => ProdigyExample.FromRow(row, Path, dataset)).ToList();

    /// <summary>
    /// The dataset's rows in the order they were added (by link). Read in chunks, each its own short
    /// statement; examples added while reading come at the end. An unknown dataset is PRD2203, which
    /// lists the datasets there are.
    /// </summary>
    public IEnumerable<ProdigyDatabaseRow> ReadRows(string dataset, CancellationToken cancellationToken = default)
    {
        var datasetId = RequireDataset(dataset);
        return ReadChunks(datasetId, cancellationToken);
    }

    private IEnumerable<ProdigyDatabaseRow> ReadChunks(long datasetId, CancellationToken cancellationToken)
    {
        var afterLink = long.MinValue;
        var position = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = Run(() =>
            {
                using var command = _connection.CreateCommand();
                // The chunk's links first, then their examples by primary key: a planner without
                // statistics (a fresh PostgreSQL table) would otherwise scan every example per chunk.
                command.CommandText = """
                    SELECT l.id, e.id, e.input_hash, e.task_hash, e.content
                    FROM (SELECT id, example_id FROM link WHERE dataset_id = @dataset AND id > @after ORDER BY id LIMIT @limit) AS l
                    JOIN example AS e ON e.id = l.example_id
                    ORDER BY l.id
                    """;
                Parameter(command, "@dataset", datasetId);
                Parameter(command, "@after", afterLink);
                Parameter(command, "@limit", Math.Max(1, _options.ChunkSize));
                using var reader = command.ExecuteReader();
                var rows = new List<ProdigyDatabaseRow>();
                while (reader.Read())
                {
                    var content = reader.IsDBNull(4) ? [] : reader.GetFieldValue<byte[]>(4);
                    rows.Add(new ProdigyDatabaseRow(0, reader.GetInt64(0), reader.GetInt64(1), Int64Or0(reader, 2), Int64Or0(reader, 3), content));
                }

                return rows;
            });

            // The statement is finished and its lock given back before anyone sees a row.
            foreach (var row in chunk)
            {
                yield return row with { Position = ++position };
            }

            if (chunk.Count < Math.Max(1, _options.ChunkSize))
            {
                yield break;
            }

            afterLink = chunk[^1].LinkId;
        }
    }

    /// <summary>
    /// The dataset's fingerprint: XxHash128 over each example's input hash, task hash and stored size,
    /// in link order. A new annotation (a new example, or an example answered again) changes it; the
    /// file changing for any other reason (other datasets, sessions, a checkpoint) does not. Reads no content.
    /// </summary>
    public ProdigyDatasetDigest Digest(string dataset)
    {
        var datasetId = RequireDataset(dataset);
        return Run(() =>
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT e.input_hash, e.task_hash, length(e.content)
                FROM link AS l JOIN example AS e ON e.id = l.example_id
                WHERE l.dataset_id = @dataset
                ORDER BY l.id
                """;
            Parameter(command, "@dataset", datasetId);
            using var reader = command.ExecuteReader();
            var hash = new XxHash128();
            Span<byte> buffer = stackalloc byte[24];
            long count = 0;
            while (reader.Read())
            {
                BinaryPrimitives.WriteInt64LittleEndian(buffer, Int64Or0(reader, 0));
                BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], Int64Or0(reader, 1));
                BinaryPrimitives.WriteInt64LittleEndian(buffer[16..], Int64Or0(reader, 2));
                hash.Append(buffer);
                count++;
            }

            return new ProdigyDatasetDigest(dataset, count, Convert.ToHexStringLower(hash.GetCurrentHash()));
        });
    }

    public void Dispose() => _connection.Dispose();

    private static long Int64Or0(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? 0 : reader.GetInt64(ordinal);

    private long RequireDataset(string dataset)
    {
        if (DatasetId(dataset) is { } id)
        {
            return id;
        }

        var names = Datasets;
        var list = names.Count == 0
            ? "it has no datasets"
            : names.Count <= 50
                ? "its datasets are: " + string.Join(", ", names)
                : $"its datasets are: {string.Join(", ", names.Take(50))} and {names.Count - 50} more";
        var near = names.Where(n => string.Equals(n, dataset, StringComparison.OrdinalIgnoreCase)).ToList();
        var hint = near.Count > 0 ? $" (names are case-sensitive: did you mean '{near[0]}'?)" : "";
        throw new ProdigyDataException("PRD2203", $"the database has no dataset '{dataset}'{hint}; {list}.", Path);
    }

    private long? DatasetId(string dataset) => Run(() =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT id FROM dataset WHERE name = @name";
        Parameter(command, "@name", dataset);
        var value = command.ExecuteScalar();
        return value is null or DBNull ? (long?)null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    });

    private List<string> Names(bool session) => Run(() =>
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT name FROM dataset WHERE session = @session ORDER BY created, id";
        Parameter(command, "@session", session);
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    });

    private static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private void EnsureOpen()
    {
        if (_connection.State == System.Data.ConnectionState.Open)
        {
            return;
        }

        if (Server is not { } server)
        {
            _connection.Open();
            return;
        }

        try
        {
            _connection.Open();
        }
        catch (Exception e) when (e is DbException or TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // The driver's reason (refused, timed out, authentication failed for user ...) holds no password.
            throw new ProdigyDataException("PRD2207",
                $"cannot connect to the Prodigy database {server.Database} on {server.Host}:{server.Port} within {server.ConnectTimeoutSeconds} s: {Reason(e)} Check db_settings.{server.SettingsName} in prodigy.json (or the PG* variables), and that the server is running.",
                server.Display);
        }
    }

    private static string Reason(Exception e)
    {
        var message = (e.InnerException is { } inner && e.Message.Contains("exception", StringComparison.OrdinalIgnoreCase) ? inner.Message : e.Message).Trim();
        return message.EndsWith('.') ? message : message + ".";
    }

    /// <summary>Runs one read; a busy or locked database is tried again, a corrupt one is PRD2201.</summary>
    private T Run<T>(Func<T> read)
    {
        var attempts = Math.Max(1, _options.Attempts);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                EnsureOpen();
                return read();
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteBusy or SqliteLocked)
            {
                if (attempt >= attempts)
                {
                    throw new ProdigyDataException("PRD2204",
                        $"the database is locked by another process (an annotation server writing to it?); gave up after {attempts} attempt(s) of {_options.BusyTimeoutSeconds} s. Try again when the writer is done; if nothing is writing, a crashed process may have left a lock (close it, or copy the file).",
                        Path);
                }

                _options.Busy?.Invoke(attempt);
                Thread.Sleep(TimeSpan.FromMilliseconds(200 * attempt));
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
            {
                throw new ProdigyDataException("PRD2201", $"the file is not a readable SQLite database ({e.Message.TrimEnd('.')}). Is it corrupt, or not a Prodigy database at all?", Path);
            }
            catch (SqliteException e)
            {
                throw new ProdigyDataException("PRD2201", $"the database cannot be read: {e.Message}", Path);
            }
            catch (DbException e) when (Server is not null)
            {
                throw new ProdigyDataException("PRD2201", $"the database cannot be read: {e.Message}", Path);
            }
        }
    }
}
