using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Scoring;

/// <summary>
/// spaCy's <c>Example.alignment.x2y</c>: for every predicted token, the gold tokens that share a
/// character with it. The two tokenizations must spell the same text up to whitespace and case
/// (Python's <c>str.lower</c> and <c>str.isspace</c>, counted in code points as Python does).
/// </summary>
internal static class TokenAlignment
{
    /// <exception cref="ArgumentException">The texts differ beyond whitespace and case (spaCy's E949).</exception>
    public static int[][] PredictedToGold(IReadOnlyList<string> predicted, IReadOnlyList<string> gold)
    {
        // spaCy aligns a gold doc without tokens as if it had the predicted tokens.
        if (gold.Count == 0 || predicted.SequenceEqual(gold, StringComparer.Ordinal))
        {
            return [.. Enumerable.Range(0, predicted.Count).Select(i => new[] { i })];
        }

        if (predicted.Count == 0)
        {
            throw Mismatch(predicted, gold);
        }

        var a = new Tokens(predicted);
        var b = new Tokens(gold);
        if (!a.WithoutSpaces().SequenceEqual(b.WithoutSpaces()) || !a.LowerMatchesTokens || !b.LowerMatchesTokens)
        {
            throw Mismatch(predicted, gold);
        }

        var aToB = new List<SortedSet<int>>();
        int charA = 0, charB = 0, previousTokenA = -1;
        while (charA < a.Lower.Length && charB < b.Lower.Length)
        {
            var tokenA = a.TokenOfChar[charA];
            var tokenB = b.TokenOfChar[charB];
            if (previousTokenA != tokenA)
            {
                aToB.Add([]);
            }

            if (predicted[tokenA] == gold[tokenB])
            {
                // Identical tokens: spaCy jumps over both whole tokens (from wherever it is inside them).
                aToB[^1].Add(tokenB);
                charA += a.CodePointLengths[tokenA];
                charB += b.CodePointLengths[tokenB];
            }
            else if (a.Lower[charA] == b.Lower[charB])
            {
                aToB[^1].Add(tokenB);
                charA++;
                charB++;
            }
            else if (PythonText.IsSpace(a.Lower[charA]))
            {
                charA++;
            }
            else if (PythonText.IsSpace(b.Lower[charB]))
            {
                charB++;
            }
            else
            {
                throw Mismatch(predicted, gold);
            }

            previousTokenA = tokenA;
        }

        // Trailing unaligned whitespace still opens (empty) entries for its tokens.
        for (; charA < a.Lower.Length; charA++)
        {
            if (previousTokenA != a.TokenOfChar[charA])
            {
                aToB.Add([]);
                previousTokenA = a.TokenOfChar[charA];
            }
        }

        if (aToB.Count != predicted.Count)
        {
            // Only empty words (which no spaCy tokenizer makes) leave a token without an entry.
            throw new ArgumentException($"Cannot align {predicted.Count} predicted tokens: some are empty.", nameof(predicted));
        }

        return [.. aToB.Select(set => set.ToArray())];
    }

    private static ArgumentException Mismatch(IReadOnlyList<string> predicted, IReadOnlyList<string> gold) => new(
        "The predicted and gold tokens spell different texts (spaCy's E949): predicted "
        + string.Join("|", predicted.Take(10)) + ", gold " + string.Join("|", gold.Take(10)),
        nameof(gold));

    /// <summary>A tokenization as spaCy's aligner sees it: the lowered text in code points and the token of each.</summary>
    private sealed class Tokens
    {
        public Tokens(IReadOnlyList<string> words)
        {
            CodePointLengths = [.. words.Select(w => PythonText.CodePointCount(w))];
            TokenOfChar = [.. CodePointLengths.SelectMany((length, token) => Enumerable.Repeat(token, length))];
            Lower = CodePoints(PythonText.Lower(string.Concat(words)));
        }

        public int[] CodePointLengths { get; }

        public int[] TokenOfChar { get; }

        public int[] Lower { get; }

        /// <summary>False when lowering changed the length (e.g. İ becomes two code points): spaCy refuses such texts.</summary>
        public bool LowerMatchesTokens => Lower.Length == TokenOfChar.Length;

        public IEnumerable<int> WithoutSpaces() => Lower.Where(c => !PythonText.IsSpace(c));

        private static int[] CodePoints(string text)
        {
            var result = new List<int>(text.Length);
            for (var i = 0; i < text.Length;)
            {
                result.Add(PythonText.CodePointAt(text, i, out var length));
                i += length;
            }

            return [.. result];
        }
    }
}
