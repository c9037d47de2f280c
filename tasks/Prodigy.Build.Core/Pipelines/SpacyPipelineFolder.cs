using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A spaCy 3 pipeline folder (what <c>nlp.to_disk</c> writes) read into its parts: <c>config.cfg</c>,
/// <c>meta.json</c>, the <c>tokenizer</c>, the <c>vocab/</c> folder and one folder per component.
/// <see cref="Read"/> then <see cref="Write"/> gives back the same files with the same bytes.
/// </summary>
/// <remarks>
/// Files this class does not interpret (a component's files other than <c>cfg</c>, <c>model</c> and
/// <c>moves</c>, folders of components the config does not name, anything else in the folder) are kept
/// as bytes in <see cref="SpacyComponentFiles.OtherFiles"/> and <see cref="OtherFiles"/>.
/// </remarks>
public sealed class SpacyPipelineFolder
{
    /// <summary>config.cfg, text kept as it was.</summary>
    public required SpacyConfigDocument Config { get; init; }

    /// <summary>meta.json.</summary>
    public required JsonObject Meta { get; init; }

    /// <summary>The tokenizer file decoded (msgpack values as <see cref="Serialization.MsgPackReader"/> gives them).</summary>
    public required object? Tokenizer { get; init; }

    /// <summary>The vocab/ folder.</summary>
    public required SpacyVocab Vocab { get; init; }

    /// <summary>The component folders: <c>[nlp] pipeline</c> order, then components only meta.json's "components" lists.</summary>
    public required IReadOnlyList<SpacyComponentFiles> Components { get; init; }

    /// <summary>Every other file, by '/'-separated path relative to the folder, as bytes.</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>> OtherFiles { get; init; } = [];

    /// <summary>Empty folders (relative, '/'-separated) other than component folders, kept so that the folder comes back the same.</summary>
    public IReadOnlyList<string> OtherEmptyDirectories { get; init; } = [];

    /// <summary>The component's files, or null when the pipeline has no folder for <paramref name="name"/>.</summary>
    public SpacyComponentFiles? Component(string name) => Components.FirstOrDefault(c => c.Name == name);

    /// <summary>The tokenizer file's bytes (msgpack, as spaCy's <c>Tokenizer.to_disk</c> wrote them), e.g. for <see cref="Tokenization.TokenizerRules.FromMsgPack"/>.</summary>
    public byte[] TokenizerBytes() => SpacyVocab.EncodeMsgPack(Tokenizer);

    /// <summary>
    /// Reads a pipeline folder. Errors are <see cref="SpacyPipelineException"/>s naming the file:
    /// PRD2411 a missing file, PRD2412 JSON that does not parse (with line and column), PRD2413 JSON of
    /// the wrong shape, PRD2414 a corrupt vectors file, PRD2415 floret vectors, PRD2416 corrupt msgpack,
    /// PRD2417 a config.cfg that does not parse, PRD2419 a file that cannot be read; a component's
    /// <c>model</c> file reports ThincModelData's own codes.
    /// </summary>
    public static SpacyPipelineFolder Read(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        directory = Path.GetFullPath(directory);
        if (!Directory.Exists(directory))
        {
            throw new SpacyPipelineException("PRD2411", "the pipeline folder does not exist", directory);
        }

        var configPath = Path.Combine(directory, "config.cfg");
        var config = ReadConfig(configPath);

        var metaPath = Path.Combine(directory, "meta.json");
        var meta = SrslyJson.Read(metaPath) as JsonObject
            ?? throw new SpacyPipelineException("PRD2413", "meta.json is not a JSON object; restore it from the pipeline spaCy wrote", metaPath);

        var tokenizerPath = Path.Combine(directory, "tokenizer");
        var tokenizer = SpacyVocab.DecodeMsgPack(PipelineFiles.ReadRequired(tokenizerPath), tokenizerPath, "the tokenizer file");

        var vocabDirectory = Path.Combine(directory, "vocab");
        if (!Directory.Exists(vocabDirectory))
        {
            throw new SpacyPipelineException("PRD2411", "the vocab/ folder is missing; copy the whole pipeline folder spaCy wrote", vocabDirectory);
        }

        var vocab = SpacyVocab.Read(vocabDirectory);

        var names = ComponentNames(config, configPath, meta);
        var components = new List<SpacyComponentFiles>();
        foreach (var name in names)
        {
            var componentDirectory = Path.Combine(directory, name);
            if (Directory.Exists(componentDirectory))
            {
                // Components without serialisable state (spaCy writes no folder for them) are left out.
                components.Add(SpacyComponentFiles.Read(name, componentDirectory));
            }
        }

        var known = new HashSet<string>(["config.cfg", "meta.json", "tokenizer", .. SpacyVocab.FileNames.Select(f => "vocab/" + f)], StringComparer.Ordinal);
        var componentFolders = components.Select(c => c.Name + "/").ToList();
        var (files, emptyDirectories) = PipelineFiles.List(directory);
        var otherFiles = files
            .Where(f => !known.Contains(f) && !componentFolders.Any(c => f.StartsWith(c, StringComparison.Ordinal)))
            .Select(f => new KeyValuePair<string, byte[]>(f, PipelineFiles.Read(Path.Combine(directory, f))))
            .ToList();
        var otherEmpty = emptyDirectories
            .Where(d => !components.Any(c => d == c.Name || d.StartsWith(c.Name + "/", StringComparison.Ordinal)))
            .ToList();

        return new SpacyPipelineFolder
        {
            Config = config,
            Meta = meta,
            Tokenizer = tokenizer,
            Vocab = vocab,
            Components = components,
            OtherFiles = otherFiles,
            OtherEmptyDirectories = otherEmpty,
        };
    }

