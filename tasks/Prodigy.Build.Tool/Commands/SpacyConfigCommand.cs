using System.Text;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tool.Commands;

/// <summary><c>prodigy-build spacy-config</c>: the config <c>spacy init config</c> writes, without Python.</summary>
public sealed class SpacyConfigCommand : ICommand
{
    public string Name => "spacy-config";

    public string Summary => "Write spaCy's training config.cfg for a pipeline (spacy init config)";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("output", true, "The config file to write (required)."),
        new("lang", true, "Language (default en)."),
        new("pipeline", true, "Comma-separated components: ner, textcat, textcat_multilabel, spancat (required)."),
        new("optimize", true, "efficiency (default) or accuracy."),
        new("gpu", false, "The GPU variant."),
    ];

    public string Usage =>
        $"""
        Usage: {CommandLine.ToolName} spacy-config --output FILE --pipeline ner,textcat [--lang L] [--optimize efficiency|accuracy] [--gpu]

        Options:
        {string.Join("\n", Options.Select(o => $"  --{o.Name,-9} {o.Help}"))}
        """;

    public Task<int> RunAsync(ParsedArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var output = arguments.Get("output") ?? throw new UsageException("spacy-config needs --output FILE");
        var pipeline = arguments.Get("pipeline") ?? throw new UsageException("spacy-config needs --pipeline, e.g. ner,textcat");
        var components = pipeline.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => CorpusComponents.TryParse(c, out var kind) ? CorpusComponents.Name(kind) : throw new UsageException($"unknown component '{c}'; use ner, textcat, textcat_multilabel or spancat"))
            .ToList();
        var optimize = arguments.Get("optimize") ?? "efficiency";
        if (optimize is not ("efficiency" or "accuracy"))
        {
            throw new ToolException("PRD2021", $"--optimize '{optimize}' is not a spaCy recipe; use efficiency or accuracy.");
        }

        var config = ConfigStage.Generate(arguments.Get("lang") ?? "en", components, optimize, arguments.Has("gpu"));
        AtomicFile.WriteAllBytes(output, Encoding.UTF8.GetBytes(config.ToString()));
        stdout.WriteLine($"Saved config: {output}");
        return Task.FromResult(0);
    }
}
