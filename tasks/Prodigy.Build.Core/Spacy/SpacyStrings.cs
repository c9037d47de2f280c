using System.Buffers;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Prodigy.Build.Core.Hashing;

namespace Prodigy.Build.Core.Spacy;

/// <summary>
/// spaCy's string ids (<c>vocab.strings[s]</c>): 0 for <c>""</c>, the symbol id when the exact string is a
/// spaCy symbol, else MurmurHash64A (seed 1) of the UTF-8 bytes. An instance is a cache (and, for
/// <see cref="Add"/>, a collection of the strings a DocBin must ship); it is not thread-safe.
/// </summary>
public sealed class SpacyStrings
{
    private static readonly FrozenDictionary<string, int> SymbolIds =
        SpacyTables.SymbolNames.Select((name, id) => KeyValuePair.Create(name, id)).ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, int> AttributeIds =
        SpacyTables.Attributes.ToFrozenDictionary(a => a.Name, a => a.Id, StringComparer.Ordinal);

    private static readonly FrozenDictionary<int, string> AttributeNames =
        SpacyTables.Attributes.GroupBy(a => a.Id).ToFrozenDictionary(g => g.Key, g => g.First().Name);

    private static readonly int MaxSymbolLength = SpacyTables.SymbolNames.Max(n => n.Length);

    private readonly Dictionary<string, ulong> _added = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _lookups = new(StringComparer.Ordinal);

    /// <summary>The number of symbols (ids below this are symbols).</summary>
    public static int SymbolCount => SpacyTables.SymbolNames.Length;

    /// <summary>The strings passed to <see cref="Add"/>, in insertion order.</summary>
    public IReadOnlyCollection<string> Added => _added.Keys;

    /// <summary>The id of <paramref name="value"/>, computed without caching.</summary>
    public static ulong GetId(string value)
    {
        if (value.Length == 0)
        {
            return 0;
        }

        if (value.Length <= MaxSymbolLength && SymbolIds.TryGetValue(value, out var symbol))
        {
            return (ulong)symbol;
        }

        return HashString(value);
    }

    /// <summary>spaCy's <c>hash_string</c>: MurmurHash64A of the UTF-8 (no symbol or empty-string exception).</summary>
    public static ulong HashString(ReadOnlySpan<char> value)
    {
        var max = value.Length * 3;
        byte[]? rented = null;
        var buffer = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = Encoding.UTF8.GetBytes(value, buffer);
            return MurmurHash.Hash64A(buffer[..n]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The symbol id of <paramref name="name"/>, if it is one of spaCy's symbols.</summary>
    public static bool TryGetSymbol(string name, out int id) => SymbolIds.TryGetValue(name, out id);

    /// <summary>The symbol name of <paramref name="id"/>, if it is a symbol id.</summary>
    public static bool TryGetSymbolName(ulong id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name)
    {
        if (id < (ulong)SpacyTables.SymbolNames.Length)
        {
            name = SpacyTables.SymbolNames[(int)id];
            return true;
        }

        name = null;
        return false;
    }

    /// <summary>The id of a token attribute name (<c>spacy.attrs.IDS</c>, e.g. ORTH = 65).</summary>
    public static bool TryGetAttributeId(string name, out int id) => AttributeIds.TryGetValue(name, out id);

    /// <summary>The name of a token attribute id.</summary>
    public static bool TryGetAttributeName(int id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name) =>
        AttributeNames.TryGetValue(id, out name);

    /// <summary>The id of <paramref name="value"/>, cached, and records the string as one to ship.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Add(string value)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_added, value, out var exists);
        if (!exists)
        {
            slot = GetId(value);
        }

        return slot;
    }

    /// <summary>The id of <paramref name="value"/>, cached, without recording it.</summary>
    public ulong Lookup(string value)
    {
        if (_added.TryGetValue(value, out var id))
        {
            return id;
        }

        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_lookups, value, out var exists);
        if (!exists)
        {
            slot = GetId(value);
        }

        return slot;
    }

    /// <summary>The strings passed to <see cref="Add"/>, sorted by Unicode code point (as Python's <c>sorted</c>).</summary>
    public string[] SortedAdded()
    {
        var array = _added.Keys.ToArray();
        Array.Sort(array, CodePointComparer.Instance);
        return array;
    }

    /// <summary>Forgets everything.</summary>
    public void Clear()
    {
        _added.Clear();
        _lookups.Clear();
    }
}

/// <summary>Orders strings by Unicode code point (= UTF-8 byte order), as Python compares <c>str</c>.</summary>
public sealed class CodePointComparer : IComparer<string>
{
    public static readonly CodePointComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var common = x.AsSpan().CommonPrefixLength(y);
        if (common == x.Length || common == y.Length)
        {
            return x.Length - y.Length;
        }

        int a = x[common], b = y[common];
        if (a >= 0xD800 && b >= 0xD800)
        {
            // Surrogates (astral code points) sort after U+E000..U+FFFF.
            a = Fix(a);
            b = Fix(b);
        }

        return a - b;

        static int Fix(int c) => c >= 0xE000 ? c - 0x800 : c + 0x2000;
    }
}
