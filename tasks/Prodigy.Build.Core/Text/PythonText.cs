using System.Text;

namespace Prodigy.Build.Core.Text;

/// <summary>
/// The parts of CPython's <c>str</c> that spaCy's tokenizer relies on, reproduced exactly:
/// <c>isspace()</c>, <c>lower()</c> (full mappings and the final-sigma rule) and code point counting.
/// .NET differs on U+001C-U+001F, on <c>İ</c>, on final sigma and on newer Unicode versions.
/// </summary>
public static class PythonText
{
    private static readonly CodePointSet SpaceSet = CodePointSet.FromSortedPairs(PythonUnicodeTables.Space);
    private static readonly CodePointSet SigmaSkipped = CodePointSet.FromSortedPairs(PythonUnicodeTables.SigmaSkipped);
    private static readonly CodePointSet SigmaCased = CodePointSet.FromSortedPairs(PythonUnicodeTables.SigmaCased);
    private static readonly bool[] BmpSpace = BuildBmpSpace();
    private static readonly Dictionary<int, string> LowerMap = PythonUnicodeTables.FullLower.ToDictionary(e => e.CodePoint, e => e.Lower);

    private const int CapitalSigma = 0x3A3;

    private static bool[] BuildBmpSpace()
    {
        var table = new bool[0x10000];
        for (var c = 0; c < table.Length; c++)
        {
            table[c] = SpaceSet.Contains(c);
        }

        return table;
    }

    /// <summary>Python's <c>str.isspace()</c> for one UTF-16 unit (no character above U+FFFF is whitespace).</summary>
    public static bool IsSpace(char c) => BmpSpace[c];

    /// <summary>Python's <c>str.isspace()</c> for one code point.</summary>
    public static bool IsSpace(int codePoint) => codePoint < 0x10000 ? BmpSpace[codePoint] : SpaceSet.Contains(codePoint);

    /// <summary>
    /// Reads the code point at <paramref name="index"/>: a surrogate pair counts as one, a lone
    /// surrogate as itself (Python strings may hold lone surrogates; so may .NET strings).
    /// </summary>
    public static int CodePointAt(ReadOnlySpan<char> text, int index, out int length)
    {
        var c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }

        length = 1;
        return c;
    }

    private static int CodePointBefore(ReadOnlySpan<char> text, int index, out int length)
    {
        var c = text[index - 1];
        if (char.IsLowSurrogate(c) && index >= 2 && char.IsHighSurrogate(text[index - 2]))
        {
            length = 2;
            return char.ConvertToUtf32(text[index - 2], c);
        }

        length = 1;
        return c;
    }

    /// <summary>The length of <paramref name="text"/> as Python's <c>len()</c> counts it: code points.</summary>
    public static int CodePointCount(ReadOnlySpan<char> text)
    {
        var count = text.Length;
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && char.IsLowSurrogate(text[i + 1]))
            {
                count--;
                i++;
            }
        }

        return count;
    }

    /// <summary>Python's <c>str.lower()</c>.</summary>
    public static string Lower(string text)
    {
        var span = text.AsSpan();
        var i = 0;
        // Fast path: leave the string alone while nothing changes.
        for (; i < span.Length; i++)
        {
            var c = span[i];
            if (c < 0x80)
            {
                if (c is >= 'A' and <= 'Z')
                {
                    break;
                }

                continue;
            }

            if (char.IsSurrogate(c) || c == CapitalSigma || LowerMap.ContainsKey(c))
            {
                break;
            }
        }

        if (i == span.Length)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 4);
        builder.Append(span[..i]);
        while (i < span.Length)
        {
            var c = span[i];
            if (c < 0x80)
            {
                builder.Append(c is >= 'A' and <= 'Z' ? (char)(c + 32) : c);
                i++;
                continue;
            }

            var cp = CodePointAt(span, i, out var length);
            if (cp == CapitalSigma)
            {
                builder.Append(IsFinalSigma(span, i) ? '\u03C2' : '\u03C3');
            }
            else if (LowerMap.TryGetValue(cp, out var lower))
            {
                builder.Append(lower);
            }
            else
            {
                builder.Append(span.Slice(i, length));
            }

            i += length;
        }

        return builder.ToString();
    }

    // CPython's handle_capital_sigma: final when preceded by a cased character (skipping
    // case-ignorable ones) and not followed by one.
    private static bool IsFinalSigma(ReadOnlySpan<char> text, int index)
    {
        var j = index;
        var cp = -1;
        while (j > 0)
        {
            cp = CodePointBefore(text, j, out var length);
            j -= length;
            if (!SigmaSkipped.Contains(cp))
            {
                break;
            }

            cp = -1;
        }

        if (cp < 0 || !SigmaCased.Contains(cp))
        {
            return false;
        }

        j = index + 1;
        while (j < text.Length)
        {
            cp = CodePointAt(text, j, out var length);
            j += length;
            if (!SigmaSkipped.Contains(cp))
            {
                return !SigmaCased.Contains(cp);
            }
        }

        return true;
    }
}
