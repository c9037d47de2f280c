using System.Globalization;
using System.Text;

namespace Prodigy.Build.Core.Text;

/// <summary>A Python <c>re</c> pattern that cannot be translated; the message says where and why.</summary>
public sealed class PythonRegexException(string message) : Exception(message);

/// <summary>
/// Translates a Python <c>re</c> pattern (as spaCy serializes it) into an equivalent .NET pattern.
/// Python matches code points, .NET UTF-16 units; so every single-character construct (literal,
/// class, <c>.</c>, <c>\w</c>, ...) is first resolved to a <see cref="CodePointSet"/> with Python's
/// semantics (CPython 3.11 tables, IGNORECASE folded in), then written as .NET syntax that consumes
/// exactly one code point: a BMP class, surrogate-pair alternatives for characters above U+FFFF,
/// and guarded lone surrogates. The result needs no RegexOptions other than CultureInvariant.
/// </summary>
internal sealed class PythonRegexTranslator
{
    [Flags]
    private enum Flags
    {
        None = 0,
        IgnoreCase = 1,
        Multiline = 2,
        DotAll = 4,
        Verbose = 8,
        Ascii = 16,
    }

    private static readonly CodePointSet BasicPlaneWithoutSurrogates = CodePointSet.FromPairs([0, 0xD7FF, 0xE000, 0xFFFF]);

    private readonly string _pattern;
    private readonly bool _basicPlaneOnly;
    private int _pos;
    private Flags _flags;
    private readonly Dictionary<CodePointSet, string> _emitted = new();
    private readonly Dictionary<(CodePointSet, CodePointSet), CodePointSet> _folded = new();

    private PythonRegexTranslator(string pattern, bool basicPlaneOnly)
    {
        _pattern = pattern;
        _basicPlaneOnly = basicPlaneOnly;
    }

    /// <summary>Translates <paramref name="pattern"/>; throws <see cref="PythonRegexException"/> on what Python would reject or what is unsupported.</summary>
    /// <param name="pattern">The Python pattern.</param>
    /// <param name="basicPlaneOnly">
    /// Translate for subject strings known to hold no surrogate code unit (no character above
    /// U+FFFF, no lone surrogate): every class becomes a plain .NET class, which .NET matches much
    /// faster than the alternations that surrogate pairs need.
    /// </param>
    public static string Translate(string pattern, bool basicPlaneOnly = false)
    {
        // spaCy's url_match (the same in every language) has the user-info part "\S+(?::\S*)?@".
        // ':' is itself \S, so "(?::\S*)?" adds no span that "\S+" lacks, and backtracking still
        // tries ends from longest to shortest, so every search and match gives the same result;
        // but on a long chunk with many ':' and no '@' it costs O(n * colons) instead of O(n).
        pattern = pattern.Replace(@"\S+(?::\S*)?@", @"\S+@", StringComparison.Ordinal);
        var translator = new PythonRegexTranslator(pattern, basicPlaneOnly);
        translator.ReadLeadingFlags();
        var result = new StringBuilder(pattern.Length + pattern.Length / 4);
        translator.ParseAlternation(result);
        if (translator._pos < pattern.Length)
        {
            throw translator.Error(pattern[translator._pos] == ')' ? "unbalanced parenthesis" : "unexpected character");
        }

        return result.ToString();
    }

    private PythonRegexException Error(string what) =>
        new($"Python regular expression: {what} at position {_pos} (near '{Excerpt()}').");

    private string Excerpt()
    {
        var start = Math.Max(0, _pos - 20);
        var end = Math.Min(_pattern.Length, _pos + 20);
        return _pattern[start..end];
    }

    private bool AtEnd => _pos >= _pattern.Length;

    private char Peek => _pattern[_pos];

    // Global flags such as "(?iu)" may only open a Python 3.11 pattern; they apply to all of it.
    private void ReadLeadingFlags()
    {
        while (_pos + 2 < _pattern.Length && _pattern[_pos] == '(' && _pattern[_pos + 1] == '?' && IsFlagLetter(_pattern[_pos + 2]))
        {
            var save = _pos;
            _pos += 2;
            var flags = ReadFlagLetters();
            if (!AtEnd && Peek == ')')
            {
                _pos++;
                _flags |= flags;
            }
            else
            {
                _pos = save; // a scoped group "(?i:...)": parsed as an atom
                break;
            }
        }
    }

