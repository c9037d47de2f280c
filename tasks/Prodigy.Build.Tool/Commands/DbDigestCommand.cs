using System.Globalization;
using System.Text;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tool.Commands;

/// <summary>
/// <c>prodigy-build db-digest</c>: the fingerprint of database datasets (their number of examples and a
/// hash over the examples' hashes, reading no content), and the files that decide it. The SDK's stages
/// use it as a database dataset's content hash: a new annotation changes it, nothing else does.
/// </summary>
public sealed class DbDigestCommand : ICommand
{
    /// <summary>The first line of the output; the SDK's task checks it.</summary>
    public const string Header = "# prodigy-build db-digest 1";

    public string Name => "db-digest";

    public string Summary => "Fingerprint database datasets by their examples' hashes (for incremental builds)";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("dataset", true, "A database dataset: db:NAME or db:NAME,DATABASE. Repeatable.", Repeatable: true),
        new("output", true, "Write the digests to this file instead of standard output."),
    ];

    public string Usage =>
        $"""
        Usage: {CommandLine.ToolName} db-digest --dataset db:NAME[,DATABASE]... [--output FILE]

        Prints, per dataset, "dataset SPEC EXAMPLES HASH DATABASE" and the files it depends on ("depends SPEC PATH": the
        database, its write-ahead log, and for Prodigy's own database the prodigy.json files that locate it).

        Options:
        {string.Join("\n", Options.Select(o => $"  --{o.Name,-9} {o.Help}"))}
        """;

    public Task<int> RunAsync(ParsedArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        DatasetSpec.ReportingDataErrors(() => Run(arguments, stdout, cancellationToken));

    private async Task<int> Run(ParsedArguments arguments, TextWriter stdout, CancellationToken cancellationToken)
    {
        var specs = arguments.GetAll("dataset");
        if (specs.Count == 0)
        {
            throw new UsageException("db-digest needs --dataset db:NAME[,DATABASE]");
        }

        var workingDirectory = Directory.GetCurrentDirectory();
        var text = new StringBuilder(Header).Append('\n');
        foreach (var spec in specs.Distinct(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var source = DatasetSpec.Parse(spec);
            if (!source.IsDatabase)
            {
                throw new UsageException($"'{spec}' is not a database dataset (db:NAME or db:NAME,DATABASE)");
            }

            using var database = source.Open(workingDirectory);
            var digest = database.Digest(source.Dataset!);
            text.Append(CultureInfo.InvariantCulture, $"dataset\t{spec}\t{digest.Examples}\t{digest.Hash}\t{database.Path}\n");
            var depends = new List<string>();
            if (database.Server is not null)
            {
                // A server's data has no file whose time says it is unchanged: the digest is asked for at every build.
                text.Append(CultureInfo.InvariantCulture, $"server\t{spec}\n");
            }
            else
            {
                // The file, and for Prodigy's own database the prodigy.json files that locate it.
                if (source.Database is null)
                {
                    depends.AddRange(ProdigySettings.Load(workingDirectory).ConsultedFiles);
                }

                depends.Add(database.Path);
                depends.Add(database.Path + "-wal");
            }

            foreach (var file in depends)
            {
                text.Append(CultureInfo.InvariantCulture, $"depends\t{spec}\t{file}\n");
            }
        }

        if (arguments.Get("output") is { } output)
        {
            AtomicFile.WriteAllBytes(output, Encoding.UTF8.GetBytes(text.ToString()));
        }
        else
        {
            await stdout.WriteAsync(text.ToString());
        }

        return 0;
    }
}
