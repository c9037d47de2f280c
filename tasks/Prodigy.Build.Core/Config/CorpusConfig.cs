namespace Prodigy.Build.Core.Config;

/// <summary>How the corpus and label paths are written into the config.</summary>
public enum CorpusPathStyle
{
    /// <summary>
    /// As Prodigy's <c>data-to-spacy</c> does: <c>str(output_dir / "train.spacy")</c>, i.e. the output
    /// folder exactly as the user gave it (relative to the working directory when it was relative,
    /// normalized like Python's <c>pathlib</c>: no <c>.</c> parts, no doubled or trailing separators)
    /// joined with the file name. spaCy resolves relative paths against the working directory of
    /// <c>spacy train</c>, so such a config works when training from the same directory.
    /// </summary>
    AsGiven,

    /// <summary>Absolute paths: the config works from any working directory (not portable across machines).</summary>
    Absolute,
}

/// <summary>What <see cref="CorpusConfig"/> needs to know about the exported corpus.</summary>
public sealed record CorpusConfigRequest
{
    /// <summary>The trainable components exported, in pipeline order.</summary>
    public required IReadOnlyList<string> Components { get; init; }

    /// <summary>Labels per component in corpus (first occurrence) order; a component without an entry gets no label file.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Labels { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The output folder as the user gave it (<c>data-to-spacy</c>'s <c>output_path</c>).</summary>
    public required string OutputDirectory { get; init; }

    public string TrainFileName { get; init; } = "train.spacy";

    public string DevFileName { get; init; } = "dev.spacy";

    /// <summary>The label files' folder inside <see cref="OutputDirectory"/>.</summary>
    public string LabelsDirectoryName { get; init; } = "labels";

    /// <summary>Whether the NER data has binary (accept/reject) annotations: rejected spans are stored under <c>doc.spans["incorrect_spans"]</c>.</summary>
    public bool HasBinaryNer { get; init; }

    /// <summary>The span group key the spancat data uses (spaCy's default is <c>sc</c>).</summary>
    public string SpansKey { get; init; } = "sc";

    public CorpusPathStyle PathStyle { get; init; } = CorpusPathStyle.AsGiven;

    /// <summary>
    /// The config's component for an exported component where its name is not the factory's (a user's
    /// <c>[components.my_ner] factory = "ner"</c>): exported name (ner, textcat, textcat_multilabel,
    /// spancat) to the name in <c>[nlp] pipeline</c>. The label files keep the exported names.
    /// </summary>
    public IReadOnlyDictionary<string, string> ConfigNames { get; init; } = new Dictionary<string, string>();

    /// <summary>The config's name of the exported <paramref name="component"/>.</summary>
    public string ConfigName(string component) => ConfigNames.GetValueOrDefault(component) ?? component;
}

/// <summary>
/// The <c>config.cfg</c> Prodigy's <c>data-to-spacy</c> writes beside <c>train.spacy</c> and
/// <c>dev.spacy</c>: the generated (or the user's) config with only these values filled in:
/// <list type="bullet">
/// <item><c>[paths] train</c> / <c>dev</c>: the corpus files (see <see cref="CorpusPathStyle"/>).</item>
/// <item><c>[initialize.components.&lt;c&gt;.labels]</c> with <c>@readers = "spacy.read_labels.v1"</c> and
/// <c>path</c> = <c>&lt;output&gt;/labels/&lt;c&gt;.json</c> for each component with labels, so that
/// <c>spacy train</c> initializes the label set from the files instead of scanning the corpus.
/// Like thinc, the empty parent <c>[initialize.components.&lt;c&gt;]</c> is written too.</item>
/// <item><c>[components.ner] incorrect_spans_key = "incorrect_spans"</c> when the NER data is binary, so
/// rejected entities are used as negative examples.</item>
/// <item><c>[components.spancat] spans_key</c> when the data's key is not <c>sc</c>, with the
/// <c>spans_sc_*</c> score weights renamed to the key (spaCy's defaults name <c>sc</c>; left as they are,
/// <c>spacy train</c> fails with E983 because those scores do not exist).</item>
/// </list>
/// Everything else is kept byte for byte (for a user's config also its comments and layout).
/// </summary>
public static class CorpusConfig
{
    public const string IncorrectSpansKey = "incorrect_spans";

    /// <summary>The config text for <paramref name="config"/> (not modified) and the export.</summary>
    public static string Create(SpacyConfigDocument config, CorpusConfigRequest request) => Apply(config.Clone(), request).ToString();

    /// <summary>The config text for a generated config.</summary>
    public static string Create(SpacyConfigRequest generate, CorpusConfigRequest request) =>
        Apply(SpacyConfigGenerator.GenerateDocument(generate), request).ToString();

