using System.Diagnostics;
using System.Globalization;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Tool.Commands;

/// <summary>
/// <c>prodigy-build data-to-spacy</c>: what Prodigy's <c>data-to-spacy</c> recipe makes, from JSONL
/// exports: <c>train.spacy</c>, <c>dev.spacy</c>, <c>config.cfg</c> and <c>labels/*.json</c>.
/// </summary>
public sealed class DataToSpacyCommand : ICommand
{
    public string Name => "data-to-spacy";

    public string Summary => "Build a spaCy corpus (train.spacy, dev.spacy), config.cfg and label files from Prodigy JSONL";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("output", true, "Folder to write train.spacy, dev.spacy, config.cfg and labels/ into (required)."),
        new("dataset", true, "COMPONENT:PATH of a training dataset; COMPONENT is ner, textcat, textcat_multilabel, spancat or spancat[KEY]; PATH a JSONL file, or db:NAME / db:NAME,DATABASE for a dataset in Prodigy's database. Repeatable.", Repeatable: true),
        new("eval-dataset", true, "COMPONENT:PATH of an evaluation-only dataset (Prodigy's eval: prefix). Repeatable.", Repeatable: true),
        new("lang", true, "Language of the pipeline and tokenizer (default en)."),
        new("eval-split", true, "Share of examples held out for evaluation for components without an eval dataset (default 0.2)."),
        new("seed", true, "Seed of the evaluation split (default 0)."),
        new("optimize", true, "Config recipe: efficiency (default) or accuracy."),
        new("gpu", false, "Generate the GPU variant of the config."),
        new("config", true, "A config.cfg to use instead of the generated one; paths and labels are filled in."),
        new("tokenizer", true, "Tokenizer rules for texts without tokens: a spaCy pipeline directory, its 'tokenizer' file, or a rules JSON."),
    ];

    public string Usage =>
        $"""
        Usage: {CommandLine.ToolName} data-to-spacy --output DIR --dataset COMPONENT:PATH [--eval-dataset COMPONENT:PATH] [options]

        Options:
        {string.Join("\n", Options.Select(o => $"  --{o.Name,-13} {o.Help}"))}
        """;

    public Task<int> RunAsync(ParsedArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var output = arguments.Get("output") ?? throw new ToolException("PRD2000", "data-to-spacy needs --output DIR.");
        var datasets = arguments.GetAll("dataset").Select(d => ParseDataset(d, isEval: false))
            .Concat(arguments.GetAll("eval-dataset").Select(d => ParseDataset(d, isEval: true)))
            .ToList();
        var settings = CorpusSettings.From(arguments);
        var stopwatch = Stopwatch.StartNew();
        var log = new ConsoleCorpusLog(stdout);
        CorpusResult corpus;
        try
        {
            corpus = new CorpusBuilder(log).Build(new CorpusRequest
            {
                Datasets = datasets,
                Language = settings.Language,
                EvalSplit = settings.EvalSplit,
                Seed = settings.Seed,
                TokenizerRules = arguments.Get("tokenizer"),
            }, cancellationToken);
        }
        catch (ProdigyDataException e)
        {
            throw new ToolException(e.Code, e.Message, e.File, e.Line, e.Column);
        }
        catch (TokenizerRulesException e)
        {
            throw new ToolException("PRD2003", e.Message, arguments.Get("tokenizer"));
        }

        Directory.CreateDirectory(output);
        var train = Path.Combine(output, "train.spacy");
        var dev = Path.Combine(output, "dev.spacy");
        cancellationToken.ThrowIfCancellationRequested();
        // The two files are independent: write them on two cores.
        Parallel.Invoke(
            new ParallelOptions { CancellationToken = cancellationToken },
            () => DocBin.Write(train, corpus.TrainDocs),
            () => DocBin.Write(dev, corpus.DevDocs));
        stdout.WriteLine($"Saved {corpus.TrainDocs.Count} training examples: {train}");
        stdout.WriteLine($"Saved {corpus.DevDocs.Count} evaluation examples: {dev}");

        cancellationToken.ThrowIfCancellationRequested();
        var configPath = ConfigStage.WriteCorpusConfig(output, settings, corpus.Components, corpus.TrainDocs, arguments.Get("config"));
        stdout.WriteLine($"Saved config: {configPath}");
        foreach (var labels in ConfigStage.WriteLabels(output, corpus.Components, corpus.TrainDocs))
        {
            stdout.WriteLine($"Saved labels: {labels}");
        }

        var warnings = corpus.WarningCounts.Values.Sum();
        var details = warnings == 0 ? "" : " (" + string.Join(", ", corpus.WarningCounts.Select(w => $"{w.Key}: {w.Value}")) + ")";
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Done in {stopwatch.Elapsed.TotalSeconds:F1} s: {corpus.TrainDocs.Count} training and {corpus.DevDocs.Count} evaluation examples, {warnings} warning(s){details}"));
        return Task.FromResult(0);
    }

    /// <summary>Parses COMPONENT:PATH (split at the first ':' so that Windows paths keep their drive letter).</summary>
    internal static DatasetInput ParseDataset(string value, bool isEval)
    {
        var colon = value.IndexOf(':');
        if (colon <= 0)
        {
            throw new UsageException($"dataset '{value}' must look like COMPONENT:PATH, e.g. ner:data/train.jsonl");
        }

        var component = value[..colon];
        var path = value[(colon + 1)..];
        var spansKey = "sc";
        var bracket = component.IndexOf('[');
        if (bracket > 0 && component.EndsWith(']'))
        {
            spansKey = component[(bracket + 1)..^1];
            component = component[..bracket];
        }

        if (!CorpusComponents.TryParse(component, out var kind))
        {
            throw new UsageException($"unknown component '{component}' in '{value}'; use ner, textcat, textcat_multilabel, spancat or spancat[KEY]");
        }

        if (spansKey.Length == 0)
        {
            throw new UsageException($"empty spans key in '{value}'");
        }

        if (path.StartsWith("db:", StringComparison.Ordinal))
        {
            var source = DatasetSpec.Parse(path);
            return new DatasetInput(kind, source.Database ?? "", isEval, spansKey, source.Dataset);
        }

        return new DatasetInput(kind, path, isEval, spansKey);
    }
}

/// <summary>The settings that shape the corpus and its config, parsed and validated once.</summary>
internal sealed record CorpusSettings(string Language, double EvalSplit, int Seed, string Optimize, bool Gpu)
{
    public static CorpusSettings From(ParsedArguments arguments)
    {
        var language = arguments.Get("lang") ?? "en";
        var splitText = arguments.Get("eval-split") ?? "0.2";
        if (!double.TryParse(splitText, NumberStyles.Float, CultureInfo.InvariantCulture, out var split))
        {
            throw new ToolException("PRD2017", $"--eval-split '{splitText}' is not a number; give a share such as 0.2.");
        }

        var seedText = arguments.Get("seed") ?? "0";
        if (!int.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
        {
            throw new ToolException("PRD2020", $"--seed '{seedText}' is not an integer.");
        }

        var optimize = arguments.Get("optimize") ?? "efficiency";
        if (optimize is not ("efficiency" or "accuracy"))
        {
            throw new ToolException("PRD2021", $"--optimize '{optimize}' is not a spaCy recipe; use efficiency or accuracy.");
        }

        return new CorpusSettings(language, split, seed, optimize, arguments.Has("gpu"));
    }
}
