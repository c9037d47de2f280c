namespace Prodigy.Build.Core.Text;

/// <summary>
/// Python <c>re</c>'s character categories and IGNORECASE rules over code points, taken from
/// CPython 3.11's tables (see <see cref="PythonUnicodeTables"/>).
/// </summary>
internal static class PythonCharacterClasses
{
    public static readonly CodePointSet Word = CodePointSet.FromSortedPairs(PythonUnicodeTables.Word);
    public static readonly CodePointSet Digit = CodePointSet.FromSortedPairs(PythonUnicodeTables.Decimal);
    public static readonly CodePointSet Space = CodePointSet.FromSortedPairs(PythonUnicodeTables.Space);
    public static readonly CodePointSet AsciiWord = CodePointSet.FromPairs(['0', '9', 'A', 'Z', '_', '_', 'a', 'z']);
    public static readonly CodePointSet AsciiDigit = CodePointSet.Range('0', '9');
    public static readonly CodePointSet AsciiSpace = CodePointSet.FromPairs(['\t', '\r', ' ', ' ']);
    public static readonly CodePointSet Newline = CodePointSet.Single('\n');

    private static readonly CodePointSet Cased = CodePointSet.FromSortedPairs(PythonUnicodeTables.SreCased);
    private static readonly Dictionary<int, int> SimpleLower = BuildSimpleLower();
    private static readonly CodePointSet Lowerable = CodePointSet.FromCodePoints(SimpleLower.Keys);
    private static readonly Dictionary<int, int[]> ExtraCases = PythonUnicodeTables.ExtraCases.ToDictionary(e => e.Lower, e => e.Others);

    private static Dictionary<int, int> BuildSimpleLower()
    {
        var table = PythonUnicodeTables.SimpleLower;
        var map = new Dictionary<int, int>(table.Length / 2);
        for (var i = 0; i < table.Length; i += 2)
        {
            map[table[i]] = table[i + 1];
        }

        return map;
    }

    private static int ToLower(int codePoint) => SimpleLower.TryGetValue(codePoint, out var lower) ? lower : codePoint;

    /// <summary>
    /// The code points that match one literal under IGNORECASE: sre compares the simple lowercase
    /// of the subject with the literal's, plus <c>re</c>'s extra equivalences (ſ/s, ι/ͅ, ...).
    /// </summary>
    public static CodePointSet IgnoreCaseLiteral(int codePoint)
    {
        if (!Cased.Contains(codePoint))
        {
            return CodePointSet.Single(codePoint);
        }

        var lower = ToLower(codePoint);
        var targets = new List<int> { lower };
        if (ExtraCases.TryGetValue(lower, out var others))
        {
            targets.AddRange(others);
        }

        return MatchingLowered(CodePointSet.FromCodePoints(targets));
    }

    /// <summary>
    /// The code points that match a character class under IGNORECASE. sre lowercases the class's
    /// literals and ranges (adding the extra equivalences) and then tests the subject's simple
    /// lowercase against it; categories such as <c>\w</c> are tested as they are. A class without
    /// any cased character is matched exactly.
    /// </summary>
    public static CodePointSet IgnoreCaseClass(CodePointSet literalsAndRanges, CodePointSet categories)
    {
        if (literalsAndRanges.Intersect(Cased).IsEmpty)
        {
            return literalsAndRanges.Union(categories);
        }

        // lower(S) = (S minus the characters that lowercase to something else) plus their lowercase forms.
        var changing = literalsAndRanges.Intersect(Lowerable);
        var lowered = literalsAndRanges.Except(Lowerable)
            .Union(CodePointSet.FromCodePoints(changing.CodePoints().Select(ToLower)));
        var extras = new List<int>();
        foreach (var (lower, others) in ExtraCases)
        {
            if (lowered.Contains(lower))
            {
                extras.AddRange(others);
            }
        }

        var target = lowered.Union(CodePointSet.FromCodePoints(extras)).Union(categories);
        return MatchingLowered(target);
    }

    // { ch : lower(ch) in target }: characters that lowercase to themselves match when they are in
    // the target; the others match when their lowercase form is.
    private static CodePointSet MatchingLowered(CodePointSet target)
    {
        var viaLower = SimpleLower.Where(e => target.Contains(e.Value)).Select(e => e.Key);
        return target.Except(Lowerable).Union(CodePointSet.FromCodePoints(viaLower));
    }
}
