using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Tokenization;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Model;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// A trained pipeline on disk (model-best/, model-last/): the config it was trained with, meta.json
/// (language, pipeline, labels, scores, sizes), the tokenizer rules, the labels in output order,
/// and the weights. Written into a temporary folder and renamed, so a reader never sees half of one.
/// </summary>
public static class ModelDirectory
{
    public const string WeightsFile = "weights.bin";
    public const string LabelsFile = "labels.json";
    public const string MetaFile = "meta.json";
    public const string ConfigFile = "config.cfg";
    public const string TokenizerFile = "tokenizer.rules.json";

    /// <summary>Beside a spaCy-format model-best/ or model-last/: the weighted score, step, epoch and trainer of the saved weights.</summary>
    public const string MetricsFile = "metrics.json";

    /// <summary>spaCy's default meta.json name and version (what <c>spacy train</c> writes without <c>[meta]</c>).</summary>
    public const string DefaultName = "pipeline";

    public const string DefaultVersion = "0.0.0";

    /// <summary>
    /// Whether <paramref name="name"/> can be meta.json's name: spaCy packages a pipeline as
    /// <c>{lang}_{name}</c>, a Python package name, so letters, digits and underscores, not starting with a digit.
    /// </summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>Whether <paramref name="version"/> is a version spaCy's packaging accepts: dotted numbers with an optional suffix (1.2.3, 1.0.0rc1).</summary>
    public static bool IsValidVersion(string version) =>
        System.Text.RegularExpressions.Regex.IsMatch(version, @"^[0-9]+(\.[0-9]+)*([a-zA-Z0-9.+-]*)$");

    public static void Save(string directory, Pipeline pipeline, string configText, string? tokenizerRulesPath, IReadOnlyDictionary<string, double?> scores, double score, int step, int epoch, string name = DefaultName, string version = DefaultVersion)
    {
        var full = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        Directory.CreateDirectory(temp);
        try
        {
            File.WriteAllText(Path.Combine(temp, ConfigFile), configText);
            pipeline.save(Path.Combine(temp, WeightsFile));
            File.WriteAllText(Path.Combine(temp, LabelsFile), JsonSerializer.Serialize(pipeline.Labels, JsonOptions));
            WriteTokenizerRules(Path.Combine(temp, TokenizerFile), tokenizerRulesPath, pipeline.Settings.Language);

            var meta = new JsonObject
            {
                ["lang"] = pipeline.Settings.Language,
                ["name"] = name,
                ["version"] = version,
                ["trainer"] = "Prodigy.Build.Trainer " + TrainerVersion,
                ["pipeline"] = new JsonArray([.. pipeline.Settings.Pipeline.Select(p => JsonValue.Create(p))]),
                ["labels"] = JsonSerializer.SerializeToNode(pipeline.Labels, JsonOptions),
                ["performance"] = new JsonObject(scores.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new KeyValuePair<string, JsonNode?>(s.Key, s.Value is { } v ? JsonValue.Create(v) : null))),
                ["score"] = score,
                ["step"] = step,
                ["epoch"] = epoch,
                ["parameters"] = pipeline.parameters().Sum(p => p.numel()),
            };
            File.WriteAllText(Path.Combine(temp, MetaFile), meta.ToJsonString(JsonOptions));

            // Swap: the old folder aside, the new one in, the old one away.
            var old = full + ".old";
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }

            if (Directory.Exists(full))
            {
                Directory.Move(full, old);
            }

            Directory.Move(temp, full);
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }
    }

    /// <summary>
    /// The rules as a rules JSON: a rules JSON as it is, a spaCy tokenizer file or pipeline folder converted,
    /// or (no path) the built-in language's; nothing for a language without built-in rules.
    /// </summary>
    private static void WriteTokenizerRules(string target, string? rulesPath, string language)
    {
        if (rulesPath is not null && File.Exists(rulesPath) && rulesPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            File.Copy(rulesPath, target);
        }
        else if (rulesPath is not null)
        {
            using var output = File.Create(target);
            TokenizerRules.Load(rulesPath).WriteJson(output);
        }
        else if (TokenizerRules.OpenBuiltInJson(language) is { } builtIn)
        {
            using (builtIn)
            {
                using var output = File.Create(target);
                builtIn.CopyTo(output);
            }
        }
    }

    public static string TrainerVersion { get; } =
        typeof(ModelDirectory).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    internal static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
