using System.Text;

namespace Prodigy.Build.Core.Config;

/// <summary>
/// A spaCy / thinc <c>.cfg</c> file as text: sections, keys and raw values, with every comment,
/// blank line, line ending and the presence of a final newline kept, so that
/// <see cref="ToString"/> returns the parsed text unchanged until something is edited, and an edit
/// changes only the lines it touches.
/// </summary>
/// <remarks>
/// Parsing follows Python's <c>configparser</c> as thinc configures it (<c>optionxform = str</c>, so
/// keys keep their case; delimiters <c>=</c> and <c>:</c>; full-line comments starting with
/// <c>#</c> or <c>;</c>; indented lines continue the previous value; duplicate sections or keys are
/// errors). Values are kept as raw text (JSON-like, <c>${...}</c> interpolations verbatim); use
/// <see cref="ConfigValues"/> to write typed values the way thinc serializes them.
/// New sections are inserted where thinc's <c>Config._sort</c> puts them (spaCy's top-level section
/// order, then the dotted path, parents before their subsections), with thinc's layout: one blank
/// line between sections.
/// </remarks>
public sealed class SpacyConfigDocument
{
    /// <summary>spaCy's <c>CONFIG_SECTION_ORDER</c>: top-level sections sort in this order, unknown ones after them.</summary>
    public static IReadOnlyList<string> SectionOrder { get; } =
        ["paths", "variables", "system", "nlp", "components", "corpora", "training", "pretraining", "initialize"];

    private readonly List<ConfigLine> _preamble = [];
    private readonly List<ConfigSection> _sections = [];

    private SpacyConfigDocument(string newLine)
    {
        NewLine = newLine;
    }

    /// <summary>The line ending used for lines this document adds (the file's first line ending, else "\n").</summary>
    public string NewLine { get; }

    /// <summary>The sections in file order.</summary>
    public IReadOnlyList<ConfigSection> Sections => _sections;

    /// <summary>An empty document (what thinc would write for an empty config: nothing).</summary>
    public static SpacyConfigDocument CreateEmpty(string newLine = "\n") => new(newLine);

    /// <summary>Parses config text. Throws <see cref="FormatException"/> where configparser would refuse it.</summary>
    public static SpacyConfigDocument Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = SplitLines(text);
        var newLine = lines.Count > 0 && lines[0].Terminator.Length > 0 ? lines[0].Terminator : "\n";
        var document = new SpacyConfigDocument(newLine);
        ConfigSection? current = null;
        ConfigEntry? lastEntry = null;
        var lastEntryIndent = 0;
        var lineNumber = 0;
        foreach (var (content, terminator) in lines)
        {
            lineNumber++;
            var stripped = content.Trim();
            var indent = content.Length - content.TrimStart().Length;
            if (stripped.Length == 0 || stripped[0] is '#' or ';')
            {
                // Blank lines and comments. (A blank line never ends up inside a value here: thinc's
                // files have none, and configparser strips trailing blank lines of a value anyway.)
                var trivia = new ConfigLine(content, terminator);
                if (current is null)
                {
                    document._preamble.Add(trivia);
                }
                else
                {
                    current.Lines.Add(trivia);
                }

                continue;
            }

            if (lastEntry is not null && indent > lastEntryIndent && current is not null)
            {
                // An indented line continues the previous value (configparser's multi-line values).
                var continuation = new ConfigLine(content, terminator) { Continues = lastEntry };
                lastEntry.Continuations.Add(continuation);
                current.Lines.Add(continuation);
                continue;
            }

            if (stripped[0] == '[' && stripped.LastIndexOf(']') > 1)
            {
                var name = stripped[1..stripped.LastIndexOf(']')];
                if (document.FindSection(name) is not null)
                {
                    throw new FormatException($"line {lineNumber}: section [{name}] appears twice");
                }

                current = new ConfigSection(document, name, new ConfigLine(content, terminator));
                document._sections.Add(current);
                lastEntry = null;
                continue;
            }

            if (current is null)
            {
                throw new FormatException($"line {lineNumber}: a value outside of any section: {content}");
            }

            var delimiter = content.IndexOfAny(['=', ':']);
            if (delimiter < 0)
            {
                throw new FormatException($"line {lineNumber}: expected 'key = value' in [{current.Name}]: {content}");
            }

            var key = content[..delimiter].Trim();
            if (key.Length == 0)
            {
                throw new FormatException($"line {lineNumber}: empty key in [{current.Name}]");
            }

            if (current.Find(key) is not null)
            {
                throw new FormatException($"line {lineNumber}: key '{key}' appears twice in [{current.Name}]");
            }

            var line = new ConfigLine(content, terminator);
            var entry = new ConfigEntry(key, line, delimiter);
            line.Entry = entry;
            current.Lines.Add(line);
            lastEntry = entry;
            lastEntryIndent = indent;
        }

