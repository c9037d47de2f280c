using System.Globalization;
using System.Text;

namespace Prodigy.Build.Core.Spacy;

/// <summary>
/// spaCy's lexical attributes of a word (<c>spacy.lang.lex_attrs</c>): what its DocBin stores for
/// PREFIX and SUFFIX, and what its embedding layers read (NORM, PREFIX, SUFFIX, SHAPE). Counted in
/// code points, as Python slices strings.
/// </summary>
public static class LexicalAttributes
{
    /// <summary>The first character (<c>string[:1]</c>).</summary>
    public static string Prefix(string word)
    {
        if (word.Length == 0)
        {
            return "";
        }

        return word.Length > 1 && char.IsHighSurrogate(word[0]) && char.IsLowSurrogate(word[1]) ? word[..2] : word[..1];
    }

    /// <summary>The last three characters (<c>string[-3:]</c>).</summary>
    public static string Suffix(string word)
    {
        var start = word.Length;
        for (var k = 0; k < 3 && start > 0; k++)
        {
            start--;
            if (start > 0 && char.IsLowSurrogate(word[start]) && char.IsHighSurrogate(word[start - 1]))
            {
                start--;
            }
        }

        return word[start..];
    }

    /// <summary>
    /// spaCy's <c>word_shape</c>: letters become X or x, digits d, other characters stay; a run of the
    /// same shape character is cut after four; words of 100 characters or more are "LONG".
    /// </summary>
    public static string Shape(string word)
    {
        if (PythonTextLength(word) >= 100)
        {
            return "LONG";
        }

        var shape = new StringBuilder(Math.Min(word.Length, 16));
        var last = -1;
        var run = 0;
        foreach (var rune in word.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            int shapeChar = category switch
            {
                UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter => 'X',
                UnicodeCategory.LowercaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => 'x',
                UnicodeCategory.DecimalDigitNumber => 'd',
                _ => rune.Value,
            };
            if (shapeChar == last)
            {
                run++;
            }
            else
            {
                run = 0;
                last = shapeChar;
            }

            if (run < 4)
            {
                shape.Append(char.ConvertFromUtf32(shapeChar));
            }
        }

        return shape.ToString();
    }

    private static int PythonTextLength(string word) => word.Length < 100 ? word.Length : word.EnumerateRunes().Count();
}
