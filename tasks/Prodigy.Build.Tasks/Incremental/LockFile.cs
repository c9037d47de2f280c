using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Prodigy.Build.Tasks.Incremental;

/// <summary>
/// The lock file (YAML): per stage, the SDK version, the fingerprint, the parameters, and the inputs
/// and outputs with size and hash, in a stable order so that its diff says what changed. Read with
/// YamlDotNet; written by hand so that the layout is fixed and every value is quoted only when YAML
/// needs it.
/// </summary>
internal sealed class LockFile
{
    public const int FormatVersion = 1;

    private readonly SortedDictionary<string, StageRecord> _stages = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, StageRecord> Stages => _stages;

    public StageRecord? Get(string stageKey) => _stages.TryGetValue(stageKey, out var stage) ? stage : null;

    public void Set(string stageKey, StageRecord record) => _stages[stageKey] = record;

    public bool Remove(string stageKey) => _stages.Remove(stageKey);

    /// <summary>Reads a lock file; a missing file is an empty lock. Anything unreadable is a <see cref="LockFileException"/>.</summary>
    public static LockFile Load(string path)
    {
        var lockFile = new LockFile();
        if (!File.Exists(path))
        {
            return lockFile;
        }

        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LockFileException(e.Message, 0, 0);
        }

        return Parse(text);
    }

    internal static LockFile Parse(string text)
    {
        var lockFile = new LockFile();
        if (text.Trim().Length == 0)
        {
            return lockFile;
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new LockFileException(e.Message, (int)e.Start.Line, (int)e.Start.Column);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new LockFileException("the lock file must be one YAML mapping with 'version' and 'stages'", 1, 1);
        }

        var version = Scalar(root, "version", required: true)!;
        if (version.Value != FormatVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new LockFileException($"lock file version '{version.Value}' is not {FormatVersion}", version);
        }

        if (Child(root, "stages") is { } stagesNode)
        {
            if (stagesNode is not YamlMappingNode stages)
            {
                throw new LockFileException("'stages' must be a mapping of stage names to entries", stagesNode);
            }

            foreach (var pair in stages.Children)
            {
                var name = ((pair.Key as YamlScalarNode) ?? throw new LockFileException("a stage name must be a plain value", pair.Key)).Value ?? "";
                if (pair.Value is not YamlMappingNode stage)
                {
                    throw new LockFileException($"stage '{name}' must be a mapping", pair.Value);
                }

                lockFile._stages[name] = ReadStage(name, stage);
            }
        }

        return lockFile;
    }

    private static StageRecord ReadStage(string name, YamlMappingNode stage)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        if (Child(stage, "parameters") is { } parametersNode)
        {
            if (parametersNode is not YamlMappingNode mapping)
            {
                throw new LockFileException($"'parameters' of stage '{name}' must be a mapping", parametersNode);
            }

            foreach (var pair in mapping.Children)
            {
                if (pair.Key is not YamlScalarNode key || pair.Value is not YamlScalarNode value)
                {
                    throw new LockFileException($"a parameter of stage '{name}' must be 'name: value'", pair.Key);
                }

                parameters.Add(new KeyValuePair<string, string>(key.Value ?? "", value.Value ?? ""));
            }
        }

        return new StageRecord(
            Scalar(stage, "sdk", required: true)!.Value ?? "",
            Scalar(stage, "fingerprint", required: true)!.Value ?? "",
            parameters,
            ReadFiles(name, stage, "inputs"),
            ReadFiles(name, stage, "outputs"));
    }

    private static List<FileRecord> ReadFiles(string stageName, YamlMappingNode stage, string key)
    {
        var files = new List<FileRecord>();
        if (Child(stage, key) is not { } node || node is YamlScalarNode { Value: null or "" })
        {
            return files;
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw new LockFileException($"'{key}' of stage '{stageName}' must be a list", node);
        }

        foreach (var item in sequence.Children)
        {
            if (item is not YamlMappingNode file)
            {
                throw new LockFileException($"an entry of '{key}' of stage '{stageName}' must have path, size and hash", item);
            }

            var sizeNode = Scalar(file, "size", required: true)!;
            if (!long.TryParse(sizeNode.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                throw new LockFileException($"size '{sizeNode.Value}' is not a number of bytes", sizeNode);
            }

            files.Add(new FileRecord(
                Scalar(file, "path", required: true)!.Value ?? "",
                size,
                Scalar(file, "hash", required: true)!.Value ?? "",
                Scalar(file, "role", required: false)?.Value));
        }

        return files;
    }

    private static YamlNode? Child(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static YamlScalarNode? Scalar(YamlMappingNode mapping, string key, bool required)
    {
        var node = Child(mapping, key);
        if (node is null)
        {
            return required ? throw new LockFileException($"'{key}' is missing", mapping) : null;
        }

        return node as YamlScalarNode ?? throw new LockFileException($"'{key}' must be a single value", node);
    }

    /// <summary>The lock file's text: fixed layout, stages by name, parameters as given (sorted by the caller), files in stage order.</summary>
    public string ToYaml()
    {
        var text = new StringBuilder();
        text.Append("# Prodigy.Build.Sdk lock file: what each stage of this project was last built from.\n");
        text.Append("# Written by the build (stages are skipped while their inputs, parameters and outputs match).\n");
        text.Append("# Commit it (ProdigyLockFile) to see in a diff what changed; do not edit it.\n");
        text.Append("version: ").Append(FormatVersion.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (_stages.Count == 0)
        {
            text.Append("stages: {}\n");
            return text.ToString();
        }

        text.Append("stages:\n");
        foreach (var pair in _stages)
        {
            var stage = pair.Value;
            text.Append("  ").Append(Quote(pair.Key)).Append(":\n");
            text.Append("    sdk: ").Append(Quote(stage.Sdk)).Append('\n');
            text.Append("    fingerprint: ").Append(Quote(stage.Fingerprint, always: true)).Append('\n');
            if (stage.Parameters.Count == 0)
            {
                text.Append("    parameters: {}\n");
            }
            else
            {
                text.Append("    parameters:\n");
                foreach (var parameter in stage.Parameters)
                {
                    text.Append("      ").Append(Quote(parameter.Key)).Append(": ").Append(Quote(parameter.Value)).Append('\n');
                }
            }

            WriteFiles(text, "inputs", stage.Inputs);
            WriteFiles(text, "outputs", stage.Outputs);
        }

        return text.ToString();
    }

    private static void WriteFiles(StringBuilder text, string key, IReadOnlyList<FileRecord> files)
    {
        if (files.Count == 0)
        {
            text.Append("    ").Append(key).Append(": []\n");
            return;
        }

        text.Append("    ").Append(key).Append(":\n");
        foreach (var file in files)
        {
            text.Append("      - path: ").Append(Quote(file.Path)).Append('\n');
            if (!string.IsNullOrEmpty(file.Role))
            {
                text.Append("        role: ").Append(Quote(file.Role!)).Append('\n');
            }

            text.Append("        size: ").Append(file.Size.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append("        hash: ").Append(Quote(file.Hash, always: true)).Append('\n');
        }
    }

    // A plain scalar only when YAML reads it back as the same string (not a number, bool or null,
    // no indicator characters); otherwise double-quoted with escapes.
    private static readonly Regex PlainSafe = new(@"^[A-Za-z_./][A-Za-z0-9_./\-+()\[\] ]*(?<! )$", RegexOptions.CultureInvariant);
    private static readonly Regex YamlSpecial = new(@"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN)$", RegexOptions.CultureInvariant);

    internal static string Quote(string value, bool always = false)
    {
        if (!always && value.Length > 0 && PlainSafe.IsMatch(value) && !YamlSpecial.IsMatch(value) && value.IndexOf(" #", StringComparison.Ordinal) < 0)
        {
            return value;
        }

        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7F)
                    {
                        quoted.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        quoted.Append(c);
                    }

                    break;
            }
        }

        return quoted.Append('"').ToString();
    }

    /// <summary>Writes the lock atomically.</summary>
    public void Save(string path) => AtomicWrite.Text(path, ToYaml());
}

/// <summary>A lock file that cannot be read as one: where, and what is wrong.</summary>
internal sealed class LockFileException : Exception
{
    public LockFileException(string message, int line, int column)
        : base(message)
    {
        Line = line;
        Column = column;
    }

    public LockFileException(string message, YamlNode node)
        : this(message, (int)node.Start.Line, (int)node.Start.Column)
    {
    }

    public int Line { get; }

    public int Column { get; }
}
