using System.Text.RegularExpressions;

namespace Prodigy.Build.Tasks;

/// <summary>
/// One line in MSBuild's canonical error form: <c>origin: [subcategory] error|warning CODE: text</c>,
/// where origin is <c>file</c>, <c>file(line)</c>, <c>file(line,col)</c> or
/// <c>file(line,col,endLine,endCol)</c>, or the tool's name. Anything else is not canonical.
/// </summary>
public sealed class CanonicalLine
{
    private static readonly Regex Pattern = new(
        @"^\s*(?<origin>[^\r\n]*?)(?:\((?<location>\d+(?:,\d+){0,3})\))?\s*:\s*(?:(?<subcategory>[^:\r\n]*?)\s+)?(?<category>error|warning)\s+(?<code>[A-Za-z]+[0-9]+)\s*:\s*(?<text>.*)$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    private CanonicalLine(bool isError, string code, string text, string? file, string? subcategory, int line, int column, int endLine, int endColumn)
    {
        IsError = isError;
        Code = code;
        Text = text;
        File = file;
        Subcategory = subcategory;
        Line = line;
        Column = column;
        EndLine = endLine;
        EndColumn = endColumn;
    }

    public bool IsError { get; }

    public string Code { get; }

    public string Text { get; }

    /// <summary>The file the line is about, or null when the origin is a tool name.</summary>
    public string? File { get; }

    public string? Subcategory { get; }

    public int Line { get; }

    public int Column { get; }

    public int EndLine { get; }

    public int EndColumn { get; }

    /// <summary>Parses <paramref name="line"/>; null when it is not a canonical error or warning.</summary>
    /// <param name="line">One line of tool output.</param>
    /// <param name="toolNames">Origins that name a tool rather than a file.</param>
    public static CanonicalLine? TryParse(string? line, params string[] toolNames)
    {
        if (line is null || line.Length == 0 || line.Length > 64 * 1024)
        {
            return null;
        }

        var match = Pattern.Match(line);
        if (!match.Success)
        {
            return null;
        }

        var origin = match.Groups["origin"].Value.Trim();
        var location = match.Groups["location"];
        var numbers = location.Success
            ? location.Value.Split(',').Select(n => int.TryParse(n, out var value) ? value : 0).ToArray()
            : Array.Empty<int>();
        if (origin.Length == 0 && numbers.Length > 0)
        {
            return null;
        }

        string? file = origin;
        if (numbers.Length == 0 && (origin.Length == 0 || toolNames.Any(t => string.Equals(t, origin, StringComparison.OrdinalIgnoreCase))))
        {
            file = null;
        }

        int At(int index) => index < numbers.Length ? numbers[index] : 0;
        var subcategory = match.Groups["subcategory"].Success ? match.Groups["subcategory"].Value.Trim() : null;
        return new CanonicalLine(
            string.Equals(match.Groups["category"].Value, "error", StringComparison.OrdinalIgnoreCase),
            match.Groups["code"].Value,
            match.Groups["text"].Value.TrimEnd(),
            file,
            string.IsNullOrEmpty(subcategory) ? null : subcategory,
            At(0),
            At(1),
            At(2),
            At(3));
    }
}
