using Microsoft.Build.Framework;

namespace Prodigy.Build.Tasks;

/// <summary>Runs <c>prodigy-build spacy-config</c>: writes a spaCy training config for a pipeline.</summary>
public sealed class ProdigySpacyConfig : ProdigyToolTask
{
    /// <summary>The config file to write.</summary>
    [Required]
    public string OutputFile { get; set; } = string.Empty;

    /// <summary>The pipeline's components, in order (ner, textcat, textcat_multilabel, spancat).</summary>
    [Required]
    public string[] Pipeline { get; set; } = [];

    public string? Lang { get; set; }

    public string? Optimize { get; set; }

    public bool Gpu { get; set; }

    protected override string Command => "spacy-config";

    protected override bool ValidateCommandParameters()
    {
        if (Pipeline.Length == 0)
        {
            Log.LogError(null, "PRD1020", null, null, 0, 0, 0, 0, "ProdigySpacyConfig was given an empty pipeline.");
            return false;
        }

        return true;
    }

    internal override IEnumerable<KeyValuePair<string, string>> GetStageParameters() =>
    [
        new("ProdigySpacyConfigFile", Incremental.Stage.Relative(ProjectDirectory ?? Directory.GetCurrentDirectory(), Path.GetFullPath(OutputFile))),
        new("ProdigyPipeline", string.Join(",", Pipeline.Select(p => p.Trim()).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal))),
        new("ProdigyLang", (Lang ?? "").Trim()),
        new("ProdigyOptimize", (Optimize ?? "").Trim()),
        new("ProdigyGpu", Gpu ? "true" : "false"),
    ];

    protected override void AddArguments(List<string> arguments)
    {
        arguments.Add("--output");
        arguments.Add(Path.GetFullPath(OutputFile));
        ProdigyDataToSpacy.AddIfSet(arguments, "--lang", Lang);
        arguments.Add("--pipeline");
        arguments.Add(string.Join(",", Pipeline.Select(p => p.Trim()).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)));
        ProdigyDataToSpacy.AddIfSet(arguments, "--optimize", Optimize);
        if (Gpu)
        {
            arguments.Add("--gpu");
        }
    }
}
