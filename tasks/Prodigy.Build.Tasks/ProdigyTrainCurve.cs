using System.Globalization;
using Microsoft.Build.Framework;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Runs <c>prodigy-build-train train-curve</c>: trains on growing shares of the corpus and writes
/// curve.json, curve.csv and curve.svg into <see cref="OutputDirectory"/>. A stage; its points are
/// also cached one by one (in <see cref="PointCache"/>), so more samples or seeds train only the new ones.
/// </summary>
public sealed class ProdigyTrainCurve : ProdigyToolTask
{
    [Required]
    public string ConfigFile { get; set; } = string.Empty;

    [Required]
    public string TrainFile { get; set; } = string.Empty;

    [Required]
    public string DevFile { get; set; } = string.Empty;

    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>Where trained points are kept between builds.</summary>
    public string? PointCache { get; set; }

    public ITaskItem[] LabelFiles { get; set; } = [];

    public int Samples { get; set; } = 4;

    public int Seeds { get; set; } = 1;

    public bool ShowPlot { get; set; }

    public bool LabelStats { get; set; }

    public int GpuId { get; set; } = -1;

    public int Threads { get; set; }

    public string? TorchBackend { get; set; }

    protected override string Command => "train-curve";

    protected override bool ValidateCommandParameters()
    {
        if (Samples < 1 || Seeds < 1)
        {
            Log.LogError(null, "PRD1040", null, null, 0, 0, 0, 0, "ProdigyCurveSamples and ProdigyCurveSeeds must be at least 1 (got {0} and {1}).", Samples, Seeds);
            return false;
        }

        return true;
    }

    protected override void AddArguments(List<string> arguments)
    {
        arguments.AddRange(["--config", Path.GetFullPath(ConfigFile), "--train", Path.GetFullPath(TrainFile), "--dev", Path.GetFullPath(DevFile), "--output", Path.GetFullPath(OutputDirectory)]);
        arguments.AddRange(["--samples", Samples.ToString(CultureInfo.InvariantCulture), "--seeds", Seeds.ToString(CultureInfo.InvariantCulture), "--gpu-id", GpuId.ToString(CultureInfo.InvariantCulture)]);
        if (!string.IsNullOrWhiteSpace(PointCache))
        {
            arguments.AddRange(["--cache", Path.GetFullPath(PointCache!.Trim())]);
        }

        if (ShowPlot)
        {
            arguments.Add("--show-plot");
        }

        if (LabelStats)
        {
            arguments.Add("--label-stats");
        }

        if (Threads > 0)
        {
            arguments.AddRange(["--threads", Threads.ToString(CultureInfo.InvariantCulture)]);
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
        inputs.AddRange(LabelFiles.OrderBy(l => l.ItemSpec, StringComparer.Ordinal).Select(l => new StageInput(Path.GetFullPath(l.GetMetadata("FullPath") is { Length: > 0 } full ? full : l.ItemSpec), "labels")));
        return inputs;
    }

    internal override IEnumerable<KeyValuePair<string, string>> GetStageParameters() =>
    [
        new("ProdigyCurveDir", Stage.Relative(ProjectDirectory ?? Directory.GetCurrentDirectory(), Path.GetFullPath(OutputDirectory))),
        new("ProdigyCurveSamples", Samples.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyCurveSeeds", Seeds.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyGpuId", GpuId.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyTorchBackend", TorchBackend ?? ""),
    ];
}