    /// <summary>
    /// Writes the folder to <paramref name="directory"/> atomically: everything goes into a temporary
    /// sibling folder first, which then replaces <paramref name="directory"/> by renames. If anything
    /// fails, an existing folder at <paramref name="directory"/> is left as it was and the temporary
    /// folder is removed.
    /// </summary>
    /// <exception cref="SpacyPipelineException">PRD2418: a value cannot be written or the folder cannot be created or swapped in.</exception>
    public void Write(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var parent = Path.GetDirectoryName(target)
            ?? throw new SpacyPipelineException("PRD2418", "a pipeline cannot be written to a file system root", target);
        if (File.Exists(target))
        {
            throw new SpacyPipelineException("PRD2418", "a file is in the way of the pipeline folder; remove it or choose another path", target);
        }

        var id = Guid.NewGuid().ToString("N");
        var name = Path.GetFileName(target);
        var temporary = Path.Combine(parent, $".{name}.{id}.tmp");
        var previous = Path.Combine(parent, $".{name}.{id}.old");
        var file = temporary;
        try
        {
            Directory.CreateDirectory(temporary);
            foreach (var (relative, write) in Files())
            {
                file = Path.Combine(temporary, PipelineFiles.CheckRelative(relative));
                PipelineFiles.Write(file, write);
            }

            // Folders with no files in them: a component folder can be empty (spaCy creates it before
            // asking the component for its files), and the file set should come back the same.
            var emptyFolders = OtherEmptyDirectories
                .Concat(Components.SelectMany(c => c.EmptyDirectories.Select(d => c.Name + "/" + d).Prepend(c.Name)));
            foreach (var empty in emptyFolders)
            {
                Directory.CreateDirectory(Path.Combine(temporary, PipelineFiles.CheckRelative(empty)));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            DeleteQuietly(temporary);
            var where = file == temporary ? "the temporary folder" : Path.GetRelativePath(temporary, file);
            throw new SpacyPipelineException("PRD2418", $"the pipeline could not be written ({where}: {e.Message}); an existing folder was left unchanged", target, e);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }

        Swap(temporary, previous, target);
    }

    /// <summary>Every file's '/'-separated relative path and a writer of its bytes, in the order they are written.</summary>
    internal IEnumerable<(string Path, Action<Stream> Write)> Files()
    {
        // Each file is serialised inside its writer, so that an error names the file it is in.
        yield return ("config.cfg", s => s.Write(Config.ToBytes()));
        yield return ("meta.json", s => s.Write(SrslyJson.ToBytes(Meta)));
        yield return ("tokenizer", s => s.Write(TokenizerBytes()));
        foreach (var (name, write) in Vocab.Files())
        {
            yield return ("vocab/" + name, write);
        }

        foreach (var component in Components)
        {
            if (!PipelineFiles.IsPlainSegment(component.Name))
            {
                throw new ArgumentException($"the component name '{component.Name}' cannot be a folder name");
            }

            foreach (var (name, write) in component.Files())
            {
                yield return (component.Name + "/" + name, write);
            }
        }

        foreach (var (path, bytes) in OtherFiles)
        {
            yield return (path, s => s.Write(bytes));
        }
    }

    private static void Swap(string temporary, string previous, string target)
    {
        var hadTarget = Directory.Exists(target);
        try
        {
            if (hadTarget)
            {
                Directory.Move(target, previous);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeleteQuietly(temporary);
            throw new SpacyPipelineException("PRD2418", $"the existing pipeline folder could not be moved aside ({e.Message}); it was left unchanged", target, e);
        }

        try
        {
            Directory.Move(temporary, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (hadTarget)
            {
                // Put the old folder back before reporting.
                Directory.Move(previous, target);
            }

            DeleteQuietly(temporary);
            throw new SpacyPipelineException("PRD2418", $"the new pipeline folder could not be renamed into place ({e.Message}); an existing folder was left unchanged", target, e);
        }

        if (hadTarget)
        {
            DeleteQuietly(previous);
        }
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the folder's name (.<name>.<id>.tmp/.old) says what it is.
        }
    }

    private static SpacyConfigDocument ReadConfig(string path)
    {
        var bytes = PipelineFiles.ReadRequired(path);
        try
        {
            var bom = bytes.AsSpan().StartsWith((byte[])[0xEF, 0xBB, 0xBF]);
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, bom ? 3 : 0, bytes.Length - (bom ? 3 : 0));
            var document = SpacyConfigDocument.Parse(text);

            // Load keeps the byte order mark for writing; parsing first gave the coded error above.
            return bom ? SpacyConfigDocument.Load(path) : document;
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            throw new SpacyPipelineException("PRD2417", $"config.cfg cannot be parsed: {e.Message}; restore it from the pipeline spaCy wrote", path, e);
        }
    }

    private static List<string> ComponentNames(SpacyConfigDocument config, string configPath, JsonObject meta)
    {
        var names = new List<string>();
        var raw = config.GetRaw("nlp", "pipeline");
        if (raw is not null)
        {
            try
            {
                var list = JsonNode.Parse(raw) as JsonArray
                    ?? throw new FormatException("[nlp] pipeline is not a list");
                names.AddRange(list.Select(n => n is JsonValue v && v.GetValueKind() == JsonValueKind.String
                    ? v.GetValue<string>()
                    : throw new FormatException("[nlp] pipeline holds something other than component names")));
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                throw new SpacyPipelineException("PRD2417", $"[nlp] pipeline is not a list of component names ({e.Message})", configPath, e);
            }
        }

        if (meta["components"] is JsonArray metaComponents)
        {
            names.AddRange(metaComponents.OfType<JsonValue>()
                .Where(v => v.GetValueKind() == JsonValueKind.String)
                .Select(v => v.GetValue<string>()));
        }

        // A name that is not one path segment cannot be a folder spaCy wrote; it is not looked up.
        return names.Distinct(StringComparer.Ordinal).Where(PipelineFiles.IsPlainSegment).ToList();
    }
}

/// <summary>
/// One component's folder: <c>cfg</c> (JSON), <c>model</c> (thinc), <c>moves</c> (msgpack, for
/// <c>ner</c> and <c>parser</c>) and any other file as bytes.
/// </summary>
public sealed class SpacyComponentFiles
{
    /// <summary>The component's name (its folder's name).</summary>
    public required string Name { get; init; }

