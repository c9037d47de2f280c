using System.Text;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tool.Commands;

/// <summary>
/// <c>prodigy-build db-out</c>: what <c>prodigy db-out</c> prints, one task per line with keys and values
/// as stored, for datasets in Prodigy's database or in JSONL files; image datasets are validated and
/// also written as COCO JSON.
/// </summary>
public sealed class DbOutCommand : ICommand
{
    private const int MaxProblemsShown = 50;

    public string Name => "db-out";

    public string Summary => "Export datasets (Prodigy's database or JSONL) as db-out's JSONL; image datasets also as COCO JSON";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("dataset", true, "A dataset: db:NAME (Prodigy's database), db:NAME,DATABASE (a SQLite file) or a JSONL path. Repeatable.", Repeatable: true),
        new("image-dataset", true, "An image dataset (image.manual), same forms: validated, and written as JSONL and as COCO JSON. Repeatable.", Repeatable: true),
        new("output", true, "Folder to write NAME.jsonl (and NAME.coco.json) into; without it, one dataset is printed to standard output."),
    ];

    public string Usage =>
        $"""
        Usage: {CommandLine.ToolName} db-out --dataset db:NAME[,DATABASE] [--image-dataset SPEC] [--output DIR]

        Options:
        {string.Join("\n", Options.Select(o => $"  --{o.Name,-14} {o.Help}"))}
        """;

    public Task<int> RunAsync(ParsedArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        DatasetSpec.ReportingDataErrors(() => Run(arguments, stdout, cancellationToken));

    private async Task<int> Run(ParsedArguments arguments, TextWriter stdout, CancellationToken cancellationToken)
    {
        var datasets = arguments.GetAll("dataset").Select(s => (Source: DatasetSpec.Parse(s), IsImage: false))
            .Concat(arguments.GetAll("image-dataset").Select(s => (Source: DatasetSpec.Parse(s), IsImage: true)))
            .ToList();
        if (datasets.Count == 0)
        {
            throw new UsageException("db-out needs --dataset or --image-dataset");
        }

        // The same dataset declared twice (for two components) is written once; as an image dataset if either says so.
        var unique = datasets.GroupBy(d => d.Source).Select(g => (Source: g.Key, IsImage: g.Any(d => d.IsImage))).ToList();
        var output = arguments.Get("output");
        var workingDirectory = Directory.GetCurrentDirectory();
        if (output is null)
        {
            if (unique.Count != 1)
            {
                throw new UsageException("without --output, db-out prints one dataset; give --output DIR for several");
            }

            foreach (var example in ProdigyDatasets.Read(unique[0].Source, workingDirectory, cancellationToken: cancellationToken))
            {
                await stdout.WriteLineAsync(example.ToJson());
            }

            return 0;
        }

        foreach (var clash in unique.GroupBy(d => d.Source.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            throw new ToolException("PRD2210",
                $"{string.Join(" and ", clash.Select(d => d.Source.ToString()))} would both be written to {clash.Key}.jsonl; give the files different names (or export them to different folders).");
        }

        Directory.CreateDirectory(output);
        var failed = false;
        foreach (var (source, isImage) in unique)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Text datasets stream through (a large dataset is never held in memory); image datasets are
            // validated whole first, so that an invalid one writes nothing.
            var read = ProdigyDatasets.Read(source, workingDirectory, cancellationToken: cancellationToken);
            IReadOnlyList<ProdigyExample>? examples = null;
            if (isImage)
            {
                examples = read.ToList();
                if (!Validate(examples, stdout))
                {
                    failed = true;
                    continue;
                }
            }

            var jsonl = Path.Combine(output, source.Name + ".jsonl");
            var count = 0;
            AtomicFile.Write(jsonl, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
                foreach (var example in examples ?? read)
                {
                    writer.WriteLine(example.ToJson());
                    count++;
                }
            });
            await stdout.WriteLineAsync($"Saved {count} examples of {Describe(source)}: {jsonl}");
            if (examples is not null)
            {
                var coco = Path.Combine(output, source.Name + ".coco.json");
                AtomicFile.WriteAllBytes(coco, ProdigyImages.ToCoco(source.Name, examples));
                await stdout.WriteLineAsync($"Saved COCO annotations of {examples.Count(e => e.IsAccepted)} accepted image task(s): {coco}");
            }
        }

        return failed ? 1 : 0;
    }

    internal static string Describe(ProdigyDatasetSource source) =>
        source.IsDatabase ? $"dataset '{source.Dataset}'" + (source.Database is null ? "" : $" ({source.Database})") : source.File!;

    // Every problem as a canonical error line (the first 50), so that a build lists them all at their examples.
    private static bool Validate(IReadOnlyList<ProdigyExample> examples, TextWriter stdout)
    {
        var problems = examples.SelectMany(ProdigyImages.Validate).ToList();
        foreach (var problem in problems.Take(MaxProblemsShown))
        {
            stdout.WriteLine($"{problem.Source}({problem.Position},1): error {problem.Code}: {problem.Message}");
        }

        if (problems.Count > MaxProblemsShown)
        {
            stdout.WriteLine($"{CommandLine.ToolName}: error {problems[MaxProblemsShown].Code}: {problems.Count - MaxProblemsShown} more invalid image task(s) not shown ({problems.Count} in all).");
        }

        return problems.Count == 0;
    }
}

/// <summary>The <c>--dataset</c> forms shared by db-out, stats, db-digest and data-to-spacy.</summary>
internal static class DatasetSpec
{
    public static ProdigyDatasetSource Parse(string spec)
    {
        try
        {
            return ProdigyDatasetSource.Parse(spec);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>Runs a command; bad data or a database problem becomes the tool's canonical error (file, line, column).</summary>
    public static async Task<int> ReportingDataErrors(Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (ProdigyDataException e)
        {
            throw new ToolException(e.Code, e.Message, e.File, e.Line, e.Column);
        }
    }
}
