using System.Collections.Concurrent;
using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Tokenization;

/// <summary>
/// One token as spaCy reports it: <see cref="Text"/> (<c>orth_</c>), <see cref="Whitespace"/>
/// (<c>whitespace_ == " "</c>), <see cref="Norm"/> (<c>norm_</c>) and <see cref="Idx"/> (<c>idx</c>,
/// in code points as Python counts). <see cref="Start"/> is the UTF-16 offset into the .NET string.
/// </summary>
public readonly record struct Token(string Text, int Start, int Idx, bool Whitespace, string Norm)
{
    /// <summary>
    /// spaCy's SENT_START as its tokenizer leaves it: set on the first token, except when a special
    /// case matched across tokens replaced it (spaCy copies the special case's token, which has none).
    /// </summary>
    public bool IsSentStart { get; init; }

    /// <summary>The UTF-16 offset just after the token.</summary>
    public int End => Start + Text.Length;
}

/// <summary>
/// spaCy 3's rule-based tokenizer (<c>spacy.tokenizer.Tokenizer</c>), driven by spaCy's own rule
/// data: whitespace splitting, special cases, prefix/suffix loops, token_match and url_match,
/// infixes, special cases across tokens, and NORMs. Thread-safe; results of whitespace-delimited
/// chunks are cached as spaCy does.
/// </summary>
public sealed class Tokenizer
{
    private const int MaxCacheEntries = 200_000;