    /// <summary>cfg (<c>srsly.write_json(self.cfg)</c>), or null when the folder has none.</summary>
    public JsonNode? Cfg { get; init; }

    /// <summary>The thinc model file, or null when the folder has none.</summary>
    public ThincModelData? Model { get; init; }

    /// <summary>
    /// The transition system's <c>moves</c> file decoded (msgpack values), or null when the folder has
    /// none. (A file holding a bare msgpack nil or JSON null is kept in <see cref="OtherFiles"/>, so
    /// that null always means "no file".)
    /// </summary>
    public object? Moves { get; init; }

    /// <summary>Every other file, by '/'-separated path relative to the component folder, as bytes.</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>> OtherFiles { get; init; } = [];

    /// <summary>Empty folders inside the component folder.</summary>
    public IReadOnlyList<string> EmptyDirectories { get; init; } = [];

    /// <summary>Reads a component folder (see <see cref="SpacyPipelineFolder.Read"/> for the errors).</summary>
    public static SpacyComponentFiles Read(string name, string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var (files, empty) = PipelineFiles.List(directory);
        JsonNode? cfg = null;
        ThincModelData? model = null;
        object? moves = null;
        var other = new List<KeyValuePair<string, byte[]>>();
        foreach (var file in files)
        {
            var path = Path.Combine(directory, file);
            var bytes = PipelineFiles.Read(path);
            switch (file)
            {
                case "cfg" when SrslyJson.Parse(bytes, path) is { } parsed:
                    cfg = parsed;
                    break;
                case "model":
                    model = ThincModelData.Parse(bytes, path);
                    break;
                case "moves" when SpacyVocab.DecodeMsgPack(bytes, path, "the moves file") is { } decoded:
                    moves = decoded;
                    break;
                default:
                    other.Add(new KeyValuePair<string, byte[]>(file, bytes));
                    break;
            }
        }

        return new SpacyComponentFiles { Name = name, Cfg = cfg, Model = model, Moves = moves, OtherFiles = other, EmptyDirectories = empty };
    }

    /// <summary>Each file's '/'-separated relative path and a writer of its bytes.</summary>
    internal IEnumerable<(string Path, Action<Stream> Write)> Files()
    {
        if (Cfg is { } cfg)
        {
            yield return ("cfg", s => s.Write(SrslyJson.ToBytes(cfg)));
        }

        if (Model is { } model)
        {
            yield return ("model", s => s.Write(model.ToBytes()));
        }

        if (Moves is { } moves)
        {
            yield return ("moves", s => s.Write(SpacyVocab.EncodeMsgPack(moves)));
        }

        foreach (var (path, bytes) in OtherFiles)
        {
            yield return (path, s => s.Write(bytes));
        }
    }
}
