namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A spaCy pipeline folder that cannot be read, run or written: a coded error (PRD24xx) that names
/// the file and says what is wrong and how to fix it.
/// </summary>
public sealed class SpacyPipelineException(string code, string message, string path, Exception? inner = null)
    : Exception($"{path}: {code}: {message}", inner)
{
    /// <summary>The error code (PRD2400-PRD2449), listed in docs/errors.md.</summary>
    public string Code { get; } = code;

    /// <summary>The file or folder the error is about.</summary>
    public string Path { get; } = path;

    /// <summary>The message without the path and code.</summary>
    public string Reason { get; } = message;
}