        return document;
    }

    /// <summary>Reads a config file (UTF-8; a byte order mark is kept for <see cref="Save"/>).</summary>
    public static SpacyConfigDocument Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var bom = bytes.AsSpan().StartsWith((byte[])[0xEF, 0xBB, 0xBF]);
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, bom ? 3 : 0, bytes.Length - (bom ? 3 : 0));
        var document = Parse(text);
        document.HasByteOrderMark = bom;
        return document;
    }

    /// <summary>Whether the loaded file started with a UTF-8 byte order mark.</summary>
    public bool HasByteOrderMark { get; private set; }

    /// <summary>The UTF-8 bytes of <see cref="ToString"/> (with the byte order mark if the file had one).</summary>
    public byte[] ToBytes()
    {
        var body = new UTF8Encoding(false).GetBytes(ToString());
        return HasByteOrderMark ? [0xEF, 0xBB, 0xBF, .. body] : body;
    }

    /// <summary>Writes the document atomically (a temporary file in the same folder, then a rename).</summary>
    public void Save(string path) => AtomicFile.WriteAllBytes(path, ToBytes());

    /// <summary>An independent copy (parsed from this document's text).</summary>
    public SpacyConfigDocument Clone()
    {
        var copy = Parse(ToString());
        copy.HasByteOrderMark = HasByteOrderMark;
        return copy;
    }

    /// <summary>The text: byte-identical to the parsed text when nothing was edited.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        foreach (var line in AllLines())
        {
            builder.Append(line.Content).Append(line.Terminator);
        }

        return builder.ToString();
    }

    /// <summary>The section called <paramref name="name"/> (dotted path), or null.</summary>
    public ConfigSection? FindSection(string name) => _sections.Find(s => s.Name == name);

    /// <summary>The raw value of <paramref name="key"/> in <paramref name="section"/> (continuation lines joined with "\n"), or null.</summary>
    public string? GetRaw(string section, string key) => FindSection(section)?.Find(key)?.RawValue;

    /// <summary>Sets a raw value, adding the key (and its section with any missing parents) where needed.</summary>
    public void SetRaw(string section, string key, string rawValue) => GetOrAddSection(section).SetRaw(key, rawValue);

    /// <summary>
    /// Returns the section, creating it and any missing parent sections (as thinc writes a section
    /// for every level of a nested block) at their sorted positions.
    /// </summary>
    public ConfigSection GetOrAddSection(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var existing = FindSection(name);
        if (existing is not null)
        {
            return existing;
        }

        var dot = name.LastIndexOf('.');
        if (dot > 0)
        {
            GetOrAddSection(name[..dot]);
        }

        return InsertSection(name);
    }

    /// <summary>Removes a section and its subsections (with their trailing blank lines and comments).</summary>
    public bool RemoveSection(string name)
    {
        var lines = AllLines().ToList();
        var endedWithoutNewline = lines.Count > 0 && lines[^1].Terminator.Length == 0;
        var removed = _sections.RemoveAll(s => s.Name == name || s.Name.StartsWith(name + ".", StringComparison.Ordinal));
        if (removed > 0 && endedWithoutNewline)
        {
            // Keep the file's ending: the new last line ends the file without a newline.
            var last = _sections.Count > 0 ? _sections[^1] : null;
            if (last is not null)
            {
                while (last.Lines.Count > 0 && last.Lines[^1].Content.Trim().Length == 0)
                {
                    last.Lines.RemoveAt(last.Lines.Count - 1);
                }

                (last.Lines.Count > 0 ? last.Lines[^1] : last.Header).Terminator = "";
            }
            else if (_preamble.Count > 0)
            {
                _preamble[^1].Terminator = "";
            }
        }

        return removed > 0;
    }

    /// <summary>thinc's section sort key comparison: top-level order, then path parts (ordinal by code point).</summary>
    public static int CompareSectionNames(string a, string b)
    {
        var rankA = TopLevelRank(a);
        var rankB = TopLevelRank(b);
        if (rankA != rankB)
        {
            return rankA.CompareTo(rankB);
        }

        var partsA = a.Split('.');
        var partsB = b.Split('.');
        for (var i = 0; i < Math.Min(partsA.Length, partsB.Length); i++)
        {
            var c = PythonStringCompare(partsA[i], partsB[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return partsA.Length.CompareTo(partsB.Length);
    }

    /// <summary>Python's string ordering: by code point (differs from UTF-16 ordinal above U+FFFF).</summary>
    internal static int PythonStringCompare(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            var ca = CodePointAt(a, i, out var la);
            var cb = CodePointAt(b, j, out var lb);
            if (ca != cb)
            {
                return ca.CompareTo(cb);
            }

            i += la;
            j += lb;
        }

        return (a.Length - i).CompareTo(b.Length - j);
    }

    private static int CodePointAt(string s, int index, out int length)
    {
        if (char.IsHighSurrogate(s[index]) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(s[index], s[index + 1]);
        }

        length = 1;
        return s[index];
    }

    private static int TopLevelRank(string name)
    {
        var dot = name.IndexOf('.');
        var top = dot < 0 ? name : name[..dot];
        for (var i = 0; i < SectionOrder.Count; i++)
        {
            if (SectionOrder[i] == top)
            {
                return i;
            }
        }

        return SectionOrder.Count;
    }

    private ConfigSection InsertSection(string name)
    {
        var index = _sections.FindIndex(s => CompareSectionNames(name, s.Name) < 0);
        if (index < 0)
        {
            index = _sections.Count;
        }

        var section = new ConfigSection(this, name, new ConfigLine("[" + name + "]", NewLine));
        if (index < _sections.Count)
        {
            // Followed by another section: the new one ends with its separating blank line.
            section.Lines.Add(new ConfigLine("", NewLine));
        }
        else
        {
            var previousLines = AllLines().ToList();
            if (previousLines.Count > 0)
            {
                var last = previousLines[^1];
                var fileEndsWithNewline = last.Terminator.Length > 0;
                if (!fileEndsWithNewline)
                {
                    last.Terminator = NewLine;
                }

                if (last.Content.Trim().Length > 0 || !fileEndsWithNewline)
                {
                    // Separate from the previous section by one blank line (thinc's layout).
                    AppendToLastSection(new ConfigLine("", NewLine));
                }

                // Keep the file's ending style: thinc writes no final newline.
                section.Header.Terminator = fileEndsWithNewline ? NewLine : "";
            }
            else
            {
                section.Header.Terminator = "";
            }
        }

        _sections.Insert(index, section);
        return section;
    }

    private void AppendToLastSection(ConfigLine line)
    {
        if (_sections.Count > 0)
        {
            _sections[^1].Lines.Add(line);
        }
        else
        {
            _preamble.Add(line);
        }
    }

    internal IEnumerable<ConfigLine> AllLines()
    {
        foreach (var line in _preamble)
        {
            yield return line;
        }

        foreach (var section in _sections)
        {
            yield return section.Header;
            foreach (var line in section.Lines)
            {
                yield return line;
            }
        }
    }

    private static List<(string Content, string Terminator)> SplitLines(string text)
    {
        var result = new List<(string, string)>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                result.Add((text[start..i], "\n"));
                start = i + 1;
            }
            else if (text[i] == '\r')
            {
                var crlf = i + 1 < text.Length && text[i + 1] == '\n';
                result.Add((text[start..i], crlf ? "\r\n" : "\r"));
                if (crlf)
                {
                    i++;
                }

                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            result.Add((text[start..], ""));
        }

        return result;
    }
}

