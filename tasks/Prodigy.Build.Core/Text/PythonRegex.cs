using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Prodigy.Build.Core.Text;

/// <summary>
/// A Python <c>re</c> pattern compiled for .NET, with the three ways spaCy's tokenizer calls it:
/// <c>search</c>, <c>match</c> (anchored at the start) and <c>finditer</c>. Offsets are UTF-16
/// indexes into the span given; a match never splits a surrogate pair, so they convert to Python's
/// code point offsets one to one.
/// </summary>
public sealed class PythonRegex
{
    private readonly Variant _full;
    private readonly Variant _basicPlane;

    /// <summary>
    /// The .NET regexes for one translation: the full one handles surrogate pairs and lone
    /// surrogates; the basic-plane one is used when the subject has no surrogate at all (nearly
    /// always) and matches faster.
    /// </summary>
    private sealed class Variant(string translated, RegexOptions options)
    {
        private Regex? _search;
        private Regex? _anchored;
        private Regex? _nonEmptyAtStart;

        public string Translated => translated;

        public Regex Search => _search ??= new Regex(translated, options);

        public Regex Anchored => _anchored ??= new Regex(@"\A(?:" + translated + ")", options);

        // After an empty match Python refuses another empty match at the same place: "(?!\G)"
        // fails exactly when the match ends where the search started.
        public Regex NonEmptyAtStart => _nonEmptyAtStart ??= new Regex("(?:" + translated + @")(?!\G)", options);
    }

    /// <summary>Translates <paramref name="pattern"/> now; the .NET regexes are built on first use.</summary>
    /// <param name="pattern">The Python pattern text, as <c>re.compile(...).pattern</c>.</param>
    /// <param name="compiled">Compile to IL (faster matching, slower start); worth it for patterns used on every token.</param>
    public PythonRegex(string pattern, bool compiled = true)
    {
        Pattern = pattern;
        var options = RegexOptions.CultureInvariant | (compiled ? RegexOptions.Compiled : RegexOptions.None);
        _full = new Variant(PythonRegexTranslator.Translate(pattern), options);
        _basicPlane = new Variant(PythonRegexTranslator.Translate(pattern, basicPlaneOnly: true), options);
    }

    // Shared by pattern: a regex compiled to IL costs tens of milliseconds to build and JIT, and every
    // tokenizer made from the same rules (each SpacyPipeline.Load, so each of a trainer's evaluations)
    // would build its own. The instances are immutable and thread-safe, so one per pattern serves all.
    private static readonly ConcurrentDictionary<(string Pattern, bool Compiled), PythonRegex> SharedByPattern = new();

    /// <summary>
    /// The process's one <see cref="PythonRegex"/> for <paramref name="pattern"/> (made on first use, as the
    /// constructor makes it; a pattern that fails to translate throws every time and is not kept).
    /// </summary>
    public static PythonRegex Shared(string pattern, bool compiled = true) =>
        SharedByPattern.GetOrAdd((pattern, compiled), key => new PythonRegex(key.Pattern, key.Compiled));

    /// <summary>The Python pattern.</summary>
    public string Pattern { get; }

    /// <summary>The equivalent .NET pattern (for diagnostics).</summary>
    public string TranslatedPattern => _full.Translated;

    private Variant For(ReadOnlySpan<char> text) =>
        text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? _basicPlane : _full;

    // Python has no position between the halves of a surrogate pair. Only an empty match can start
    // there (every translated character consumes whole pairs, and a lone low surrogate is matched
    // only when no high surrogate precedes it), so such matches are skipped.
    private static bool IsInsidePair(ReadOnlySpan<char> text, int index) =>
        index > 0 && index < text.Length && char.IsLowSurrogate(text[index]) && char.IsHighSurrogate(text[index - 1]);

    /// <summary>Python's <c>pattern.search(text)</c>: the leftmost match, or false.</summary>
    public bool Search(ReadOnlySpan<char> text, out int index, out int length)
    {
        foreach (var match in For(text).Search.EnumerateMatches(text))
        {
            if (IsInsidePair(text, match.Index))
            {
                continue;
            }

            index = match.Index;
            length = match.Length;
            return true;
        }

        index = length = 0;
        return false;
    }

    /// <summary>Python's <c>pattern.match(text)</c> (anchored at the start, not at the end): whether it matches.</summary>
    public bool MatchesAtStart(ReadOnlySpan<char> text) => For(text).Anchored.IsMatch(text);

    /// <summary>
    /// Python's <c>pattern.finditer(text)</c>: non-overlapping matches left to right. After an empty
    /// match Python searches again from the same position but refuses another empty match there
    /// (3.7+ semantics); .NET would skip a character instead, so the search is driven here.
    /// </summary>
    public void FindAll(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
    {
        var variant = For(text);
        var position = 0;
        var mustAdvance = false;
        while (position <= text.Length)
        {
            var regex = mustAdvance ? variant.NonEmptyAtStart : variant.Search;
            var found = false;
            foreach (var match in regex.EnumerateMatches(text, position))
            {
                if (IsInsidePair(text, match.Index))
                {
                    continue;
                }

                matches.Add((match.Index, match.Index + match.Length));
                mustAdvance = match.Length == 0;
                position = match.Index + match.Length;
                found = true;
                break;
            }

            if (!found)
            {
                return;
            }
        }
    }
}
