using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tool.Commands;

/// <summary>
/// Prints corpus progress as plain lines and data warnings in MSBuild's canonical form
/// (<c>file(line,col): warning PRD2xxx: message</c>), which the SDK's task turns into build warnings.
/// </summary>
internal sealed class ConsoleCorpusLog(TextWriter output) : ICorpusLog
{
    public void Message(string text) => output.WriteLine(text);

    public void Warning(string code, string message, string? file = null, int line = 0, int column = 0)
    {
        var origin = file is null ? CommandLine.ToolName : line > 0 ? $"{file}({line},{Math.Max(column, 1)})" : file;
        output.WriteLine($"{origin}: warning {code}: {message}");
    }
}
