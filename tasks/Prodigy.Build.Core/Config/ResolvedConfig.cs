using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Prodigy.Build.Core.Config;

/// <summary>
/// Typed access to a spaCy config.cfg: values are JSON-like (numbers, "strings", [lists], true,
/// false, null) and may refer to other values as <c>${section.key}</c>, resolved here as spaCy's
/// interpolation does.
/// </summary>
public sealed partial class ResolvedConfig(SpacyConfigDocument document, string path)
{
    public SpacyConfigDocument Document { get; } = document;

    /// <summary>The file, for error messages.</summary>
    public string Path { get; } = path;

    public static ResolvedConfig Load(string path) => new(SpacyConfigDocument.Load(path), path);

    public bool HasSection(string section) => Document.FindSection(section) is not null;

    public IEnumerable<string> SectionNames => Document.Sections.Select(s => s.Name);

    /// <summary>The value as JSON text after interpolation, or null when the key is absent.</summary>
    public string? Raw(string section, string key) => Resolve(Document.GetRaw(section, key), 0);

    public bool IsNull(string section, string key) => Raw(section, key) is null or "null" or "None";

    public double Double(string section, string key, double fallback)
    {
        var raw = Raw(section, key);
        if (raw is null or "null" or "None")
        {
            return fallback;
        }

        return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(section, key, raw, "a number");
    }

    public int Int(string section, string key, int fallback)
    {
        var value = Double(section, key, fallback);
        return value == Math.Floor(value) && value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw Invalid(section, key, Raw(section, key)!, "a whole number");
    }

    public bool Bool(string section, string key, bool fallback) => Raw(section, key) switch
    {
        null or "null" => fallback,
        "true" or "True" => true,
        "false" or "False" => false,
        var raw => throw Invalid(section, key, raw, "true or false"),
    };

    public string? String(string section, string key)
    {
        var raw = Raw(section, key);
        if (raw is null or "null" or "None")
        {
            return null;
        }

        if (raw.StartsWith('"'))
        {
            try
            {
                return JsonSerializer.Deserialize<string>(raw);
            }
            catch (JsonException)
            {
                throw Invalid(section, key, raw, "a string");
            }
        }

        return raw;
    }

    public IReadOnlyList<string> StringList(string section, string key) => List(section, key, e => e.GetString() ?? "");

    public IReadOnlyList<int> IntList(string section, string key) => List(section, key, e => e.GetInt32());

    private List<T> List<T>(string section, string key, Func<JsonElement, T> read)
    {
        var raw = Raw(section, key);
        if (raw is null or "null")
        {
            return [];
        }

        try
        {
            using var json = JsonDocument.Parse(raw);
            return json.RootElement.EnumerateArray().Select(read).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw Invalid(section, key, raw, "a list");
        }
    }

    /// <summary>The keys of a section with their resolved raw values (e.g. <c>[training.score_weights]</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Entries(string section) =>
        Document.FindSection(section)?.Entries.Select(e => new KeyValuePair<string, string>(e.Key, Resolve(e.RawValue, 0) ?? "null")).ToList() ?? [];

    private string? Resolve(string? raw, int depth)
    {
        if (raw is null)
        {
            return null;
        }

        raw = raw.Trim();
        if (depth > 20)
        {
            throw new TrainingConfigException(Path, "a ${...} reference loops");
        }

        var whole = WholeReference().Match(raw);
        if (whole.Success)
        {
            return Resolve(Lookup(whole.Groups[1].Value), depth + 1);
        }

        return InnerReference().Replace(raw, m =>
        {
            var value = Resolve(Lookup(m.Groups[1].Value), depth + 1) ?? "null";
            return value.StartsWith('"') ? JsonSerializer.Deserialize<string>(value) ?? "" : value;
        });
    }

    private string? Lookup(string reference)
    {
        var dot = reference.LastIndexOf('.');
        if (dot <= 0)
        {
            throw new TrainingConfigException(Path, $"'${{{reference}}}' does not name section.key");
        }

        return Document.GetRaw(reference[..dot], reference[(dot + 1)..])
            ?? throw new TrainingConfigException(Path, $"'${{{reference}}}' refers to a value the config does not have");
    }

    private TrainingConfigException Invalid(string section, string key, string raw, string expected) =>
        new(Path, $"[{section}] {key} = {raw} is not {expected}");

    [GeneratedRegex(@"^\$\{([^}]+)\}$")]
    private static partial Regex WholeReference();

    [GeneratedRegex(@"\$\{([^}]+)\}")]
    private static partial Regex InnerReference();
}

/// <summary>A config the trainer cannot use: which file and what is wrong.</summary>
public sealed class TrainingConfigException(string path, string message) : Exception(message)
{
    public string ConfigPath { get; } = path;
}
