using System.Collections.Concurrent;
using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Core.Tokenization;

/// <summary>
/// spaCy's lexeme NORM: the vocabulary's norm exception table (<c>’</c> to <c>'</c>, <c>…</c> to
/// <c>...</c>, currency signs to <c>$</c>), else Python's <c>str.lower()</c>. Cached and thread-safe.
/// Docs built from given tokens need only this, not a tokenizer.
/// </summary>
public sealed class LexemeNorms(IReadOnlyDictionary<string, string> exceptions)
{
    private const int MaxCacheEntries = 200_000;
    private readonly ConcurrentDictionary<string, string> _cache = new(StringComparer.Ordinal);
    private int _entries;

    /// <summary>spaCy's built-in table, shared by the built-in languages.</summary>
    public static LexemeNorms BuiltIn { get; } = new(TokenizerRules.BuiltInNormExceptions);

    public string Get(string text)
    {
        if (exceptions.TryGetValue(text, out var norm) || _cache.TryGetValue(text, out norm))
        {
            return norm;
        }

        norm = PythonText.Lower(text);
        if (Interlocked.Increment(ref _entries) > MaxCacheEntries)
        {
            _cache.Clear();
            Interlocked.Exchange(ref _entries, 0);
        }

        _cache.TryAdd(text, norm);
        return norm;
    }

    internal void ClearCache()
    {
        _cache.Clear();
        Interlocked.Exchange(ref _entries, 0);
    }
}