/// <summary>One physical line: its text without the line ending, and the ending ("" on a last line without one).</summary>
public sealed class ConfigLine(string content, string terminator)
{
    public string Content { get; internal set; } = content;

    public string Terminator { get; internal set; } = terminator;

    /// <summary>The entry this line starts (a <c>key = value</c> line), if any.</summary>
    internal ConfigEntry? Entry { get; set; }

    /// <summary>The entry this line continues (an indented continuation line), if any.</summary>
    internal ConfigEntry? Continues { get; init; }
}

/// <summary>A <c>key = value</c> entry (with its continuation lines, if the value spans several).</summary>
public sealed class ConfigEntry
{
    internal ConfigEntry(string key, ConfigLine line, int delimiterIndex)
    {
        Key = key;
        Line = line;
        DelimiterIndex = delimiterIndex;
    }

    public string Key { get; private set; }

    internal ConfigLine Line { get; }

    internal int DelimiterIndex { get; private set; }

    internal List<ConfigLine> Continuations { get; } = [];

    /// <summary>The value as configparser reads it: stripped, continuation lines joined with "\n".</summary>
    public string RawValue
    {
        get
        {
            var first = Line.Content[(DelimiterIndex + 1)..].Trim();
            if (Continuations.Count == 0)
            {
                return first;
            }

            var parts = new List<string> { first };
            parts.AddRange(Continuations.Select(c => c.Content.Trim()));
            return string.Join("\n", parts).Trim();
        }
    }

