using Microsoft.Build.Framework;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Dataset items as the tasks pass them to <c>prodigy-build</c>: a JSONL file (its full path), or, when
/// the item has <c>Database</c> metadata, the dataset named by its Include in a Prodigy database:
/// <c>db:NAME</c> for <c>Database="true"</c> (the database Prodigy's own settings name), else
/// <c>db:NAME,FULLPATH</c> (a path relative to the project).
/// </summary>
internal static class DatasetItems
{
    public static bool IsDatabase(ITaskItem item)
    {
        var database = item.GetMetadata("Database").Trim();
        return database.Length > 0 && !database.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The <c>--dataset</c> value: <c>db:NAME[,DATABASE]</c> or the file's full path.</summary>
    public static string Spec(ITaskItem item, string baseDirectory)
    {
        if (!IsDatabase(item))
        {
            return item.GetMetadata("FullPath") is { Length: > 0 } full ? full : Path.GetFullPath(item.ItemSpec);
        }

        var database = item.GetMetadata("Database").Trim();
        return "db:" + item.ItemSpec.Trim() + (database.Equals("true", StringComparison.OrdinalIgnoreCase) ? "" : "," + Path.GetFullPath(Path.Combine(baseDirectory, database)));
    }

    /// <summary>A Prodigy dataset name: not empty, no whitespace, no commas (Prodigy refuses those).</summary>
    public static bool IsValidName(string name) => name.Trim().Length > 0 && !name.Trim().Any(c => char.IsWhiteSpace(c) || c == ',');

    /// <summary>
    /// The stage inputs of dataset items: files as they are; database datasets as their digest (from
    /// <c>prodigy-build db-digest</c>, or the hash cache when the database did not change), named in the
    /// lock file <c>DATABASE#NAME</c> with their number of examples as size. Null when a digest failed.
    /// </summary>
    public static IReadOnlyList<StageInput>? StageInputs(ProdigyToolTask task, IEnumerable<ITaskItem> items, Func<ITaskItem, string> role, FileHashCache cache)
    {
        var list = items.ToList();
        foreach (var item in list)
        {
            task.ValidateDatabaseDataset(item);
        }

        if (task.Log.HasLoggedErrors)
        {
            return null;
        }

        var baseDirectory = task.BaseDirectory;
        var specs = list.Where(IsDatabase).Select(i => Spec(i, baseDirectory)).ToList();
        var digests = specs.Count == 0 ? new Dictionary<string, DatabaseDigest>() : task.GetDatabaseDigests(specs, cache);
        if (digests is null)
        {
            return null;
        }

        return list.Select(item =>
        {
            if (!IsDatabase(item))
            {
                return new StageInput(Spec(item, baseDirectory), role(item));
            }

            var digest = digests[Spec(item, baseDirectory)];
            return new StageInput(digest.Database + "#" + item.ItemSpec.Trim(), role(item), digest.Hash, digest.Examples, digest.Database);
        }).ToList();
    }
}

/// <summary>A database dataset's digest as <c>prodigy-build db-digest</c> gives it.</summary>
internal sealed class DatabaseDigest(long examples, string hash, string database)
{
    public long Examples { get; } = examples;

    public string Hash { get; } = hash;

    /// <summary>The database file (resolved).</summary>
    public string Database { get; } = database;
}