    private readonly PythonRegex? _prefix;
    private readonly PythonRegex? _suffix;
    private readonly PythonRegex? _infix;
    private readonly PythonRegex? _tokenMatch;
    private readonly PythonRegex? _urlMatch;
    private readonly Dictionary<string, Piece[]> _specials;
    private readonly Dictionary<string, Piece[]>.AlternateLookup<ReadOnlySpan<char>> _specialsBySpan;
    private readonly ConcurrentDictionary<string, Piece[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Piece[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private readonly LexemeNorms _lexemeNorms;

    // ConcurrentDictionary.Count takes every lock; an approximate count bounds the cache cheaply.
    private int _cacheEntries;
    private readonly Dictionary<string, List<string[]>> _specialPatternsByFirstToken = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, Lazy<Tokenizer>> BuiltIns = new(StringComparer.Ordinal);

    /// <summary>A piece of a chunk: token text, its norm, and whether it came from a special case.</summary>
    private readonly record struct Piece(string Text, string Norm);

    private struct RawToken
    {
        public string Text;
        public string Norm;
        public int Start;
        public bool Whitespace;
        public bool FromSpecialAcrossTokens;
    }

    /// <summary>Builds a tokenizer from rules; patterns are translated and checked now.</summary>
    /// <param name="rules">The rule data (built-in, rules JSON or a spaCy <c>tokenizer</c> file).</param>
    /// <param name="normExceptions">Lexeme NORM exceptions; spaCy's built-in table by default.</param>
    public Tokenizer(TokenizerRules rules, IReadOnlyDictionary<string, string>? normExceptions = null)
    {
        Rules = rules;
        _lexemeNorms = normExceptions is null ? LexemeNorms.BuiltIn : new LexemeNorms(normExceptions);
        _prefix = Compile(rules.PrefixSearch, "prefix_search", compiled: true);
        _suffix = Compile(rules.SuffixSearch, "suffix_search", compiled: true);
        _infix = Compile(rules.InfixFinditer, "infix_finditer", compiled: true);
        // fr's token_match is 1.45 million characters: compiling it to IL costs more than it saves.
        _tokenMatch = Compile(rules.TokenMatch, "token_match", compiled: rules.TokenMatch is { Length: < 100_000 });
        _urlMatch = Compile(rules.UrlMatch, "url_match", compiled: true);
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        _specials = new Dictionary<string, Piece[]>(StringComparer.Ordinal);
        foreach (var (key, tokens) in rules.SpecialCases)
        {
            _specials[key] = tokens.Select(t => new Piece(t.Orth, t.Norm ?? LexemeNorm(t.Orth))).ToArray();
        }

        _specialsBySpan = _specials.GetAlternateLookup<ReadOnlySpan<char>>();
        BuildSpecialCaseMatcher();
    }

    /// <summary>The rules this tokenizer runs.</summary>
    public TokenizerRules Rules { get; }

    /// <summary>The prefix pattern's regex (one per pattern in the process, <see cref="PythonRegex.Shared"/>).</summary>
    internal PythonRegex? PrefixRegex => _prefix;

    /// <summary>The shared tokenizer of a built-in language (see <see cref="TokenizerRules.BuiltInLanguages"/>).</summary>
    public static Tokenizer ForLanguage(string language) =>
        BuiltIns.GetOrAdd(language, lang => new Lazy<Tokenizer>(() => new Tokenizer(TokenizerRules.BuiltIn(lang)))).Value;

    private PythonRegex? Compile(string? pattern, string name, bool compiled)
    {
        if (pattern is null)
        {
            return null;
        }

        try
        {
            return PythonRegex.Shared(pattern, compiled);
        }
        catch (PythonRegexException e)
        {
            throw new TokenizerRulesException($"{Rules.Source}: {name}: {e.Message}", e);
        }
    }

    /// <summary>Forgets cached chunk tokenizations and lexeme norms (for benchmarks of the uncached path).</summary>
    internal void ClearCache()
    {
        _cache.Clear();
        _lexemeNorms.ClearCache();
    }

    /// <summary>Splits <paramref name="text"/> into tokens exactly as spaCy's <c>nlp.tokenizer(text)</c>.</summary>
    public IReadOnlyList<Token> Tokenize(string text)
    {
        var result = new List<Token>();
        Tokenize(text, result);
        return result;
    }

    /// <summary>Appends the tokens of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public void Tokenize(string text, List<Token> output)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return;
        }

        var tokens = new List<RawToken>(text.Length / 4 + 4);
        SplitOnWhitespace(text, tokens, withSpecialCases: true);
        ApplySpecialCasesAcrossTokens(text, tokens);

        // idx counts code points; walk the text once alongside the (ordered) token starts.
        var codeUnit = 0;
        var codePoint = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            codePoint += PythonText.CodePointCount(text.AsSpan(codeUnit, token.Start - codeUnit));
            codeUnit = token.Start;
            output.Add(new Token(token.Text, token.Start, codePoint, token.Whitespace, token.Norm)
            {
                IsSentStart = i == 0 && !token.FromSpecialAcrossTokens,
            });
        }
    }

    // spaCy's _tokenize_affixes: alternating runs of space and non-space characters; a single
    // U+0020 after a non-space run only sets that token's trailing-space flag.
    private void SplitOnWhitespace(string text, List<RawToken> tokens, bool withSpecialCases)
    {
        var span = text.AsSpan();
        var start = 0;
        var inSpace = PythonText.IsSpace(span[0]);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (PythonText.IsSpace(c) == inSpace)
            {
                continue;
            }

            if (start < i)
            {
                AppendChunk(text, start, i, tokens, withSpecialCases);
            }

            if (c == ' ')
            {
                var last = tokens[^1];
                last.Whitespace = true;
                tokens[^1] = last;
                start = i + 1;
            }
            else
            {
                start = i;
            }

            inSpace = !inSpace;
        }

        if (start < span.Length)
        {
            AppendChunk(text, start, span.Length, tokens, withSpecialCases);
        }
    }

    private void AppendChunk(string text, int start, int end, List<RawToken> tokens, bool withSpecialCases)
    {
        var chunk = text.AsSpan(start, end - start);
        Piece[]? pieces = null;
        if (withSpecialCases && _specialsBySpan.TryGetValue(chunk, out var special))
        {
            pieces = special;
        }
        else if (withSpecialCases)
        {
            if (!_cacheBySpan.TryGetValue(chunk, out pieces))
            {
                pieces = TokenizeChunk(chunk, withSpecialCases: true);
                if (Interlocked.Increment(ref _cacheEntries) > MaxCacheEntries)
                {
                    _cache.Clear();
                    Interlocked.Exchange(ref _cacheEntries, 0);
                }

                _cache.TryAdd(chunk.ToString(), pieces);
            }
        }
        else
        {
            pieces = TokenizeChunk(chunk, withSpecialCases: false);
        }

        var offset = start;
        foreach (var piece in pieces)
        {
            tokens.Add(new RawToken { Text = piece.Text, Norm = piece.Norm, Start = offset });
            offset += piece.Text.Length;
        }
    }

    private bool IsSpecial(ReadOnlySpan<char> text, bool withSpecialCases) =>
        withSpecialCases && _specialsBySpan.ContainsKey(text);

    private int FindPrefix(ReadOnlySpan<char> text) =>
        _prefix is not null && _prefix.Search(text, out _, out var length) ? length : 0;

    private int FindSuffix(ReadOnlySpan<char> text) =>
        _suffix is not null && _suffix.Search(text, out _, out var length) ? length : 0;

    // spaCy's _split_affixes and _attach_tokens for one chunk.
    private Piece[] TokenizeChunk(ReadOnlySpan<char> chunk, bool withSpecialCases)
    {
        var prefixes = new List<Piece>();
        var suffixes = new List<Piece>();
        int lo = 0, hi = chunk.Length, lastSize = 0;
        while (hi > lo && hi - lo != lastSize)
        {
            var current = chunk[lo..hi];
            if (_tokenMatch is not null && _tokenMatch.MatchesAtStart(current))
            {
                break;
            }

            if (IsSpecial(current, withSpecialCases))
            {
                break;
            }

            lastSize = current.Length;
            var prefixLength = FindPrefix(current);
            if (prefixLength != 0)
            {
                var minusPrefix = current[prefixLength..];
                if (!minusPrefix.IsEmpty && IsSpecial(minusPrefix, withSpecialCases))
                {
                    prefixes.Add(MakePiece(current[..prefixLength]));
                    lo += prefixLength;
                    break;
                }
            }

            var suffixLength = FindSuffix(current[prefixLength..]);
            if (suffixLength != 0)
            {
                var minusSuffix = current[..^suffixLength];
                if (!minusSuffix.IsEmpty && IsSpecial(minusSuffix, withSpecialCases))
                {
                    suffixes.Add(MakePiece(current[^suffixLength..]));
                    hi -= suffixLength;
                    break;
                }
            }

            if (prefixLength != 0 && suffixLength != 0 && prefixLength + suffixLength <= current.Length)
            {
                prefixes.Add(MakePiece(current[..prefixLength]));
                suffixes.Add(MakePiece(current[^suffixLength..]));
                lo += prefixLength;
                hi -= suffixLength;
            }
            else if (prefixLength != 0)
            {
                prefixes.Add(MakePiece(current[..prefixLength]));
                lo += prefixLength;
            }
            else if (suffixLength != 0)
            {
                suffixes.Add(MakePiece(current[^suffixLength..]));
                hi -= suffixLength;
            }

            if (IsSpecial(chunk[lo..hi], withSpecialCases))
            {
                break;
            }
        }

        var pieces = prefixes;
        var middle = chunk[lo..hi];
        if (!middle.IsEmpty)
        {
            if (withSpecialCases && _specialsBySpan.TryGetValue(middle, out var special))
            {
                pieces.AddRange(special);
            }
            else if ((_tokenMatch is not null && _tokenMatch.MatchesAtStart(middle)) ||
                     (_urlMatch is not null && _urlMatch.MatchesAtStart(middle)))
            {
                pieces.Add(MakePiece(middle));
            }
            else
            {
                AddInfixPieces(middle, pieces);
            }
        }

        for (var i = suffixes.Count - 1; i >= 0; i--)
        {
            pieces.Add(suffixes[i]);
        }

        return [.. pieces];
    }

    private void AddInfixPieces(ReadOnlySpan<char> text, List<Piece> pieces)
    {
        var matches = new List<(int Start, int End)>();
        _infix?.FindAll(text, matches);
        if (matches.Count == 0)
        {
            pieces.Add(MakePiece(text));
            return;
        }

        var start = 0;
        foreach (var (infixStart, infixEnd) in matches)
        {
            // A match at the very start is ignored: its text stays in the following piece.
            if (infixStart == 0)
            {
                continue;
            }

            if (infixStart != start)
            {
                pieces.Add(MakePiece(text[start..infixStart]));
            }

            // An empty infix splits without adding a token (French and Italian elisions).
            if (infixStart != infixEnd)
            {
                pieces.Add(MakePiece(text[infixStart..infixEnd]));
            }

            start = infixEnd;
        }

        if (start < text.Length)
        {
            pieces.Add(MakePiece(text[start..]));
        }
    }

    private Piece MakePiece(ReadOnlySpan<char> text)
    {
        var orth = text.ToString();
        return new Piece(orth, LexemeNorm(orth));
    }

    /// <summary>A lexeme's NORM: the exception table, else Python's <c>str.lower()</c>.</summary>
    public string LexemeNorm(string text) => _lexemeNorms.Get(text);

    // spaCy adds a special case to its token-level matcher when its key contains a space or the
    // affix patterns find something in it (every key when faster_heuristics is off); the pattern
    // is the key's own tokenization without special cases.
    private void BuildSpecialCaseMatcher()
    {
        var infixMatches = new List<(int, int)>();
        foreach (var key in Rules.SpecialCases.Keys)
        {
            infixMatches.Clear();
            _infix?.FindAll(key, infixMatches);
            var needsMatcher = !Rules.FasterHeuristics || key.Contains(' ') ||
                               FindPrefix(key) != 0 || FindSuffix(key) != 0 || infixMatches.Count > 0;
            if (!needsMatcher)
            {
                continue;
            }

            var raw = new List<RawToken>();
            SplitOnWhitespace(key, raw, withSpecialCases: false);
            var orths = raw.Select(t => t.Text).ToArray();
            if (!_specialPatternsByFirstToken.TryGetValue(orths[0], out var list))
            {
                _specialPatternsByFirstToken[orths[0]] = list = [];
            }

            if (!list.Any(existing => existing.AsSpan().SequenceEqual(orths)))
            {
                list.Add(orths);
            }
        }
    }

    // spaCy's _apply_special_cases: find every occurrence of a matcher pattern in the token texts,
    // keep them longest first then leftmost (a span is refused when its first or last token is
    // already covered, and covers its tokens either way), then replace those whose text, spaces
    // included, is exactly a special case's key.
    private void ApplySpecialCasesAcrossTokens(string text, List<RawToken> tokens)
    {
        if (_specialPatternsByFirstToken.Count == 0)
        {
            return;
        }

        List<(int Start, int End)>? found = null;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!_specialPatternsByFirstToken.TryGetValue(tokens[i].Text, out var patterns))
            {
                continue;
            }

            foreach (var pattern in patterns)
            {
                if (i + pattern.Length > tokens.Count)
                {
                    continue;
                }

                var matches = true;
                for (var j = 1; j < pattern.Length && matches; j++)
                {
                    matches = string.Equals(tokens[i + j].Text, pattern[j], StringComparison.Ordinal);
                }

                if (matches)
                {
                    (found ??= []).Add((i, i + pattern.Length));
                }
            }
        }

        if (found is null)
        {
            return;
        }

        // Longest first; among equal lengths, leftmost first.
        found.Sort((a, b) =>
        {
            var byLength = (b.End - b.Start).CompareTo(a.End - a.Start);
            return byLength != 0 ? byLength : a.Start.CompareTo(b.Start);
        });
        var covered = new HashSet<int>();
        var kept = new List<(int Start, int End)>();
        foreach (var span in found)
        {
            if (!covered.Contains(span.Start) && !covered.Contains(span.End - 1))
            {
                kept.Add(span);
            }

            for (var t = span.Start; t < span.End; t++)
            {
                covered.Add(t);
            }
        }

        kept.Sort((a, b) => a.Start.CompareTo(b.Start));
        var result = new List<RawToken>(tokens.Count);
        var next = 0;
        foreach (var (start, end) in kept)
        {
            for (; next < start; next++)
            {
                result.Add(tokens[next]);
            }

            var first = tokens[start];
            var last = tokens[end - 1];
            var spanText = text.AsSpan(first.Start, last.Start + last.Text.Length - first.Start);
            if (_specialsBySpan.TryGetValue(spanText, out var pieces))
            {
                var offset = first.Start;
                for (var p = 0; p < pieces.Length; p++)
                {
                    result.Add(new RawToken
                    {
                        Text = pieces[p].Text,
                        Norm = pieces[p].Norm,
                        Start = offset,
                        Whitespace = p == pieces.Length - 1 && last.Whitespace,
                        FromSpecialAcrossTokens = true,
                    });
                    offset += pieces[p].Text.Length;
                }
            }
            else
            {
                for (var t = start; t < end; t++)
                {
                    result.Add(tokens[t]);
                }
            }

            next = end;
        }

        for (; next < tokens.Count; next++)
        {
            result.Add(tokens[next]);
        }

        tokens.Clear();
        tokens.AddRange(result);
    }
}
