using System.Text;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Config;

/// <summary>The golden <c>spacy init config</c> files and their commands (<c>commands.tsv</c>).</summary>
internal static class ConfigGolden
{
    public static string Directory => Path.Combine(SharedData.Root, "spacy", "configs");

    /// <summary>Every row of commands.tsv: file name and command.</summary>
    public static IEnumerable<(string File, string Command)> Commands()
    {
        foreach (var line in File.ReadAllLines(Path.Combine(Directory, "commands.tsv"), Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var tab = line.IndexOf('\t');
            yield return (line[..tab], line[(tab + 1)..]);
        }
    }

    /// <summary>Rows whose command is <c>python -m spacy init config OUT ...</c>.</summary>
    public static IEnumerable<(string File, string[] Args)> InitConfigCommands() =>
        Commands()
            .Select(c => (c.File, Args: c.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .Where(c => c.Args.Length > 5 && c.Args[1] == "-m" && c.Args[2] == "spacy" && c.Args[3] == "init" && c.Args[4] == "config")
            .Select(c => (c.File, c.Args[6..]));

    /// <summary>Rows whose command is <c>python -m spacy init fill-config BASE OUT</c>: (base, filled).</summary>
    public static IEnumerable<(string Base, string Filled)> FillConfigPairs() =>
        Commands()
            .Select(c => c.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(a => a.Length >= 7 && a[2] == "spacy" && a[3] == "init" && a[4] == "fill-config")
            .Select(a => (a[5], a[6]));

    /// <summary>Rows that render the quickstart template: (file, init-config-style args).</summary>
    public static IEnumerable<(string File, string[] Args)> QuickstartCommands() =>
        Commands()
            .Select(c => (c.File, Args: c.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .Where(c => c.Args.Length > 2 && c.Args[1].EndsWith("render_quickstart.py", StringComparison.Ordinal))
            .Select(c => (c.File, c.Args[3..]));

    public static IEnumerable<string> AllCfgFiles() =>
        System.IO.Directory.EnumerateFiles(Directory, "*.cfg").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static string Read(string file) => File.ReadAllText(Path.Combine(Directory, file), new UTF8Encoding(false));

    public static byte[] ReadBytes(string file) => File.ReadAllBytes(Path.Combine(Directory, file));

    /// <summary>A unified-style diff of the first differing lines (with context) for assertion messages.</summary>
    public static string Diff(string expected, string actual, string label, int context = 3, int maxLines = 40)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var first = 0;
        while (first < e.Length && first < a.Length && e[first] == a[first])
        {
            first++;
        }

        var builder = new StringBuilder();
        builder.AppendLine($"--- expected {label}").AppendLine($"+++ generated").AppendLine($"@@ first difference at line {first + 1} @@");
        for (var i = Math.Max(0, first - context); i < first; i++)
        {
            builder.Append(' ').AppendLine(Show(e[i]));
        }

        // Re-synchronise: show expected and actual lines from the first difference.
        var shown = 0;
        for (var i = first; i < e.Length && shown < maxLines / 2; i++, shown++)
        {
            builder.Append('-').AppendLine(Show(e[i]));
        }

        shown = 0;
        for (var i = first; i < a.Length && shown < maxLines / 2; i++, shown++)
        {
            builder.Append('+').AppendLine(Show(a[i]));
        }

        if (expected.Length > 0 && actual.Length > 0 && expected[^1] != actual[^1])
        {
            builder.AppendLine($"(last character differs: expected U+{(int)expected[^1]:X4}, generated U+{(int)actual[^1]:X4})");
        }

        return builder.ToString();
    }

    private static string Show(string line) => line.Replace("\r", "\\r", StringComparison.Ordinal);
}
