using System.Globalization;
using Microsoft.Build.Framework;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Database datasets as stage inputs. Their content hash is a digest over their examples' hashes, which
/// only <c>prodigy-build db-digest</c> can compute (it reads SQLite; the task assembly stays free of
/// native code): the tool runs, as a nested tool task, only for datasets whose database files (and,
/// for Prodigy's own database, prodigy.json files) changed since the digest was last computed, so a
/// build with nothing changed starts no process.
/// </summary>
public abstract partial class ProdigyToolTask
{
    private const string DigestHeader = "# prodigy-build db-digest 1";

    private ProdigyToolTask? _nested;

    /// <summary>Where relative paths of items (a dataset's Database) resolve: the project folder, else the tool's working folder.</summary>
    internal string BaseDirectory =>
        !string.IsNullOrEmpty(ProjectDirectory) ? ProjectDirectory!
        : !string.IsNullOrEmpty(WorkingDirectory) ? WorkingDirectory!
        : Directory.GetCurrentDirectory();

    /// <summary>The digests of database datasets (<c>db:NAME[,DATABASE]</c>), by spec; null when the tool failed (its errors are logged).</summary>
    internal IReadOnlyDictionary<string, DatabaseDigest>? GetDatabaseDigests(IReadOnlyList<string> specs, FileHashCache cache)
    {
        var workingDirectory = string.IsNullOrEmpty(WorkingDirectory) ? BaseDirectory : WorkingDirectory!;
        var result = new Dictionary<string, DatabaseDigest>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var spec in specs.Distinct(StringComparer.Ordinal))
        {
            if (cache.GetDigest(DigestKey(spec, workingDirectory)) is { } known)
            {
                result[spec] = new DatabaseDigest(known.Examples, known.Hash, known.TimePath);
            }
            else
            {
                missing.Add(spec);
            }
        }

        if (missing.Count == 0)
        {
            return result;
        }

        var output = Path.Combine(Path.GetTempPath(), "prodigy-db-digest-" + Guid.NewGuid().ToString("N") + ".txt");
        var startedAt = DateTime.UtcNow.Ticks;
        var digest = new ProdigyDbDigest
        {
            BuildEngine = BuildEngine,
            HostObject = HostObject,
            ToolAssembly = ToolAssembly,
            DotnetHost = DotnetHost,
            WorkingDirectory = workingDirectory,
            TimeoutSeconds = TimeoutSeconds,
            Specs = [.. missing],
            OutputFile = output,
        };
        _nested = digest;
        try
        {
            if (!digest.Execute())
            {
                return null;
            }

            var lines = File.Exists(output) ? File.ReadAllLines(output) : [];
            if (lines.Length == 0 || lines[0] != DigestHeader)
            {
                Log.LogError(null, "PRD1101", null, ToolAssembly, 0, 0, 0, 0,
                    "{0} db-digest did not write the digests this SDK reads ('{1}' expected first in {2}); is ProdigyToolPath a prodigy-build of another version?", ToolDisplayName, DigestHeader, output);
                return null;
            }

            var dependencies = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            var onServers = new HashSet<string>(StringComparer.Ordinal);
            foreach (var fields in lines.Skip(1).Select(l => l.Split('\t')))
            {
                if (fields.Length == 2 && fields[0] == "server")
                {
                    onServers.Add(fields[1]);
                }
                else if (fields.Length == 3 && fields[0] == "depends")
                {
                    (dependencies.TryGetValue(fields[1], out var list) ? list : dependencies[fields[1]] = []).Add(fields[2]);
                }
                else if (fields.Length == 5 && fields[0] == "dataset" && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var examples))
                {
                    result[fields[1]] = new DatabaseDigest(examples, fields[3], fields[4]);
                }
            }

            foreach (var spec in missing)
            {
                if (!result.TryGetValue(spec, out var found))
                {
                    Log.LogError(null, "PRD1101", null, ToolAssembly, 0, 0, 0, 0, "{0} db-digest gave no digest for '{1}'.", ToolDisplayName, spec);
                    return null;
                }

                if (onServers.Contains(spec))
                {
                    // On a PostgreSQL or MySQL server: no file can vouch for the digest, so it is not remembered.
                    continue;
                }

                cache.RememberDigest(DigestKey(spec, workingDirectory), found.Examples, found.Hash, found.Database,
                    dependencies.TryGetValue(spec, out var files) ? files : [found.Database], startedAt);
            }

            return result;
        }
        finally
        {
            _nested = null;
            try
            {
                File.Delete(output);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>PRD1100 for no datasets, PRD1102 for a name Prodigy would refuse.</summary>
    internal bool ValidateDatasets(ITaskItem[] datasets)
    {
        if (datasets.Length == 0)
        {
            Log.LogError(null, "PRD1100", null, null, 0, 0, 0, 0, "{0} was given no datasets.", GetType().Name);
            return false;
        }

        foreach (var dataset in datasets)
        {
            ValidateDatabaseDataset(dataset);
        }

        return !Log.HasLoggedErrors;
    }

    /// <summary>PRD1102 for a database dataset whose name Prodigy would refuse (when a task is called directly; the targets check first).</summary>
    internal void ValidateDatabaseDataset(ITaskItem dataset)
    {
        if (DatasetItems.IsDatabase(dataset) && !DatasetItems.IsValidName(dataset.ItemSpec))
        {
            Log.LogError(null, "PRD1102", null, null, 0, 0, 0, 0,
                "'{0}' is not a Prodigy dataset name (Database='{1}'): names are not empty and have no spaces or commas.", dataset.ItemSpec, dataset.GetMetadata("Database"));
        }
    }

    // What a digest depends on besides files: the spec, the folder Prodigy's settings are read in, and their environment variables.
    private static string DigestKey(string spec, string workingDirectory) =>
        string.Join("\u001f", new[] { spec, Path.GetFullPath(workingDirectory) }
            .Concat(new[] { "PRODIGY_HOME", "PRODIGY_CONFIG", "PRODIGY_CONFIG_OVERRIDES" }.Select(v => Environment.GetEnvironmentVariable(v) ?? "")));
}

/// <summary>Runs <c>prodigy-build db-digest</c> for <see cref="ProdigyToolTask.GetDatabaseDigests"/>.</summary>
internal sealed class ProdigyDbDigest : ProdigyToolTask
{
    public string[] Specs { get; set; } = [];

    public string OutputFile { get; set; } = string.Empty;

    protected override string Command => "db-digest";

    protected override void AddArguments(List<string> arguments)
    {
        foreach (var spec in Specs)
        {
            arguments.Add("--dataset");
            arguments.Add(spec);
        }

        arguments.Add("--output");
        arguments.Add(OutputFile);
    }
}
