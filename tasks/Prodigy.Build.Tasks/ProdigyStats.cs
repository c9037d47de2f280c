using Microsoft.Build.Framework;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Runs <c>prodigy-build stats</c>: per dataset the counts of examples, answers and labels (what
/// <c>prodigy stats -l</c> shows) into the build log, and all of them as JSON into <see cref="JsonFile"/>.
/// </summary>
public sealed class ProdigyStats : ProdigyToolTask
{
    /// <summary>The datasets: files, or dataset names with <c>Database</c> metadata.</summary>
    [Required]
    public ITaskItem[] Datasets { get; set; } = [];

    /// <summary>Where the statistics go as JSON; none when empty.</summary>
    public string? JsonFile { get; set; }

    protected override string Command => "stats";

    protected override bool ValidateCommandParameters() => ValidateDatasets(Datasets);

    protected override void AddArguments(List<string> arguments)
    {
        foreach (var spec in Datasets.Select(d => DatasetItems.Spec(d, BaseDirectory)).Distinct(StringComparer.Ordinal))
        {
            arguments.Add("--dataset");
            arguments.Add(spec);
        }

        ProdigyDataToSpacy.AddIfSet(arguments, "--json", JsonFile is { Length: > 0 } json ? Path.GetFullPath(json) : null);
    }
}
