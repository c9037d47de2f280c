using System.Globalization;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Runs <c>prodigy-build-train train</c>: trains the pipeline of a corpus's config.cfg on its
/// train.spacy/dev.spacy and writes model-best/ and model-last/ into <see cref="ProdigyTrainerTask.OutputDirectory"/>.
/// A stage: skipped while the corpus, the config, the settings and the models are unchanged.
/// </summary>
public sealed class ProdigyTrain : ProdigyTrainerTask
{
    /// <summary>A model-best/model-last of this SDK to continue from, or a spaCy pipeline folder for its tokenizer.</summary>
    public string? BaseModel { get; set; }

    /// <summary>meta.json's name of the saved models (<c>ProdigyModelName</c>); the trainer's default when empty.</summary>
    public string? ModelName { get; set; }

    /// <summary>meta.json's version of the saved models (<c>ProdigyModelVersion</c>); the trainer's default when empty.</summary>
    public string? ModelVersion { get; set; }

    protected override string Command => "train";

    protected override void AddArguments(List<string> arguments)
    {
        AddCorpusArguments(arguments);
        if (!string.IsNullOrWhiteSpace(ModelName))
        {
            arguments.Add("--name");
            arguments.Add(ModelName!.Trim());
        }

        if (!string.IsNullOrWhiteSpace(ModelVersion))
        {
            arguments.Add("--version");
            arguments.Add(ModelVersion!.Trim());
        }

        if (!string.IsNullOrWhiteSpace(BaseModel))
        {
            arguments.Add("--base-model");
            arguments.Add(Path.GetFullPath(BaseModel!.Trim()));
        }
    }

    internal override IReadOnlyList<StageInput>? GetStageInputs(FileHashCache cache)
    {
        var inputs = CorpusStageInputs();
        if (!string.IsNullOrWhiteSpace(BaseModel))
        {
            // A base model is read whole: a spaCy pipeline folder's components are sourced with their
            // weights (every file counts); a TorchSharp-format model is its weights, labels, config and rules.
            var folder = Path.GetFullPath(BaseModel!.Trim());
            IEnumerable<string> files = File.Exists(Path.Combine(folder, "weights.bin"))
                ? new[] { "weights.bin", "labels.json", "config.cfg", "tokenizer.rules.json" }.Select(f => Path.Combine(folder, f)).Where(f => !f.EndsWith(".rules.json", StringComparison.Ordinal) || File.Exists(f))
                : Directory.Exists(folder)
                    ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal)
                    : [];
            inputs.AddRange(files.Select(file => new StageInput(file, "base model")));
        }

        return inputs;
    }

    internal override IEnumerable<KeyValuePair<string, string>> GetStageParameters() =>
    [
        new("ProdigyModelDir", Stage.Relative(ProjectDirectory ?? Directory.GetCurrentDirectory(), Path.GetFullPath(OutputDirectory))),
        new("ProdigyGpuId", GpuId.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyTorchBackend", TorchBackend ?? ""),
        new("ProdigyModelName", ModelName?.Trim() ?? ""),
        new("ProdigyModelVersion", ModelVersion?.Trim() ?? ""),
    ];
}
