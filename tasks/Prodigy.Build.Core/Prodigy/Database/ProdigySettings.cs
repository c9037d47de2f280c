using System.Text.Json;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>
/// Where Prodigy keeps its database, found as Prodigy finds it: the home folder (<c>PRODIGY_HOME</c>,
/// else <c>~/.prodigy</c>), the global <c>prodigy.json</c> there (or <c>PRODIGY_CONFIG</c>), a local
/// <c>prodigy.json</c> or <c>.prodigy.json</c> in the working folder over it, then the JSON in
/// <c>PRODIGY_CONFIG_OVERRIDES</c> over both (top-level keys replace), and in the result <c>db</c>
/// (default <c>sqlite</c>) and <c>db_settings.sqlite</c>'s <c>name</c> (default <c>prodigy.db</c>) and
/// <c>path</c> (default the home folder; a relative path is relative to the working folder).
/// </summary>
public sealed class ProdigySettings
{
    private ProdigySettings(string home, string databasePath, IReadOnlyList<string> files, ProdigyServerSettings? server = null)
    {
        Home = home;
        DatabasePath = databasePath;
        ConsultedFiles = files;
        Server = server;
    }

    /// <summary>The PostgreSQL or MySQL server of <c>"db": "postgresql"</c> / <c>"mysql"</c>; null for SQLite.</summary>
    public ProdigyServerSettings? Server { get; }

    /// <summary>Prodigy's home folder.</summary>
    public string Home { get; }

    /// <summary>The SQLite file Prodigy would open; for a server, its <see cref="ProdigyServerSettings.Display"/> (no password).</summary>
    public string DatabasePath { get; }

    /// <summary>The configuration files that were looked for (present or not): a change to any of them can move the database.</summary>
    public IReadOnlyList<string> ConsultedFiles { get; }

    /// <summary>The environment variables that shape the result.</summary>
    public static IReadOnlyList<string> EnvironmentVariables { get; } = ["PRODIGY_HOME", "PRODIGY_CONFIG", "PRODIGY_CONFIG_OVERRIDES", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"];

    /// <summary>Resolves the settings for a command run in <paramref name="workingDirectory"/>.</summary>
    /// <param name="workingDirectory">Where Prodigy would run (the project folder); local config files and relative paths resolve against it.</param>
    /// <param name="environment">Environment lookup (tests); default the process environment.</param>
    public static ProdigySettings Load(string workingDirectory, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var home = environment("PRODIGY_HOME") is { Length: > 0 } fromEnvironment
            ? ExpandHome(fromEnvironment)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".prodigy");
        home = Path.GetFullPath(home, workingDirectory);
        var files = new List<string>();
        var config = new Dictionary<string, JsonElement>(StringComparer.Ordinal);

        var globalPath = environment("PRODIGY_CONFIG") is { Length: > 0 } configFromEnvironment
            ? Path.GetFullPath(ExpandHome(configFromEnvironment), workingDirectory)
            : Path.Combine(home, "prodigy.json");
        files.Add(globalPath);
        Merge(config, ReadConfig(globalPath));

        foreach (var name in new[] { "prodigy.json", ".prodigy.json" })
        {
            var local = Path.Combine(Path.GetFullPath(workingDirectory), name);
            files.Add(local);
            if (File.Exists(local))
            {
                if (!string.Equals(local, globalPath, StringComparison.Ordinal))
                {
                    Merge(config, ReadConfig(local));
                }

                break;
            }
        }

        if (environment("PRODIGY_CONFIG_OVERRIDES") is { Length: > 0 } overrides)
        {
            Merge(config, ParseConfig(overrides, "PRODIGY_CONFIG_OVERRIDES"));
        }

        var db = config.TryGetValue("db", out var dbElement) && dbElement.ValueKind == JsonValueKind.String ? dbElement.GetString()! : "sqlite";
        if (ProdigyServerSettings.TryParseKind(db, out var kind))
        {
            JsonElement entry = default;
            if (config.TryGetValue("db_settings", out var all) && all.ValueKind == JsonValueKind.Object)
            {
                all.TryGetProperty(db, out entry);
            }

            var server = ProdigyServerSettings.From(kind, entry, environment, files.LastOrDefault(File.Exists) ?? "PRODIGY_CONFIG_OVERRIDES");
            return new ProdigySettings(home, server.Display, files, server);
        }

        if (db != "sqlite")
        {
            throw new ProdigyDataException("PRD2206",
                $"Prodigy is set to use the '{db}' database (\"db\" in prodigy.json), which is not one Prodigy supports: sqlite, postgresql or mysql.");
        }

        JsonElement sqlite = default;
        if (config.TryGetValue("db_settings", out var settings) && settings.ValueKind == JsonValueKind.Object
            && settings.TryGetProperty("sqlite", out var sqliteSettings) && sqliteSettings.ValueKind == JsonValueKind.Object)
        {
            sqlite = sqliteSettings;
        }

        var fileName = sqlite.ValueKind == JsonValueKind.Object && sqlite.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String
            ? nameElement.GetString()!
            : "prodigy.db";
        if (fileName == ":memory:")
        {
            throw new ProdigyDataException("PRD2206", "Prodigy is set to keep its SQLite database in memory (db_settings.sqlite.name is ':memory:'), so there is no file to read.");
        }

        var folder = sqlite.ValueKind == JsonValueKind.Object && sqlite.TryGetProperty("path", out var pathElement) && pathElement.ValueKind == JsonValueKind.String
            ? Path.GetFullPath(ExpandHome(pathElement.GetString()!), workingDirectory)
            : home;
        return new ProdigySettings(home, Path.GetFullPath(Path.Combine(folder, fileName)), files);
    }

    private static void Merge(Dictionary<string, JsonElement> config, Dictionary<string, JsonElement>? more)
    {
        foreach (var (key, value) in more ?? [])
        {
            config[key] = value;
        }
    }

    private static Dictionary<string, JsonElement>? ReadConfig(string path)
    {
        string text;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ProdigyDataException("PRD2205", $"Prodigy's configuration cannot be read: {e.Message}", path);
        }

        return ParseConfig(text, path);
    }

    private static Dictionary<string, JsonElement> ParseConfig(string text, string origin)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ProdigyDataException("PRD2205", $"Prodigy's configuration must be a JSON object, found {document.RootElement.ValueKind}.", origin, 1, 1);
            }

            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            var reason = e.Message.Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd();
            throw new ProdigyDataException("PRD2205", $"Prodigy's configuration is not valid JSON: {reason}", origin,
                (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }
    }

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal)
            ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..]
            : path;
}