    /// <summary>Fills the export's values into <paramref name="config"/> (in place) and returns it.</summary>
    public static SpacyConfigDocument Apply(SpacyConfigDocument config, CorpusConfigRequest request)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Components);
        foreach (var component in request.Components)
        {
            if (config.FindSection("components." + request.ConfigName(component)) is null)
            {
                throw new ArgumentException($"the config has no [components.{request.ConfigName(component)}] block", nameof(config));
            }
        }

        foreach (var component in request.Labels.Keys)
        {
            if (!request.Components.Contains(component))
            {
                throw new ArgumentException($"labels given for '{component}', which is not an exported component", nameof(request));
            }
        }

        config.SetRaw("paths", "train", ConfigValues.String(CorpusPath(request, request.TrainFileName)));
        config.SetRaw("paths", "dev", ConfigValues.String(CorpusPath(request, request.DevFileName)));

        foreach (var component in request.Components)
        {
            if (!request.Labels.ContainsKey(component))
            {
                continue;
            }

            var name = request.ConfigName(component);
            var parent = config.FindSection($"initialize.components.{name}");
            if (parent?.Find("labels") is not null)
            {
                // An inline labels value would conflict with the labels block.
                parent.Remove("labels");
            }

            var labels = config.GetOrAddSection($"initialize.components.{name}.labels");
            foreach (var key in labels.Keys.ToList())
            {
                labels.Remove(key);
            }

            labels.SetRaw("@readers", ConfigValues.String("spacy.read_labels.v1"));
            labels.SetRaw("path", ConfigValues.String(LabelsPath(request, component)));
        }

        if (request.HasBinaryNer && request.Components.Contains("ner"))
        {
            config.SetRaw($"components.{request.ConfigName("ner")}", "incorrect_spans_key", ConfigValues.String(IncorrectSpansKey));
        }

        if (request.Components.Contains("spancat"))
        {
            ArgumentException.ThrowIfNullOrEmpty(request.SpansKey);
            var spancat = $"components.{request.ConfigName("spancat")}";
            var current = config.GetRaw(spancat, "spans_key");
            var wanted = ConfigValues.String(request.SpansKey);
            if (request.SpansKey != "sc" || (current is not null && current != wanted))
            {
                var oldKey = current is not null && current.Length >= 2 && current[0] == '"' ? current[1..^1] : "sc";
                config.SetRaw(spancat, "spans_key", wanted);
                var weights = config.FindSection("training.score_weights");
                if (weights is not null && oldKey != request.SpansKey)
                {
                    foreach (var suffix in new[] { "f", "p", "r" })
                    {
                        weights.RenameKey($"spans_{oldKey}_{suffix}", $"spans_{request.SpansKey}_{suffix}");
                    }
                }
            }
        }

        return config;
    }

    /// <summary>The path written for a corpus file (e.g. <c>corpus/train.spacy</c>).</summary>
    public static string CorpusPath(CorpusConfigRequest request, string fileName) =>
        JoinPath(request.PathStyle, request.OutputDirectory, fileName);

    /// <summary>The path written for a component's label file (e.g. <c>corpus/labels/ner.json</c>).</summary>
    public static string LabelsPath(CorpusConfigRequest request, string component) =>
        JoinPath(request.PathStyle, request.OutputDirectory, request.LabelsDirectoryName, LabelFiles.FileName(component));

    /// <summary>The label files' folder on disk.</summary>
    public static string LabelsDirectory(CorpusConfigRequest request) =>
        Path.Combine(request.OutputDirectory, request.LabelsDirectoryName);

    /// <summary>Python's <c>str(PurePath(first) / rest...)</c> on this platform, or the absolute path.</summary>
    internal static string JoinPath(CorpusPathStyle style, string first, params string[] rest)
    {
        ArgumentNullException.ThrowIfNull(first);
        if (style == CorpusPathStyle.Absolute)
        {
            return Path.GetFullPath(Path.Combine([first, .. rest]));
        }

        var separators = OperatingSystem.IsWindows() ? new[] { '/', '\\' } : ['/'];
        var separator = OperatingSystem.IsWindows() ? "\\" : "/";
        var root = "";
        var parts = new List<string>();
        foreach (var piece in (string[])[first, .. rest])
        {
            if (Path.IsPathRooted(piece))
            {
                root = Path.GetPathRoot(piece)!;
                parts.Clear();
                AddParts(piece[root.Length..]);
            }
            else
            {
                AddParts(piece);
            }
        }

        void AddParts(string piece)
        {
            foreach (var part in piece.Split(separators, StringSplitOptions.RemoveEmptyEntries))
            {
                if (part != ".")
                {
                    parts.Add(part);
                }
            }
        }

        var joined = root + string.Join(separator, parts);
        return joined.Length == 0 ? "." : joined;
    }
}
