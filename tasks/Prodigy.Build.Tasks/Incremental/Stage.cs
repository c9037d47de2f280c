using System.Text;

namespace Prodigy.Build.Tasks.Incremental;

/// <summary>
/// A file a stage reads, and what it is to the stage; or something that is not a file (a dataset in
/// Prodigy's database) whose content hash and size were computed elsewhere, with the file whose time
/// stands for it.
/// </summary>
internal readonly struct StageInput(string fullPath, string? role, string? hash = null, long size = 0, string? timePath = null)
{
    /// <summary>The file; for a precomputed input, its name in the lock file (e.g. <c>/p/prodigy.db#fashion_brands</c>).</summary>
    public string FullPath { get; } = fullPath;

    public string? Role { get; } = role;

    /// <summary>The content hash when it is not the file's (a database dataset's digest); null: hash the file.</summary>
    public string? Hash { get; } = hash;

    /// <summary>With <see cref="Hash"/>: the size the lock file records (a dataset's number of examples).</summary>
    public long Size { get; } = size;

    /// <summary>The file whose modification time stands for the input (IDEs' up-to-date checks compare times).</summary>
    public string TimePath => timePath ?? FullPath;
}

/// <summary>
/// A stage as this build sees it: inputs with their content hashes, parameters, the SDK version and
/// the fingerprint over all of them; compared with the lock's entry to decide whether to run.
/// </summary>
internal sealed class Stage
{
    private const int MaxReasons = 3;

    private Stage(string name, string projectDirectory, StageRecord current, IReadOnlyList<string> outputs, IReadOnlyList<string> inputTimePaths)
    {
        Name = name;
        ProjectDirectory = projectDirectory;
        Current = current;
        OutputFullPaths = outputs;
        InputTimePaths = inputTimePaths;
    }

    public string Name { get; }

    public string ProjectDirectory { get; }

    /// <summary>This build's record, without outputs until <see cref="WithOutputs"/>.</summary>
    public StageRecord Current { get; }

    public IReadOnlyList<string> OutputFullPaths { get; }

    /// <summary>The files whose times stand for the inputs.</summary>
    public IReadOnlyList<string> InputTimePaths { get; }

    /// <summary>Hashes the inputs (through the cache) and computes the fingerprint.</summary>
    public static Stage Describe(
        string name,
        string projectDirectory,
        string sdkVersion,
        IEnumerable<KeyValuePair<string, string>> parameters,
        IEnumerable<StageInput> inputs,
        IEnumerable<string> outputFullPaths,
        FileHashCache cache)
    {
        var sortedParameters = parameters.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var inputRecords = new List<FileRecord>();
        var timePaths = new List<string>();
        foreach (var input in inputs)
        {
            var (size, hash) = input.Hash is null ? cache.Get(input.FullPath) : (input.Size, input.Hash);
            inputRecords.Add(new FileRecord(Relative(projectDirectory, input.FullPath), size, hash, input.Role));
            timePaths.Add(input.TimePath);
        }

        // Everything that shapes the outputs, in a canonical text: changing any of it changes the fingerprint.
        var canonical = new StringBuilder("prodigy-stage 1\n");
        canonical.Append("stage\t").Append(name).Append('\n');
        canonical.Append("sdk\t").Append(sdkVersion).Append('\n');
        foreach (var parameter in sortedParameters)
        {
            canonical.Append("parameter\t").Append(parameter.Key).Append('\t').Append(parameter.Value).Append('\n');
        }

        foreach (var input in inputRecords)
        {
            canonical.Append("input\t").Append(input.Path).Append('\t').Append(input.Role).Append('\t').Append(input.Hash).Append('\n');
        }

        var record = new StageRecord(sdkVersion, ContentHash.OfText(canonical.ToString()), sortedParameters, inputRecords, []);
        return new Stage(name, projectDirectory, record, outputFullPaths.ToList(), timePaths);
    }

