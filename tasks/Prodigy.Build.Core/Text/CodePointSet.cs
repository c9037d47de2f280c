namespace Prodigy.Build.Core.Text;

/// <summary>
/// An immutable set of Unicode code points (0 to U+10FFFF, lone surrogates included) kept as sorted,
/// disjoint, non-adjacent inclusive ranges. Python's <c>re</c> matches code points while .NET's regex
/// matches UTF-16 units, so character classes are computed here first and only then written out
/// as .NET syntax.
/// </summary>
internal sealed class CodePointSet : IEquatable<CodePointSet>
{
    public const int MaxCodePoint = 0x10FFFF;

    // Flattened pairs: lo0, hi0, lo1, hi1, ...
    private readonly int[] _ranges;

    public static readonly CodePointSet Empty = new([]);
    public static readonly CodePointSet All = new([0, MaxCodePoint]);

    private CodePointSet(int[] normalizedRanges) => _ranges = normalizedRanges;

    public int RangeCount => _ranges.Length / 2;

    public (int Lo, int Hi) this[int rangeIndex] => (_ranges[2 * rangeIndex], _ranges[2 * rangeIndex + 1]);

    public bool IsEmpty => _ranges.Length == 0;

    public static CodePointSet Single(int codePoint) => new([codePoint, codePoint]);

    public static CodePointSet Range(int lo, int hi) => lo > hi ? Empty : new([lo, hi]);

    /// <summary>Builds a set from pairs that are already sorted and disjoint (the generated tables).</summary>
    public static CodePointSet FromSortedPairs(ReadOnlySpan<int> pairs) => FromPairs(pairs.ToArray());

    /// <summary>Builds a set from any pairs (lo, hi), in any order, overlapping or not.</summary>
    public static CodePointSet FromPairs(IEnumerable<int> flatPairs)
    {
        var list = flatPairs as int[] ?? flatPairs.ToArray();
        var pairs = new List<(int Lo, int Hi)>(list.Length / 2);
        for (var i = 0; i + 1 < list.Length; i += 2)
        {
            if (list[i] <= list[i + 1])
            {
                pairs.Add((list[i], list[i + 1]));
            }
        }

        return Normalize(pairs);
    }

    public static CodePointSet FromCodePoints(IEnumerable<int> codePoints) =>
        Normalize(codePoints.Select(c => (c, c)).ToList());

    private static CodePointSet Normalize(List<(int Lo, int Hi)> pairs)
    {
        if (pairs.Count == 0)
        {
            return Empty;
        }

        pairs.Sort((a, b) => a.Lo != b.Lo ? a.Lo.CompareTo(b.Lo) : a.Hi.CompareTo(b.Hi));
        var result = new List<int>(pairs.Count * 2);
        var (lo, hi) = pairs[0];
        for (var i = 1; i < pairs.Count; i++)
        {
            var (nextLo, nextHi) = pairs[i];
            if (nextLo <= hi + 1)
            {
                hi = Math.Max(hi, nextHi);
            }
            else
            {
                result.Add(lo);
                result.Add(hi);
                (lo, hi) = (nextLo, nextHi);
            }
        }

        result.Add(lo);
        result.Add(hi);
        return new CodePointSet([.. result]);
    }

    public bool Contains(int codePoint)
    {
        int lo = 0, hi = RangeCount - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (codePoint < _ranges[2 * mid])
            {
                hi = mid - 1;
            }
            else if (codePoint > _ranges[2 * mid + 1])
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }

    public CodePointSet Union(CodePointSet other)
    {
        if (other.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        return FromPairs(_ranges.Concat(other._ranges));
    }

    public CodePointSet Complement()
    {
        var result = new List<int>();
        var next = 0;
        for (var i = 0; i < _ranges.Length; i += 2)
        {
            if (_ranges[i] > next)
            {
                result.Add(next);
                result.Add(_ranges[i] - 1);
            }

            next = _ranges[i + 1] + 1;
        }

        if (next <= MaxCodePoint)
        {
            result.Add(next);
            result.Add(MaxCodePoint);
        }

        return new CodePointSet([.. result]);
    }

    public CodePointSet Intersect(CodePointSet other) => Complement().Union(other.Complement()).Complement();

    public CodePointSet Except(CodePointSet other) => Intersect(other.Complement());

    /// <summary>The code points in the set, in order. Only for sets known to be small.</summary>
    public IEnumerable<int> CodePoints()
    {
        for (var i = 0; i < _ranges.Length; i += 2)
        {
            for (var c = _ranges[i]; c <= _ranges[i + 1]; c++)
            {
                yield return c;
            }
        }
    }

    public bool Equals(CodePointSet? other) => other is not null && _ranges.AsSpan().SequenceEqual(other._ranges);

    public override bool Equals(object? obj) => Equals(obj as CodePointSet);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var value in _ranges)
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }
}
