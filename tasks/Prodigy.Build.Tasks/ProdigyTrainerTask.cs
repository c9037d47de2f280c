using System.Globalization;
using Microsoft.Build.Framework;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Base of the tasks that run <c>prodigy-build-train</c> on a corpus (train, train-curve): the corpus
/// and config they read, where they write, the device and threads, and the stage inputs all of them share.
/// </summary>
public abstract class ProdigyTrainerTask : ProdigyToolTask
{
    [Required]
    public string ConfigFile { get; set; } = string.Empty;

    [Required]
    public string TrainFile { get; set; } = string.Empty;

    [Required]
    public string DevFile { get; set; } = string.Empty;

    /// <summary>Where the command writes (models, or the curve).</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>Label files of the corpus (labels/*.json): part of what is trained from.</summary>
    public ITaskItem[] LabelFiles { get; set; } = [];

    /// <summary>-1 for the CPU, else a CUDA device.</summary>
    public int GpuId { get; set; } = -1;

    /// <summary>Print per-label scores.</summary>
    public bool LabelStats { get; set; }

    /// <summary>CPU threads for TorchSharp (0: its default).</summary>
    public int Threads { get; set; }

    /// <summary>The torch backend the trainer was built with (part of the fingerprint).</summary>
    public string? TorchBackend { get; set; }

    /// <summary>A spaCy pipeline folder whose word vectors to train with (<c>ProdigyVectors</c>; <c>--vectors</c>); empty for the config's.</summary>
    public string? Vectors { get; set; }

    /// <summary>--config, --train, --dev, --output and --gpu-id, then --label-stats and --threads when set.</summary>
    protected void AddCorpusArguments(List<string> arguments)
    {
        arguments.AddRange([
            "--config", Path.GetFullPath(ConfigFile),
            "--train", Path.GetFullPath(TrainFile),
            "--dev", Path.GetFullPath(DevFile),
            "--output", Path.GetFullPath(OutputDirectory),
            "--gpu-id", GpuId.ToString(CultureInfo.InvariantCulture)]);
        if (LabelStats)
        {
            arguments.Add("--label-stats");
        }

        if (Threads > 0)
        {
            arguments.AddRange(["--threads", Threads.ToString(CultureInfo.InvariantCulture)]);
        }

        if (!string.IsNullOrWhiteSpace(Vectors))
        {
            arguments.AddRange(["--vectors", Path.GetFullPath(Vectors!.Trim())]);
        }
    }

    /// <summary>The config, the two corpus files and the label files.</summary>
    private protected List<StageInput> CorpusStageInputs()
    {
        var inputs = new List<StageInput>
        {
            new(Path.GetFullPath(ConfigFile), "config"),
            new(Path.GetFullPath(TrainFile), "train"),
            new(Path.GetFullPath(DevFile), "dev"),
        };
        inputs.AddRange(LabelFiles.OrderBy(l => l.ItemSpec, StringComparer.Ordinal)
            .Select(l => new StageInput(Path.GetFullPath(l.GetMetadata("FullPath") is { Length: > 0 } full ? full : l.ItemSpec), "labels")));
        if (!string.IsNullOrWhiteSpace(Vectors) && Directory.Exists(Path.GetFullPath(Vectors!.Trim())))
        {
            // The vectors table and its keys, wherever the folder keeps its vocab/ (a package folder nests it).
            inputs.AddRange(Directory.EnumerateFiles(Path.GetFullPath(Vectors!.Trim()), "*", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "vocab" && Path.GetFileName(f) is "vectors" or "key2row" or "vectors.cfg")
                .OrderBy(f => f, StringComparer.Ordinal)
                .Select(f => new StageInput(f, "vectors")));
        }

        return inputs;
    }
}
