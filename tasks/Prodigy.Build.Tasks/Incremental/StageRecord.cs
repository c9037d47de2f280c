namespace Prodigy.Build.Tasks.Incremental;

/// <summary>A file a stage read or wrote: its path as the lock shows it (relative to the project), size and hash.</summary>
internal sealed class FileRecord(string path, long size, string hash, string? role = null)
{
    /// <summary>Relative to the project folder with '/' separators when inside it, else the full path.</summary>
    public string Path { get; } = path;

    public long Size { get; } = size;

    public string Hash { get; } = hash;

    /// <summary>What the file is to the stage (e.g. <c>ner</c>, <c>ner eval</c>, <c>config</c>); part of the fingerprint.</summary>
    public string? Role { get; } = role;
}

/// <summary>One stage's entry in the lock file: what it was built from and what it wrote.</summary>
internal sealed class StageRecord(
    string sdk,
    string fingerprint,
    IReadOnlyList<KeyValuePair<string, string>> parameters,
    IReadOnlyList<FileRecord> inputs,
    IReadOnlyList<FileRecord> outputs)
{
    public string Sdk { get; } = sdk;

    public string Fingerprint { get; } = fingerprint;

    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; } = parameters;

    public IReadOnlyList<FileRecord> Inputs { get; } = inputs;

    public IReadOnlyList<FileRecord> Outputs { get; } = outputs;
}