    internal void Rename(string newKey)
    {
        var content = Line.Content;
        var keyStart = content.IndexOf(Key, StringComparison.Ordinal);
        Line.Content = content[..keyStart] + newKey + content[(keyStart + Key.Length)..];
        DelimiterIndex += newKey.Length - Key.Length;
        Key = newKey;
    }

    internal void Replace(string rawValue)
    {
        // Keep the key text and the delimiter with its spacing as written; replace the value only.
        var content = Line.Content;
        var valueStart = DelimiterIndex + 1;
        while (valueStart < content.Length && content[valueStart] is ' ' or '\t')
        {
            valueStart++;
        }

        var prefix = content[..valueStart];
        Line.Content = prefix + FirstLine(rawValue, out var rest);
        Continuations.Clear();
        if (rest.Count > 0)
        {
            throw new ArgumentException("multi-line values are not supported when editing", nameof(rawValue));
        }
    }

    private static string FirstLine(string value, out List<string> rest)
    {
        var parts = value.Split('\n');
        rest = [.. parts.Skip(1)];
        return parts[0];
    }
}

/// <summary>A <c>[section]</c> with its lines (entries, comments, blank lines after it).</summary>
public sealed class ConfigSection
{
    private readonly SpacyConfigDocument _document;

    internal ConfigSection(SpacyConfigDocument document, string name, ConfigLine header)
    {
        _document = document;
        Name = name;
        Header = header;
    }

    /// <summary>The dotted section name, e.g. <c>components.ner.model</c>.</summary>
    public string Name { get; }

    internal ConfigLine Header { get; }

    internal List<ConfigLine> Lines { get; } = [];

    /// <summary>The entries in file order.</summary>
    public IEnumerable<ConfigEntry> Entries => Lines.Where(l => l.Entry is not null).Select(l => l.Entry!);

    /// <summary>The keys in file order.</summary>
    public IEnumerable<string> Keys => Entries.Select(e => e.Key);

    public ConfigEntry? Find(string key) => Lines.Find(l => l.Entry?.Key == key)?.Entry;

    public string? GetRaw(string key) => Find(key)?.RawValue;

    /// <summary>Sets <paramref name="key"/>'s raw value: in place if present, else as a new line after the section's last entry.</summary>
    public ConfigSection SetRaw(string key, string rawValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(rawValue);
        if (rawValue.Contains('\n') || rawValue.Contains('\r'))
        {
            throw new ArgumentException("config values are written on one line", nameof(rawValue));
        }

        var existing = Find(key);
        if (existing is not null)
        {
            existing.Replace(rawValue);
            return this;
        }

        // After the last entry (or its continuation lines), or right after the header.
        var index = Lines.FindLastIndex(l => l.Entry is not null || l.Continues is not null);
        var after = index < 0 ? Header : Lines[index];
        var line = new ConfigLine(key + " = " + rawValue, after.Terminator.Length > 0 ? after.Terminator : "");
        if (after.Terminator.Length == 0)
        {
            after.Terminator = _document.NewLine;
        }

        line.Entry = new ConfigEntry(key, line, key.Length + 1);
        Lines.Insert(index + 1, line);
        return this;
    }

    /// <summary>Renames a key in place (same line, same value). Returns whether it existed.</summary>
    public bool RenameKey(string key, string newKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(newKey);
        var entry = Find(key);
        if (entry is null)
        {
            return false;
        }

        if (key != newKey && Find(newKey) is not null)
        {
            throw new ArgumentException($"[{Name}] already has a key '{newKey}'", nameof(newKey));
        }

        entry.Rename(newKey);
        return true;
    }

    /// <summary>Removes a key (and its continuation lines). Returns whether it existed.</summary>
    public bool Remove(string key)
    {
        var entry = Find(key);
        if (entry is null)
        {
            return false;
        }

        var index = Lines.IndexOf(entry.Line);
        var removedTerminator = (entry.Continuations.Count > 0 ? entry.Continuations[^1] : entry.Line).Terminator;
        Lines.RemoveAll(l => l == entry.Line || entry.Continuations.Contains(l));
        if (removedTerminator.Length == 0)
        {
            // It was the file's last line: the line before it now ends the file.
            var previous = index > 0 ? Lines[index - 1] : Header;
            previous.Terminator = "";
        }

        return true;
    }
}