    private static bool IsFlagLetter(char c) => c is 'a' or 'i' or 'L' or 'm' or 's' or 'u' or 'x';

    private Flags ReadFlagLetters()
    {
        var flags = Flags.None;
        while (!AtEnd && IsFlagLetter(Peek))
        {
            flags |= Peek switch
            {
                'i' => Flags.IgnoreCase,
                'm' => Flags.Multiline,
                's' => Flags.DotAll,
                'x' => Flags.Verbose,
                'a' => Flags.Ascii,
                'u' => Flags.None, // str patterns are Unicode already
                _ => throw Error("the LOCALE flag is not supported for str patterns"),
            };
            _pos++;
        }

        return flags;
    }

    private void SkipVerbose()
    {
        if ((_flags & Flags.Verbose) == 0)
        {
            return;
        }

        while (!AtEnd)
        {
            if (char.IsWhiteSpace(Peek))
            {
                _pos++;
            }
            else if (Peek == '#')
            {
                while (!AtEnd && Peek != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                break;
            }
        }
    }

    private void ParseAlternation(StringBuilder output)
    {
        ParseSequence(output);
        while (!AtEnd && Peek == '|')
        {
            _pos++;
            output.Append('|');
            ParseSequence(output);
        }
    }

    private void ParseSequence(StringBuilder output)
    {
        while (true)
        {
            SkipVerbose();
            if (AtEnd || Peek == '|' || Peek == ')')
            {
                return;
            }

            var atomStart = output.Length;
            var quantifiable = ParseAtom(output);
            SkipVerbose();
            if (!AtEnd && TryReadQuantifier(out var quantifier))
            {
                if (!quantifiable)
                {
                    throw Error("nothing to repeat");
                }

                if (quantifier.Length > 1 && quantifier[^1] == '+')
                {
                    // Python 3.11's possessive repeat: .NET spells it as an atomic group.
                    output.Insert(atomStart, "(?>(?:").Append(')').Append(quantifier[..^1]).Append(')');
                }
                else
                {
                    output.Append(quantifier);
                }

                SkipVerbose();
                if (!AtEnd && TryReadQuantifier(out _))
                {
                    throw Error("multiple repeat");
                }
            }
        }
    }

    private bool TryReadQuantifier(out string quantifier)
    {
        quantifier = "";
        var c = Peek;
        string basic;
        if (c is '*' or '+' or '?')
        {
            basic = c.ToString();
            _pos++;
        }
        else if (c == '{' && TryReadBraces(out var braces))
        {
            basic = braces;
        }
        else
        {
            return false;
        }

        if (!AtEnd && Peek == '?')
        {
            _pos++;
            basic += "?";
        }
        else if (!AtEnd && Peek == '+')
        {
            // Python 3.11 possessive quantifier: an atomic group around the greedy repeat.
            _pos++;
            basic += "+";
        }

        quantifier = basic;
        return true;
    }

    // "{m}", "{m,}", "{,n}", "{m,n}"; anything else is a literal "{" in Python.
    private bool TryReadBraces(out string braces)
    {
        braces = "";
        var end = _pattern.IndexOf('}', _pos);
        if (end < 0)
        {
            return false;
        }

        var body = _pattern.AsSpan(_pos + 1, end - _pos - 1);
        var comma = body.IndexOf(',');
        var minText = comma < 0 ? body : body[..comma];
        var maxText = comma < 0 ? body : body[(comma + 1)..];
        if (!IsDigits(minText, allowEmpty: comma >= 0) || !IsDigits(maxText, allowEmpty: comma >= 0))
        {
            return false;
        }

        var min = minText.IsEmpty ? 0 : int.Parse(minText, CultureInfo.InvariantCulture);
        if (!maxText.IsEmpty && int.Parse(maxText, CultureInfo.InvariantCulture) < min)
        {
            throw Error("min repeat greater than max repeat");
        }

        braces = comma < 0 ? $"{{{min}}}" : maxText.IsEmpty ? $"{{{min},}}" : $"{{{min},{maxText.ToString()}}}";
        _pos = end + 1;
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<char> text, bool allowEmpty)
    {
        if (text.IsEmpty)
        {
            return allowEmpty;
        }

        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Writes one atom; returns whether a quantifier may follow it.</summary>
    private bool ParseAtom(StringBuilder output)
    {
        var c = Peek;
        switch (c)
        {
            case '(':
                ParseGroup(output);
                return true;
            case '[':
                EmitSet(output, ParseClass());
                return true;
            case '.':
                _pos++;
                EmitSet(output, (_flags & Flags.DotAll) != 0 ? CodePointSet.All : PythonCharacterClasses.Newline.Complement());
                return true;
            case '^':
                _pos++;
                output.Append((_flags & Flags.Multiline) != 0 ? "(?m:^)" : "^");
                return false;
            case '$':
                _pos++;
                // Both engines: end of string or before a final newline (any newline with MULTILINE).
                output.Append((_flags & Flags.Multiline) != 0 ? "(?m:$)" : "$");
                return false;
            case '\\':
                return ParseEscape(output);
            case '*' or '+' or '?':
                throw Error("nothing to repeat");
            case '{':
                if (TryReadBraces(out _))
                {
                    throw Error("nothing to repeat");
                }

                _pos++;
                EmitLiteral(output, '{');
                return true;
            default:
                var cp = PythonText.CodePointAt(_pattern, _pos, out var length);
                _pos += length;
                EmitLiteral(output, cp);
                return true;
        }
    }

    private void ParseGroup(StringBuilder output)
    {
        _pos++; // '('
        if (AtEnd)
        {
            throw Error("missing ), unterminated subpattern");
        }

        if (Peek != '?')
        {
            // Capturing groups only delimit here: the tokenizer reads match boundaries, never groups.
            output.Append("(?:");
            ParseGroupBody(output);
            return;
        }

        _pos++;
        if (AtEnd)
        {
            throw Error("unexpected end of pattern");
        }

        var c = Peek;
        switch (c)
        {
            case ':':
                _pos++;
                output.Append("(?:");
                ParseGroupBody(output);
                return;
            case '=' or '!':
                _pos++;
                output.Append("(?").Append(c);
                ParseGroupBody(output);
                return;
            case '>':
                _pos++;
                output.Append("(?>");
                ParseGroupBody(output);
                return;
            case '<' when _pos + 1 < _pattern.Length && _pattern[_pos + 1] is '=' or '!':
                output.Append("(?<").Append(_pattern[_pos + 1]);
                _pos += 2;
                ParseGroupBody(output);
                return;
            case '#':
                var close = _pattern.IndexOf(')', _pos);
                if (close < 0)
                {
                    throw Error("missing ), unterminated comment");
                }

                _pos = close + 1;
                return;
            case 'P' when _pos + 1 < _pattern.Length && _pattern[_pos + 1] == '<':
                var nameEnd = _pattern.IndexOf('>', _pos);
                if (nameEnd < 0)
                {
                    throw Error("missing >, unterminated name");
                }

                _pos = nameEnd + 1;
                output.Append("(?:");
                ParseGroupBody(output);
                return;
            case 'P':
                throw Error("named backreferences are not supported by the tokenizer");
            case '(':
                throw Error("conditional groups are not supported by the tokenizer");
            default:
                if (IsFlagLetter(c) || c == '-')
                {
                    ParseScopedFlags(output);
                    return;
                }

                throw Error($"unknown extension ?{c}");
        }
    }

    private void ParseScopedFlags(StringBuilder output)
    {
        var add = ReadFlagLetters();
        var remove = Flags.None;
        if (!AtEnd && Peek == '-')
        {
            _pos++;
            remove = ReadFlagLetters();
        }

        if (AtEnd || Peek != ':')
        {
            throw Error("global flags not at the start of the expression");
        }

        _pos++;
        var saved = _flags;
        _flags = (_flags | add) & ~remove;
        output.Append("(?:");
        ParseGroupBody(output);
        _flags = saved;
    }

    private void ParseGroupBody(StringBuilder output)
    {
        ParseAlternation(output);
        if (AtEnd || Peek != ')')
        {
            throw Error("missing ), unterminated subpattern");
        }

        _pos++;
        output.Append(')');
    }

    private bool ParseEscape(StringBuilder output)
    {
        if (_pos + 1 >= _pattern.Length)
        {
            throw Error("bad escape (end of pattern)");
        }

        var c = _pattern[_pos + 1];
        switch (c)
        {
            case 'A':
                _pos += 2;
                output.Append(@"\A");
                return false;
            case 'Z':
                _pos += 2;
                output.Append(@"\z");
                return false;
            case 'b' or 'B':
                _pos += 2;
                var word = EmitToString(WordSet());
                var boundary = $"(?:(?<={word})(?!{word})|(?<!{word})(?={word}))";
                output.Append(c == 'b' ? boundary : $"(?!{boundary})");
                return false;
            case 'd' or 'D' or 'w' or 'W' or 's' or 'S':
                _pos += 2;
                EmitSet(output, CategorySet(c));
                return true;
            case >= '1' and <= '7' when IsOctal(_pattern, _pos + 2) && IsOctal(_pattern, _pos + 3):
                // Three octal digits are a character, not a group reference.
                _pos += 2;
                EmitLiteral(output, ReadOctal(c - '0', 2));
                return true;
            case >= '1' and <= '9':
                throw Error("backreferences are not supported by the tokenizer");
            default:
                EmitLiteral(output, ReadCharacterEscape(inClass: false));
                return true;
        }
    }

    private static bool IsOctal(string text, int index) => index < text.Length && text[index] is >= '0' and <= '7';

    private CodePointSet WordSet() => (_flags & Flags.Ascii) != 0 ? PythonCharacterClasses.AsciiWord : PythonCharacterClasses.Word;

    private CodePointSet CategorySet(char letter)
    {
        var ascii = (_flags & Flags.Ascii) != 0;
        var set = char.ToLowerInvariant(letter) switch
        {
            'd' => ascii ? PythonCharacterClasses.AsciiDigit : PythonCharacterClasses.Digit,
            'w' => WordSet(),
            _ => ascii ? PythonCharacterClasses.AsciiSpace : PythonCharacterClasses.Space,
        };
        return char.IsUpper(letter) ? set.Complement() : set;
    }

    /// <summary>Reads an escape that stands for one character (the backslash is at <c>_pos</c>).</summary>
    private int ReadCharacterEscape(bool inClass)
    {
        var c = _pattern[_pos + 1];
        _pos += 2;
        switch (c)
        {
            case 'a': return 0x07;
            case 'f': return 0x0C;
            case 'n': return 0x0A;
            case 'r': return 0x0D;
            case 't': return 0x09;
            case 'v': return 0x0B;
            case 'b' when inClass: return 0x08;
            case '\\': return '\\';
            case 'x': return ReadHex(2);
            case 'u': return ReadHex(4);
            case 'U':
                var value = ReadHex(8);
                if (value > CodePointSet.MaxCodePoint)
                {
                    throw Error("bad escape \\U (beyond U+10FFFF)");
                }

                return value;
            case '0':
                return ReadOctal(0, 2);
            case >= '1' and <= '7' when inClass:
                return ReadOctal(c - '0', 2);
            case 'N':
                throw Error("\\N{...} escapes are not supported by the tokenizer");
            default:
                if (char.IsAsciiLetterOrDigit(c))
                {
                    _pos -= 2;
                    throw Error($"bad escape \\{c}");
                }

                // Any other escaped character stands for itself (\. \- \' \! ...).
                _pos -= 1;
                var cp = PythonText.CodePointAt(_pattern, _pos, out var length);
                _pos += length;
                return cp;
        }
    }

    private int ReadHex(int digits)
    {
        if (_pos + digits > _pattern.Length ||
            !int.TryParse(_pattern.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            throw Error($"incomplete escape (expected {digits} hex digits)");
        }

        _pos += digits;
        return value;
    }

    private int ReadOctal(int value, int moreDigits)
    {
        for (var i = 0; i < moreDigits && !AtEnd && Peek is >= '0' and <= '7'; i++)
        {
            value = value * 8 + (Peek - '0');
            _pos++;
        }

        return value;
    }

    /// <summary>Parses "[...]" into the set of code points it matches (IGNORECASE applied).</summary>
    private CodePointSet ParseClass()
    {
        var start = _pos;
        _pos++; // '['
        var negate = false;
        if (!AtEnd && Peek == '^')
        {
            negate = true;
            _pos++;
        }

        var items = new List<int>();
        var categories = CodePointSet.Empty;
        var first = true;
        while (true)
        {
            if (AtEnd)
            {
                _pos = start;
                throw Error("unterminated character set");
            }

            if (Peek == ']' && !first)
            {
                _pos++;
                break;
            }

            first = false;
            int lo;
            if (Peek == '\\' && _pos + 1 < _pattern.Length && _pattern[_pos + 1] is 'd' or 'D' or 'w' or 'W' or 's' or 'S')
            {
                categories = categories.Union(CategorySet(_pattern[_pos + 1]));
                _pos += 2;
                continue;
            }

            lo = ReadClassCharacter();
            if (_pos + 1 < _pattern.Length && Peek == '-' && _pattern[_pos + 1] != ']')
            {
                _pos++;
                if (Peek == '\\' && _pos + 1 < _pattern.Length && _pattern[_pos + 1] is 'd' or 'D' or 'w' or 'W' or 's' or 'S')
                {
                    throw Error("bad character range");
                }

                var hi = ReadClassCharacter();
                if (hi < lo)
                {
                    throw Error("bad character range");
                }

                items.Add(lo);
                items.Add(hi);
            }
            else
            {
                items.Add(lo);
                items.Add(lo);
            }
        }

        var literals = CodePointSet.FromPairs(items);
        CodePointSet set;
        if ((_flags & Flags.IgnoreCase) != 0)
        {
            if (!_folded.TryGetValue((literals, categories), out set!))
            {
                set = PythonCharacterClasses.IgnoreCaseClass(literals, categories);
                _folded[(literals, categories)] = set;
            }
        }
        else
        {
            set = literals.Union(categories);
        }

        return negate ? set.Complement() : set;
    }

    private int ReadClassCharacter()
    {
        if (Peek == '\\')
        {
            if (_pos + 1 >= _pattern.Length)
            {
                throw Error("bad escape (end of pattern)");
            }

            return ReadCharacterEscape(inClass: true);
        }

        var cp = PythonText.CodePointAt(_pattern, _pos, out var length);
        _pos += length;
        return cp;
    }

    private void EmitLiteral(StringBuilder output, int codePoint)
    {
        if ((_flags & Flags.IgnoreCase) != 0 && (_flags & Flags.Ascii) == 0)
        {
            EmitSet(output, PythonCharacterClasses.IgnoreCaseLiteral(codePoint));
        }
        else if ((_flags & Flags.IgnoreCase) != 0 && codePoint < 0x80 && char.IsAsciiLetter((char)codePoint))
        {
            EmitSet(output, CodePointSet.FromCodePoints([char.ToLowerInvariant((char)codePoint), char.ToUpperInvariant((char)codePoint)]));
        }
        else
        {
            EmitSet(output, CodePointSet.Single(codePoint));
        }
    }

    private void EmitSet(StringBuilder output, CodePointSet set) => output.Append(EmitToString(set));

    private string EmitToString(CodePointSet set)
    {
        if (!_emitted.TryGetValue(set, out var text))
        {
            text = CodePointSetEmitter.Emit(_basicPlaneOnly ? set.Intersect(BasicPlaneWithoutSurrogates) : set);
            _emitted[set] = text;
        }

        return text;
    }
}
