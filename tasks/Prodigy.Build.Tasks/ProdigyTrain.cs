using System.Globalization;
using Microsoft.Build.Framework;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Runs <c>prodigy-build-train train</c>: trains the pipeline of a corpus's config.cfg on its
/// train.spacy/dev.spacy and writes model-best/ and model-last/ into <see cref="OutputDirectory"/>.
/// A stage: skipped while the corpus, the config, the settings and the models are unchanged.
/// </summary>
public sealed class ProdigyTrain : ProdigyToolTask
{
    [Required]
    public string ConfigFile { get; set; } = string.Empty;

    [Required]
    public string TrainFile { get; set; } = string.Empty;

    [Required]
    public string DevFile { get; set; } = string.Empty;

    /// <summary>Where model-best/, model-last/ and metrics.json go.</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>Label files of the corpus (labels/*.json): part of what the model is built from.</summary>
    public ITaskItem[] LabelFiles { get; set; } = [];

    /// <summary>-1 for the CPU, else a CUDA device.</summary>
    public int GpuId { get; set; } = -1;

    /// <summary>A model-best of this SDK to continue from.</summary>
    public string? BaseModel { get; set; }

    /// <summary>Print a per-label table after training.</summary>
    public bool LabelStats { get; set; }

    /// <summary>CPU threads for TorchSharp (0: its default).</summary>
    public int Threads { get; set; }

    protected override string Command => "train";

    protected override void AddArguments(List<string> arguments)
    {
        arguments.Add("--config");
        arguments.Add(Path.GetFullPath(ConfigFile));
        arguments.Add("--train");
        arguments.Add(Path.GetFullPath(TrainFile));
        arguments.Add("--dev");
        arguments.Add(Path.GetFullPath(DevFile));
        arguments.Add("--output");
        arguments.Add(Path.GetFullPath(OutputDirectory));
        arguments.Add("--gpu-id");
        arguments.Add(GpuId.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrWhiteSpace(BaseModel))
        {
            arguments.Add("--base-model");
            arguments.Add(Path.GetFullPath(BaseModel!.Trim()));
        }

        if (LabelStats)
        {
            arguments.Add("--label-stats");
        }

        if (Threads > 0)
        {
            arguments.Add("--threads");
            arguments.Add(Threads.ToString(CultureInfo.InvariantCulture));
        }
    }

    internal override IReadOnlyList<StageInput>? GetStageInputs(FileHashCache cache)
    {
        var inputs = new List<StageInput>
        {
            new(Path.GetFullPath(ConfigFile), "config"),
            new(Path.GetFullPath(TrainFile), "train"),
            new(Path.GetFullPath(DevFile), "dev"),
        };
        foreach (var labels in LabelFiles.OrderBy(l => l.ItemSpec, StringComparer.Ordinal))
        {
            inputs.Add(new StageInput(Path.GetFullPath(labels.GetMetadata("FullPath") is { Length: > 0 } full ? full : labels.ItemSpec), "labels"));
        }

        if (!string.IsNullOrWhiteSpace(BaseModel))
        {
            foreach (var file in new[] { "weights.bin", "labels.json", "config.cfg" })
            {
                inputs.Add(new StageInput(Path.Combine(Path.GetFullPath(BaseModel!.Trim()), file), "base model"));
            }
        }

        return inputs;
    }

    internal override IEnumerable<KeyValuePair<string, string>> GetStageParameters() =>
    [
        new("ProdigyModelDir", Stage.Relative(ProjectDirectory ?? Directory.GetCurrentDirectory(), Path.GetFullPath(OutputDirectory))),
        new("ProdigyGpuId", GpuId.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyTorchBackend", TorchBackend ?? ""),
    ];

    /// <summary>The torch backend the trainer was built with (part of the fingerprint).</summary>
    public string? TorchBackend { get; set; }
}
