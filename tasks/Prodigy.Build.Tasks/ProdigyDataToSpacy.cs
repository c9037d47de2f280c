using System.Globalization;
using Microsoft.Build.Framework;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Runs <c>prodigy-build data-to-spacy</c>: Prodigy datasets to train.spacy, dev.spacy, config.cfg and
/// labels/*.json in <see cref="OutputDirectory"/>.
/// </summary>
public sealed class ProdigyDataToSpacy : ProdigyToolTask
{
    internal static readonly string[] Components = ["ner", "textcat", "textcat_multilabel", "spancat"];

    /// <summary>The corpus folder.</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>
    /// The datasets: each a Prodigy JSONL file with metadata <c>ProdigyComponent</c> (ner, textcat,
    /// textcat_multilabel, spancat), <c>Eval</c> (true: evaluation only) and, for spancat, <c>SpansKey</c>.
    /// </summary>
    [Required]
    public ITaskItem[] Datasets { get; set; } = [];

    public string? Lang { get; set; }

    public string? EvalSplit { get; set; }

    public string? Seed { get; set; }

    public string? Optimize { get; set; }

    public bool Gpu { get; set; }

    /// <summary>A user's config.cfg to fill in instead of a generated one.</summary>
    public string? Config { get; set; }

    /// <summary>
    /// Tokenizer rules for texts without tokens instead of the language's: a spaCy pipeline folder, its
    /// <c>tokenizer</c> file, or a rules JSON (the SDK passes ProdigyBaseModel's, so the corpus is tokenized as the model).
    /// </summary>
    public string? Tokenizer { get; set; }

    protected override string Command => "data-to-spacy";

    protected override bool ValidateCommandParameters()
    {
        if (Datasets.Length == 0)
        {
            Log.LogError(null, "PRD1010", null, null, 0, 0, 0, 0, "ProdigyDataToSpacy was given no datasets.");
            return false;
        }

        foreach (var dataset in Datasets)
        {
            var component = dataset.GetMetadata("ProdigyComponent");
            if (!Components.Contains(component, StringComparer.Ordinal))
            {
                Log.LogError(null, "PRD1011", null, dataset.ItemSpec, 0, 0, 0, 0,
                    "Dataset '{0}' has ProdigyComponent '{1}'; expected one of {2}.", dataset.ItemSpec, component, string.Join(", ", Components));
            }

            var eval = dataset.GetMetadata("Eval");
            if (eval.Length > 0 && !bool.TryParse(eval, out _))
            {
                Log.LogError(null, "PRD1012", null, dataset.ItemSpec, 0, 0, 0, 0,
                    "Dataset '{0}' has Eval='{1}'; expected true or false.", dataset.ItemSpec, eval);
            }

            ValidateDatabaseDataset(dataset);
        }

        return !Log.HasLoggedErrors;
    }

    protected override void AddArguments(List<string> arguments)
    {
        arguments.Add("--output");
        arguments.Add(OutputDirectory);
        AddIfSet(arguments, "--lang", Lang);
        AddIfSet(arguments, "--eval-split", EvalSplit);
        AddIfSet(arguments, "--seed", Seed);
        AddIfSet(arguments, "--optimize", Optimize);
        if (Gpu)
        {
            arguments.Add("--gpu");
        }

        AddIfSet(arguments, "--config", Config);
        AddIfSet(arguments, "--tokenizer", Tokenizer);
        foreach (var dataset in Datasets)
        {
            var eval = bool.TryParse(dataset.GetMetadata("Eval"), out var isEval) && isEval;
            arguments.Add(eval ? "--eval-dataset" : "--dataset");
            arguments.Add(ComponentOf(dataset) + ":" + DatasetItems.Spec(dataset, BaseDirectory));
        }
    }

    internal override IReadOnlyList<StageInput>? GetStageInputs(FileHashCache cache)
    {
        var inputs = DatasetItems.StageInputs(this, Datasets, d => ComponentOf(d) + (bool.TryParse(d.GetMetadata("Eval"), out var isEval) && isEval ? " eval" : ""), cache);
        if (inputs is null)
        {
            return inputs;
        }

        var more = new List<StageInput>();
        if (!string.IsNullOrWhiteSpace(Config))
        {
            more.Add(new StageInput(Path.GetFullPath(Config!.Trim()), "config"));
        }

        if (!string.IsNullOrWhiteSpace(Tokenizer))
        {
            // A pipeline folder's rules are its 'tokenizer' file: that file's content is what tokenizes.
            var rules = Path.GetFullPath(Tokenizer!.Trim());
            more.Add(new StageInput(Directory.Exists(rules) ? Path.Combine(rules, "tokenizer") : rules, "tokenizer"));
        }

        return [.. inputs, .. more];
    }

    internal override IEnumerable<KeyValuePair<string, string>> GetStageParameters() =>
    [
        new("ProdigyCorpusDir", OutputDirectory.Replace('\\', '/')),
        new("ProdigyLang", (Lang ?? "").Trim()),
        new("ProdigyEvalSplit", (EvalSplit ?? "").Trim()),
        new("ProdigySeed", (Seed ?? "").Trim()),
        new("ProdigyOptimize", (Optimize ?? "").Trim()),
        new("ProdigyGpu", Gpu ? "true" : "false"),
    ];

    /// <summary><c>ner</c>, ..., or <c>spancat[KEY]</c> for a spancat dataset with a spans key.</summary>
    internal static string ComponentOf(ITaskItem dataset)
    {
        var component = dataset.GetMetadata("ProdigyComponent");
        var spansKey = dataset.GetMetadata("SpansKey");
        return component == "spancat" && spansKey.Length > 0
            ? string.Format(CultureInfo.InvariantCulture, "spancat[{0}]", spansKey)
            : component;
    }

    internal static void AddIfSet(List<string> arguments, string option, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            arguments.Add(option);
            arguments.Add(value!.Trim());
        }
    }
}
