using System.Text;

namespace Prodigy.Build.Core.Text;

/// <summary>
/// Writes a <see cref="CodePointSet"/> as .NET regex syntax that consumes exactly one code point of
/// a UTF-16 string: BMP characters through one class, characters above U+FFFF as surrogate pairs,
/// and lone surrogates only where they are not half of a pair (as Python, which sees a pair as one
/// code point, would).
/// </summary>
internal static class CodePointSetEmitter
{
    private const int HighFirst = 0xD800, HighLast = 0xDBFF, LowFirst = 0xDC00, LowLast = 0xDFFF;

    public static string Emit(CodePointSet set)
    {
        var bmp = set.Intersect(CodePointSet.FromPairs([0, HighFirst - 1, LowLast + 1, 0xFFFF]));
        var highs = set.Intersect(CodePointSet.Range(HighFirst, HighLast));
        var lows = set.Intersect(CodePointSet.Range(LowFirst, LowLast));
        var astral = set.Intersect(CodePointSet.Range(0x10000, CodePointSet.MaxCodePoint));

        var alternatives = new List<string>();
        if (!bmp.IsEmpty)
        {
            alternatives.Add(ClassOf(bmp));
        }

        if (!astral.IsEmpty)
        {
            alternatives.AddRange(AstralAlternatives(astral));
        }

        if (!highs.IsEmpty)
        {
            alternatives.Add(ClassOf(highs) + @"(?![\uDC00-\uDFFF])");
        }

        if (!lows.IsEmpty)
        {
            alternatives.Add(@"(?<![\uD800-\uDBFF])" + ClassOf(lows));
        }

        return alternatives.Count switch
        {
            0 => "(?!)",
            1 when !bmp.IsEmpty => alternatives[0],
            _ => "(?:" + string.Join("|", alternatives) + ")",
        };
    }

    // Groups the astral ranges by high surrogate; consecutive high surrogates that take the same
    // low-surrogate class share one alternative.
    private static IEnumerable<string> AstralAlternatives(CodePointSet astral)
    {
        var lowsByHigh = new SortedDictionary<int, List<int>>();
        for (var r = 0; r < astral.RangeCount; r++)
        {
            var (lo, hi) = astral[r];
            var highLo = HighOf(lo);
            var highHi = HighOf(hi);
            for (var h = highLo; h <= highHi; h++)
            {
                var from = h == highLo ? LowOf(lo) : LowFirst;
                var to = h == highHi ? LowOf(hi) : LowLast;
                if (!lowsByHigh.TryGetValue(h, out var lows))
                {
                    lowsByHigh[h] = lows = [];
                }

                lows.Add(from);
                lows.Add(to);
            }
        }

        var pending = new List<(int FirstHigh, int LastHigh, string LowClass)>();
        foreach (var (high, lows) in lowsByHigh)
        {
            var lowClass = ClassOf(CodePointSet.FromPairs(lows));
            if (pending.Count > 0 && pending[^1].LastHigh == high - 1 && pending[^1].LowClass == lowClass)
            {
                pending[^1] = (pending[^1].FirstHigh, high, lowClass);
            }
            else
            {
                pending.Add((high, high, lowClass));
            }
        }

        foreach (var (firstHigh, lastHigh, lowClass) in pending)
        {
            var highClass = firstHigh == lastHigh ? Escape(firstHigh) : $"[{Escape(firstHigh)}-{Escape(lastHigh)}]";
            yield return highClass + lowClass;
        }
    }

    private static int HighOf(int codePoint) => HighFirst + ((codePoint - 0x10000) >> 10);

    private static int LowOf(int codePoint) => LowFirst + ((codePoint - 0x10000) & 0x3FF);

    /// <summary>A .NET class for a set of BMP code units.</summary>
    private static string ClassOf(CodePointSet units)
    {
        if (units.RangeCount == 1 && units[0].Lo == units[0].Hi)
        {
            return Escape(units[0].Lo);
        }

        var builder = new StringBuilder("[");
        for (var r = 0; r < units.RangeCount; r++)
        {
            var (lo, hi) = units[r];
            builder.Append(Escape(lo));
            if (hi > lo)
            {
                if (hi > lo + 1)
                {
                    builder.Append('-');
                }

                builder.Append(Escape(hi));
            }
        }

        return builder.Append(']').ToString();
    }

    private static string Escape(int unit) =>
        unit is >= '0' and <= '9' or >= 'A' and <= 'Z' or >= 'a' and <= 'z'
            ? ((char)unit).ToString()
            : $"\\u{unit:X4}";
}
