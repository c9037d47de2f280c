using System.Globalization;
using System.Text.Json;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>The database servers Prodigy can keep its annotations in besides SQLite.</summary>
public enum ProdigyServerKind
{
    /// <summary><c>"db": "postgresql"</c> (psycopg2).</summary>
    PostgreSql,

    /// <summary><c>"db": "mysql"</c> (MySQL or MariaDB, through peewee's MySQLDatabase).</summary>
    MySql,
}

/// <summary>
/// Where a Prodigy database on a server is, read as Prodigy's drivers read it: <c>db_settings.postgresql</c>
/// holds psycopg2's connection parameters (<c>dbname</c>/<c>database</c>, <c>user</c>, <c>password</c>,
/// <c>host</c>, <c>port</c>) with libpq's environment variables (<c>PGHOST</c>, <c>PGPORT</c>,
/// <c>PGDATABASE</c>, <c>PGUSER</c>, <c>PGPASSWORD</c>) for the ones it lacks; <c>db_settings.mysql</c>
/// holds peewee's MySQL parameters (<c>database</c>/<c>db</c>, <c>user</c>, <c>password</c>/<c>passwd</c>,
/// <c>host</c>, <c>port</c>). The password is never part of <see cref="ToString"/> or <see cref="Display"/>:
/// it goes into the connection only, not into logs, the lock file, the hash cache or error messages.
/// </summary>
public sealed class ProdigyServerSettings
{
    private readonly string? _password;

    /// <summary>A server's settings; <paramref name="password"/> is kept for the connection only.</summary>
    public ProdigyServerSettings(ProdigyServerKind kind, string host, int port, string database, string? user, string? password, int connectTimeoutSeconds = 10)
    {
        Kind = kind;
        Host = host;
        Port = port;
        Database = database;
        User = user;
        _password = password;
        ConnectTimeoutSeconds = connectTimeoutSeconds;
    }

    public ProdigyServerKind Kind { get; }

    public string Host { get; }

    public int Port { get; }

    public string Database { get; }

    public string? User { get; }

    /// <summary>How long a connection attempt may take before it is an error (seconds).</summary>
    public int ConnectTimeoutSeconds { get; }

    /// <summary>Whether a password was given (it is not shown anywhere).</summary>
    public bool HasPassword => !string.IsNullOrEmpty(_password);

    /// <summary>Prodigy's name of the backend: the <c>"db"</c> value and the <c>db_settings</c> key (<c>postgresql</c>, <c>mysql</c>).</summary>
    public string SettingsName => NameOf(Kind);

    /// <summary>The server and database as a URL without the password, e.g. <c>postgresql://prodigy@db.internal:5432/annotations</c>: what logs, lock files and errors show.</summary>
    public string Display => $"{SettingsName}://{(User is null ? "" : User + "@")}{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Database}";

    public override string ToString() => Display;

    /// <summary>The ADO.NET connection string of the server's driver (holds the password: never log it).</summary>
    internal string ConnectionString() => Kind == ProdigyServerKind.PostgreSql
        ? new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Database = Database,
            Username = User,
            Password = _password,
            Timeout = ConnectTimeoutSeconds,
            CommandTimeout = 0,
            Pooling = false,
            ApplicationName = "prodigy-build",
        }.ConnectionString
        : new MySqlConnector.MySqlConnectionStringBuilder
        {
            Server = Host,
            Port = (uint)Port,
            Database = Database,
            UserID = User ?? "",
            Password = _password ?? "",
            ConnectionTimeout = (uint)ConnectTimeoutSeconds,
            DefaultCommandTimeout = 0,
            Pooling = false,
            ApplicationName = "prodigy-build",
        }.ConnectionString;

    /// <summary>
    /// The settings of <paramref name="kind"/> from <c>db_settings</c>'s entry for it (absent: an empty
    /// object) and the environment. A value of the wrong type is PRD2205 at <paramref name="origin"/>.
    /// </summary>
    public static ProdigyServerSettings From(ProdigyServerKind kind, JsonElement settings, Func<string, string?> environment, string origin)
    {
        string? Text(params string[] keys)
        {
            if (settings.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var key in keys)
            {
                if (settings.TryGetProperty(key, out var value))
                {
                    return value.ValueKind switch
                    {
                        JsonValueKind.String => value.GetString(),
                        JsonValueKind.Number => value.GetRawText(),
                        JsonValueKind.Null => null,
                        _ => throw new ProdigyDataException("PRD2205", $"db_settings.{NameOf(kind)}.{key} must be a string or a number, found {value.ValueKind}.", origin),
                    };
                }
            }

            return null;
        }

        string? Environment(string name) => environment(name) is { Length: > 0 } value ? value : null;

        string host, database;
        string? user, password, portText;
        int defaultPort;
        if (kind == ProdigyServerKind.PostgreSql)
        {
            host = Text("host") ?? Environment("PGHOST") ?? "localhost";
            portText = Text("port") ?? Environment("PGPORT");
            user = Text("user") ?? Environment("PGUSER") ?? System.Environment.UserName;
            password = Text("password") ?? Environment("PGPASSWORD");
            // libpq's default database is the user's name.
            database = Text("dbname", "database") ?? Environment("PGDATABASE") ?? user;
            defaultPort = 5432;
        }
        else
        {
            host = Text("host") ?? "localhost";
            portText = Text("port");
            user = Text("user");
            password = Text("password", "passwd");
            database = Text("database", "db") ?? throw new ProdigyDataException("PRD2205",
                "db_settings.mysql names no database: add \"database\" (or \"db\") as Prodigy's MySQL settings need it.", origin);
            defaultPort = 3306;
        }

        var port = defaultPort;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new ProdigyDataException("PRD2205", $"db_settings.{NameOf(kind)}.port '{portText}' is not a port number (1-65535).", origin);
        }

        // psycopg2's and pymysql's connect_timeout (seconds); 10 when not given, so a wrong host fails a build in bounded time.
        var timeoutText = Text("connect_timeout");
        var timeout = 10;
        if (timeoutText is not null && (!int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out timeout) || timeout < 1))
        {
            throw new ProdigyDataException("PRD2205", $"db_settings.{NameOf(kind)}.connect_timeout '{timeoutText}' is not a number of seconds (1 or more).", origin);
        }

        return new ProdigyServerSettings(kind, host, port, database, user, password, timeout);
    }

    /// <summary>The backend of a <c>"db"</c> value, if it names a server.</summary>
    public static bool TryParseKind(string db, out ProdigyServerKind kind)
    {
        kind = db == "mysql" ? ProdigyServerKind.MySql : ProdigyServerKind.PostgreSql;
        return db is "postgresql" or "mysql";
    }

    private static string NameOf(ProdigyServerKind kind) => kind == ProdigyServerKind.PostgreSql ? "postgresql" : "mysql";
}
