using System.Globalization;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Runs <c>prodigy-build-train train-curve</c>: trains on growing shares of the corpus and writes
/// curve.json, curve.csv and curve.svg into <see cref="ProdigyTrainerTask.OutputDirectory"/>. A stage; its points are
/// also cached one by one (in <see cref="PointCache"/>), so more samples or seeds train only the new ones.
/// </summary>
public sealed class ProdigyTrainCurve : ProdigyTrainerTask
{
    /// <summary>Where trained points are kept between builds.</summary>
    public string? PointCache { get; set; }

    public int Samples { get; set; } = 4;

    public int Seeds { get; set; } = 1;

    public bool ShowPlot { get; set; }

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
        AddCorpusArguments(arguments);
        arguments.AddRange(["--samples", Samples.ToString(CultureInfo.InvariantCulture), "--seeds", Seeds.ToString(CultureInfo.InvariantCulture)]);
        if (!string.IsNullOrWhiteSpace(PointCache))
        {
            arguments.AddRange(["--cache", Path.GetFullPath(PointCache!.Trim())]);
        }

        if (ShowPlot)
        {
            arguments.Add("--show-plot");
        }
    }

    internal override IReadOnlyList<StageInput>? GetStageInputs(FileHashCache cache) => CorpusStageInputs();

    internal override IEnumerable<KeyValuePair<string, string>> GetStageParameters() =>
    [
        new("ProdigyCurveDir", Stage.Relative(ProjectDirectory ?? Directory.GetCurrentDirectory(), Path.GetFullPath(OutputDirectory))),
        new("ProdigyCurveSamples", Samples.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyCurveSeeds", Seeds.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyGpuId", GpuId.ToString(CultureInfo.InvariantCulture)),
        new("ProdigyTorchBackend", TorchBackend ?? ""),
    ];
}