    /// <summary>Why the stage must run, or null when the lock's entry says it is up to date.</summary>
    public string? WhyRebuild(StageRecord? locked, FileHashCache cache)
    {
        if (locked is null)
        {
            return "it has not been built yet";
        }

        var reasons = new List<string>();
        if (locked.Sdk != Current.Sdk)
        {
            reasons.Add($"the SDK changed ({locked.Sdk} -> {Current.Sdk})");
        }

        var lockedParameters = locked.Parameters.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        var currentParameters = Current.Parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var parameter in Current.Parameters)
        {
            if (!lockedParameters.TryGetValue(parameter.Key, out var was))
            {
                reasons.Add($"{parameter.Key} is new ({Show(parameter.Value)})");
            }
            else if (was != parameter.Value)
            {
                reasons.Add($"{parameter.Key} changed ({Show(was)} -> {Show(parameter.Value)})");
            }
        }

        reasons.AddRange(lockedParameters.Keys.Where(k => !currentParameters.ContainsKey(k)).Select(k => $"{k} was removed"));

        var lockedInputs = locked.Inputs.GroupBy(i => i.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var currentInputPaths = new HashSet<string>(Current.Inputs.Select(i => i.Path), StringComparer.Ordinal);
        foreach (var input in Current.Inputs)
        {
            if (!lockedInputs.TryGetValue(input.Path, out var was))
            {
                reasons.Add($"{input.Path} was added");
            }
            else if (was.Hash != input.Hash)
            {
                reasons.Add($"{input.Path} changed");
            }
            else if ((was.Role ?? "") != (input.Role ?? ""))
            {
                reasons.Add($"{input.Path} is now {Show(input.Role ?? "")} (was {Show(was.Role ?? "")})");
            }
        }

        reasons.AddRange(locked.Inputs.Where(i => !currentInputPaths.Contains(i.Path)).Select(i => $"{i.Path} was removed"));
        if (reasons.Count == 0 && !locked.Inputs.Select(i => i.Path).SequenceEqual(Current.Inputs.Select(i => i.Path), StringComparer.Ordinal))
        {
            reasons.Add("the order of the inputs changed");
        }

        if (reasons.Count == 0 && locked.Fingerprint != Current.Fingerprint)
        {
            reasons.Add("its fingerprint in the lock file does not match (edited by hand?)");
        }

        if (reasons.Count == 0)
        {
            var lockedOutputs = locked.Outputs.GroupBy(o => o.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            foreach (var output in OutputFullPaths)
            {
                var path = Relative(ProjectDirectory, output);
                if (!lockedOutputs.TryGetValue(path, out var was))
                {
                    reasons.Add($"{path} is a new output");
                }
                else if (!File.Exists(output))
                {
                    reasons.Add($"{path} is missing");
                }
                else if (cache.Get(output) is var now && (now.Hash != was.Hash || now.Size != was.Size))
                {
                    reasons.Add($"{path} was modified");
                }
            }
        }

        if (reasons.Count == 0)
        {
            return null;
        }

        return reasons.Count <= MaxReasons
            ? string.Join(", ", reasons)
            : string.Join(", ", reasons.Take(MaxReasons)) + $" and {reasons.Count - MaxReasons} more change(s)";
    }

    /// <summary>The record to lock after a run: this build's inputs and parameters, and the outputs as written.</summary>
    public StageRecord WithOutputs(FileHashCache cache)
    {
        var outputs = new List<FileRecord>();
        foreach (var output in OutputFullPaths)
        {
            var (size, hash) = cache.Get(output);
            outputs.Add(new FileRecord(Relative(ProjectDirectory, output), size, hash));
        }

        return new StageRecord(Current.Sdk, Current.Fingerprint, Current.Parameters, Current.Inputs, outputs);
    }

    /// <summary>Relative to the project folder with '/' when inside it (the same on every clone and OS), else the full path.</summary>
    public static string Relative(string projectDirectory, string fullPath)
    {
        var root = Path.GetFullPath(projectDirectory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(fullPath);
        var comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var relative = full.StartsWith(root, comparison) ? full.Substring(root.Length) : full;
        return relative.Replace('\\', '/');
    }

    private static string Show(string value) => value.Length == 0 ? "empty" : "'" + value + "'";
}
