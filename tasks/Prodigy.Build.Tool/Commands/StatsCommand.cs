using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tool.Commands;

/// <summary><c>prodigy-build stats</c>: per dataset what <c>prodigy stats -l</c> shows, also as JSON.</summary>
public sealed class StatsCommand : ICommand
{
    public string Name => "stats";

    public string Summary => "Count examples, answers and labels per dataset (prodigy stats -l); also as JSON";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("dataset", true, "A dataset: db:NAME, db:NAME,DATABASE or a JSONL path. Repeatable. Without it: every dataset of --database.", Repeatable: true),
        new("database", true, "The SQLite file whose datasets to count when no --dataset is given (default: Prodigy's, from prodigy.json / PRODIGY_HOME)."),
        new("json", true, "Also write the statistics to this JSON file."),
    ];

    public string Usage =>
        $"""
        Usage: {CommandLine.ToolName} stats [--dataset SPEC]... [--database FILE] [--json FILE]

        Options:
        {string.Join("\n", Options.Select(o => $"  --{o.Name,-9} {o.Help}"))}
        """;

    public Task<int> RunAsync(ParsedArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        DatasetSpec.ReportingDataErrors(() => Run(arguments, stdout, cancellationToken));

    private async Task<int> Run(ParsedArguments arguments, TextWriter stdout, CancellationToken cancellationToken)
    {
        var workingDirectory = Directory.GetCurrentDirectory();
        var sources = arguments.GetAll("dataset").Select(DatasetSpec.Parse).Distinct().ToList();
        if (sources.Count == 0)
        {
            var databaseOption = arguments.Get("database");
            using var database = databaseOption is null
                ? ProdigyDatabase.Connect(workingDirectory)
                : ProdigyDatabase.Open(Path.GetFullPath(databaseOption));
            await stdout.WriteLineAsync($"Database {database.Path}: {database.Datasets.Count} dataset(s), {database.Sessions.Count} session(s)");
            sources = database.Datasets.Select(name => ProdigyDatasetSource.FromDatabase(name, databaseOption)).ToList();
        }

        var all = new List<ProdigyDatasetStats>();
        foreach (var source in sources)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var label = source.IsDatabase ? $"{source.ResolveDatabase(workingDirectory)}#{source.Dataset}" : source.File!;
            var stats = ProdigyDatasetStats.Compute(source.Name, label, ProdigyDatasets.Read(source, workingDirectory, cancellationToken: cancellationToken));
            all.Add(stats);
            await stdout.WriteAsync(stats.ToText());
        }

        if (arguments.Get("json") is { } json)
        {
            AtomicFile.WriteAllBytes(json, ProdigyDatasetStats.ToJson(all));
            await stdout.WriteLineAsync($"Saved statistics: {json}");
        }

        return 0;
    }
}
