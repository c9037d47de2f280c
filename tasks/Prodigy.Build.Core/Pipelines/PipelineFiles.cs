namespace Prodigy.Build.Core.Pipelines;

/// <summary>File access for pipeline folders with the coded errors of <see cref="SpacyPipelineFolder"/>.</summary>
internal static class PipelineFiles
{
    /// <summary>A file's bytes; PRD2411 when it is missing, PRD2419 when it cannot be read.</summary>
    public static byte[] ReadRequired(string path)
    {
        if (!File.Exists(path))
        {
            throw new SpacyPipelineException(
                "PRD2411",
                "the file is missing; nlp.to_disk always writes it, so copy the whole pipeline folder spaCy wrote",
                path);
        }

        return Read(path);
    }

    /// <summary>A file's bytes; PRD2419 when it cannot be read.</summary>
    public static byte[] Read(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpacyPipelineException("PRD2419", $"the file cannot be read: {e.Message}", path, e);
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> (and its folder), streams its content through <paramref name="write"/>
    /// and flushes it to disk, so that a folder renamed into place afterwards holds complete files.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        write(stream);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Writes <paramref name="bytes"/> as <see cref="Write(string, Action{Stream})"/> does.</summary>
    public static void Write(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    /// <summary>Whether <paramref name="name"/> is one plain path segment (a component name that can be a folder name).</summary>
    public static bool IsPlainSegment(string name) =>
        name.Length > 0 && name is not "." and not ".." && name.IndexOfAny(['/', '\\', '\0']) < 0 && !Path.IsPathRooted(name);

    /// <summary>
    /// Checks that a relative path ('/'-separated) stays inside the folder it is relative to.
    /// </summary>
    public static string CheckRelative(string relativePath)
    {
        var segments = relativePath.Split('/');
        if (relativePath.Length == 0 || segments.Any(s => !IsPlainSegment(s)))
        {
            throw new ArgumentException($"'{relativePath}' is not a relative path inside the pipeline folder ('/'-separated, no '..')", nameof(relativePath));
        }

        return Path.Combine(segments);
    }

    /// <summary>Every file under <paramref name="root"/> (relative, '/'-separated, ordinal order) and every empty folder.</summary>
    public static (List<string> Files, List<string> EmptyDirectories) List(string root)
    {
        var files = new List<string>();
        var empty = new List<string>();
        Walk(root, "", files, empty);
        files.Sort(StringComparer.Ordinal);
        empty.Sort(StringComparer.Ordinal);
        return (files, empty);
    }

    private static void Walk(string directory, string prefix, List<string> files, List<string> empty)
    {
        var entries = 0;
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            files.Add(prefix + Path.GetFileName(file));
            entries++;
        }

        foreach (var child in Directory.EnumerateDirectories(directory))
        {
            Walk(child, prefix + Path.GetFileName(child) + "/", files, empty);
            entries++;
        }

        if (entries == 0 && prefix.Length > 0)
        {
            empty.Add(prefix.TrimEnd('/'));
        }
    }
}
