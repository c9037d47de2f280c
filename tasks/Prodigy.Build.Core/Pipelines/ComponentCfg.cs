using System.Text.Json;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A trainable component's <c>cfg</c> file (JSON that spaCy writes next to the model): its labels and
/// the settings spaCy restores from it over config.cfg's values (<c>TrainablePipe.from_disk</c>
/// updates <c>self.cfg</c> with it).
/// </summary>
internal sealed class ComponentCfg
{
    private readonly JsonElement _root;

    private ComponentCfg(string path, JsonElement root, IReadOnlyList<string> labels)
    {
        Path = path;
        _root = root;
        Labels = labels;
    }

    public string Path { get; }

    /// <summary><c>labels</c>, in order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>
    /// Reads <c>DIR/cfg</c>. A missing or unreadable file is PRD2430, labels that are missing, not a
    /// list of distinct non-empty strings, or empty are PRD2431; both name the file.
    /// </summary>
    public static ComponentCfg Read(ComponentContext context)
    {
        var path = System.IO.Path.Combine(context.Directory, "cfg");
        if (!File.Exists(path))
        {
            throw new SpacyPipelineException("PRD2430", $"component '{context.Name}' has no cfg file (its labels); copy the whole folder spaCy wrote", path);
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new SpacyPipelineException("PRD2430", $"component '{context.Name}': the cfg file is not JSON ({e.Message})", path, e);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SpacyPipelineException("PRD2430", $"component '{context.Name}': the cfg file is not a JSON object", path);
        }

        if (!root.TryGetProperty("labels", out var labelsElement) || labelsElement.ValueKind != JsonValueKind.Array)
        {
            throw new SpacyPipelineException("PRD2431", $"component '{context.Name}': the cfg file has no \"labels\" list", path);
        }

        var labels = new List<string>();
        foreach (var label in labelsElement.EnumerateArray())
        {
            if (label.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(label.GetString()))
            {
                throw new SpacyPipelineException("PRD2431", $"component '{context.Name}': \"labels\" holds {label.GetRawText()}, but each label must be a non-empty string", path);
            }

            var text = label.GetString()!;
            if (labels.Contains(text, StringComparer.Ordinal))
            {
                throw new SpacyPipelineException("PRD2431", $"component '{context.Name}': the label '{text}' is listed twice in \"labels\"", path);
            }

            labels.Add(text);
        }

        if (labels.Count == 0)
        {
            throw new SpacyPipelineException("PRD2431", $"component '{context.Name}': \"labels\" is empty; the component was saved before it was initialized", path);
        }

        return new ComponentCfg(path, root, labels);
    }

    /// <summary>Whether the cfg has <paramref name="key"/> (null values included).</summary>
    public bool Has(string key) => _root.TryGetProperty(key, out _);

    /// <summary>The value at <paramref name="key"/>, when present and not null.</summary>
    public JsonElement? Value(string key) =>
        _root.TryGetProperty(key, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>The error for a cfg value of the wrong kind: PRD2436, naming the key.</summary>
    public SpacyPipelineException Invalid(string key, string expected) =>
        new("PRD2436", $"\"{key}\" in the cfg file is {Value(key)?.GetRawText() ?? "null"}, but it must be {expected}", Path);
}
