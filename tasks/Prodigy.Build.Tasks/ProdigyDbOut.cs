using Microsoft.Build.Framework;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Runs <c>prodigy-build db-out</c>: each dataset (a file, or a dataset in Prodigy's database) as
/// <c>NAME.jsonl</c> in <see cref="OutputDirectory"/>, exactly as <c>prodigy db-out</c> prints it; image
/// datasets (<c>ProdigyItemType</c> <c>ImageDataset</c>) are validated and also written as <c>NAME.coco.json</c>.
/// As a stage, it reruns only when a dataset's content (a database dataset's digest) or an output changed.
/// </summary>
public sealed class ProdigyDbOut : ProdigyToolTask
{
    /// <summary>The folder the exports go into.</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>The datasets: files, or dataset names with <c>Database</c> metadata.</summary>
    [Required]
    public ITaskItem[] Datasets { get; set; } = [];

    protected override string Command => "db-out";

    internal static bool IsImage(ITaskItem dataset) => dataset.GetMetadata("ProdigyItemType") == "ImageDataset";

    protected override bool ValidateCommandParameters() => ValidateDatasets(Datasets);

    protected override void AddArguments(List<string> arguments)
    {
        arguments.Add("--output");
        arguments.Add(Path.GetFullPath(OutputDirectory));
        foreach (var dataset in Datasets)
        {
            arguments.Add(IsImage(dataset) ? "--image-dataset" : "--dataset");
            arguments.Add(DatasetItems.Spec(dataset, BaseDirectory));
        }
    }

    internal override IReadOnlyList<StageInput>? GetStageInputs(FileHashCache cache) =>
        DatasetItems.StageInputs(this, Datasets, d => IsImage(d) ? "image" : "dataset", cache);

    internal override IEnumerable<KeyValuePair<string, string>> GetStageParameters() =>
    [
        new("ProdigyDbOutDir", Stage.Relative(BaseDirectory, Path.GetFullPath(OutputDirectory))),
    ];
}
