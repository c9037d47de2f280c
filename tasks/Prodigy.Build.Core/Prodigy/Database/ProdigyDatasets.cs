namespace Prodigy.Build.Core.Prodigy;

/// <summary>
/// Reads a dataset as typed examples, from a JSONL file or from Prodigy's database: the .NET
/// counterpart of Prodigy's <c>connect().get_dataset_examples(name)</c>.
/// </summary>
/// <example>
/// <code>
/// foreach (var eg in ProdigyDatasets.GetDatasetExamples("fashion_brands", "prodigy.db"))
///     Console.WriteLine($"{eg.Answer} {eg.Text} {string.Join(", ", eg.Spans.Select(s => s.Label))}");
/// </code>
/// </example>
public static class ProdigyDatasets
{
    /// <summary>A database dataset's examples, in the order they were added.</summary>
    /// <param name="dataset">The dataset's name.</param>
    /// <param name="database">The SQLite file; null for the one Prodigy's settings name (prodigy.json, PRODIGY_HOME).</param>
    /// <param name="workingDirectory">Where a relative <paramref name="database"/> and Prodigy's local prodigy.json are looked for; default the current folder.</param>
    public static IReadOnlyList<ProdigyExample> GetDatasetExamples(string dataset, string? database = null, string? workingDirectory = null) =>
        Read(ProdigyDatasetSource.FromDatabase(dataset, database), workingDirectory).ToList();

    /// <summary>The examples of a file or a database dataset, in order (streamed; a database is read in short chunks).</summary>
    public static IEnumerable<ProdigyExample> Read(ProdigyDatasetSource source, string? workingDirectory = null, ProdigyDatabaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        workingDirectory ??= Directory.GetCurrentDirectory();
        if (!source.IsDatabase)
        {
            var path = Path.GetFullPath(source.File!, workingDirectory);
            if (!File.Exists(path))
            {
                throw new ProdigyDataException("PRD2010", "the dataset file does not exist.", source.File);
            }

            return ReadFile(source.File!, path, cancellationToken);
        }

        return ReadDatabase(source, workingDirectory, options, cancellationToken);
    }

    private static IEnumerable<ProdigyExample> ReadFile(string label, string path, CancellationToken cancellationToken)
    {
        foreach (var line in ProdigyTaskReader.ReadLines(path))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ProdigyExample.Parse(line.Bytes.Span, label, line.Number);
        }
    }

    private static IEnumerable<ProdigyExample> ReadDatabase(ProdigyDatasetSource source, string workingDirectory, ProdigyDatabaseOptions? options, CancellationToken cancellationToken)
    {
        var database = source.Open(workingDirectory, options);
        IEnumerable<ProdigyDatabaseRow> rows;
        try
        {
            rows = database.ReadRows(source.Dataset!, cancellationToken);
        }
        catch
        {
            database.Dispose();
            throw;
        }

        return Rows(database, rows, source.Dataset!);
    }

    private static IEnumerable<ProdigyExample> Rows(ProdigyDatabase database, IEnumerable<ProdigyDatabaseRow> rows, string dataset)
    {
        using (database)
        {
            foreach (var row in rows)
            {
                yield return ProdigyExample.FromRow(row, database.Path, dataset);
            }
        }
    }
}
