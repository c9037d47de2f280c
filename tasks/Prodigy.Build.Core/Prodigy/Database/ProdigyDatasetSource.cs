namespace Prodigy.Build.Core.Prodigy;

/// <summary>
/// Where a dataset's examples are: a JSONL file (what <c>prodigy db-out</c> wrote), or a dataset in a
/// Prodigy SQLite database (a given file, or the one Prodigy's own settings name).
/// </summary>
public sealed record ProdigyDatasetSource
{
    private ProdigyDatasetSource(string? file, string? dataset, string? database)
    {
        File = file;
        Dataset = dataset;
        Database = database;
    }

    /// <summary>The JSONL file; null for a database dataset.</summary>
    public string? File { get; }

    /// <summary>The dataset's name in the database; null for a file.</summary>
    public string? Dataset { get; }

    /// <summary>The SQLite file; null for Prodigy's own database (prodigy.json, PRODIGY_HOME).</summary>
    public string? Database { get; }

    public bool IsDatabase => Dataset is not null;

    public static ProdigyDatasetSource FromFile(string path) => new(path, null, null);

    public static ProdigyDatasetSource FromDatabase(string dataset, string? database = null) =>
        new(null, dataset, string.IsNullOrWhiteSpace(database) ? null : database);

    /// <summary>
    /// Parses the command line's form: <c>db:NAME</c> (Prodigy's database), <c>db:NAME,DATABASE</c> (a
    /// SQLite file; dataset names cannot hold commas), or else a JSONL path.
    /// </summary>
    public static ProdigyDatasetSource Parse(string spec)
    {
        if (!spec.StartsWith("db:", StringComparison.Ordinal))
        {
            return FromFile(spec);
        }

        var rest = spec[3..];
        var comma = rest.IndexOf(',');
        var name = comma < 0 ? rest : rest[..comma];
        if (name.Length == 0 || name.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"'{spec}' does not name a dataset: use db:NAME or db:NAME,DATABASE (a Prodigy dataset name has no spaces or commas).");
        }

        return FromDatabase(name, comma < 0 ? null : rest[(comma + 1)..]);
    }

    /// <summary>The command line's form (see <see cref="Parse"/>).</summary>
    public override string ToString() => IsDatabase ? "db:" + Dataset + (Database is null ? "" : "," + Database) : File!;

    /// <summary>The name an export of it gets: the dataset's name, or the file's name without its extension.</summary>
    public string Name => Dataset ?? Path.GetFileNameWithoutExtension(File!);

    /// <summary>Opens the database this source reads: the SQLite file given, or the one Prodigy's settings name (a file or a server).</summary>
    public ProdigyDatabase Open(string workingDirectory, ProdigyDatabaseOptions? options = null) => !IsDatabase
        ? throw new InvalidOperationException($"{this} is a file, not a database dataset")
        : Database is null ? ProdigyDatabase.Connect(workingDirectory, options) : ProdigyDatabase.Open(Path.GetFullPath(Database, workingDirectory), options);

    /// <summary>The database this source reads, resolved (Prodigy's settings when none was given: a file, or a server's URL without password); null for a file.</summary>
    public string? ResolveDatabase(string workingDirectory) => !IsDatabase
        ? null
        : Database is null ? ProdigySettings.Load(workingDirectory).DatabasePath : Path.GetFullPath(Database, workingDirectory);
}
