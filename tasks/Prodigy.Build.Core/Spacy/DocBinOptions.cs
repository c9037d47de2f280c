namespace Prodigy.Build.Core.Spacy;

/// <summary>What a <see cref="DocBin"/> stores, as spaCy's <c>DocBin(attrs=..., store_user_data=...)</c>.</summary>
public sealed record DocBinOptions
{
    /// <summary>spaCy's <c>ALL_ATTRS</c>, the DocBin default.</summary>
    public static readonly IReadOnlyList<string> AllAttrs =
        ["ORTH", "NORM", "TAG", "HEAD", "DEP", "ENT_IOB", "ENT_TYPE", "ENT_KB_ID", "ENT_ID", "LEMMA", "MORPH", "POS", "SENT_START"];

    public static readonly DocBinOptions Default = new();

    /// <summary>Attribute names (spacy.attrs names, case-insensitive); the column order follows spaCy's rule, not this order.</summary>
    public IReadOnlyList<string> Attrs { get; init; } = AllAttrs;

    /// <summary>Store doc.user_data (one msgpack blob per doc).</summary>
    public bool StoreUserData { get; init; }

    /// <summary>
    /// zlib level (0-9) used by <see cref="DocBin.Write(string, IReadOnlyList{SpacyDoc}, DocBinOptions?)"/>. spaCy uses 6;
    /// any level gives a file spaCy reads. The default 2 compresses a 2.3M-token corpus about 3x faster than 6 for a
    /// file about 9% larger (measured with .NET 10's zlib-ng).
    /// </summary>
    public int CompressionLevel
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 9);
            field = value;
        }
    } = 2;

    /// <summary>
    /// The attribute ids in column order: names mapped to ids, sorted ascending, SPACY and ORTH dropped,
    /// then ORTH inserted first (duplicates are kept, as spaCy keeps them).
    /// </summary>
    public int[] ResolveAttributeIds()
    {
        var ids = new List<int>(Attrs.Count + 1);
        foreach (var name in Attrs)
        {
            if (!SpacyStrings.TryGetAttributeId(name, out var id) && !SpacyStrings.TryGetAttributeId(name.ToUpperInvariant(), out id))
            {
                throw new ArgumentException($"'{name}' is not a spaCy token attribute.", nameof(Attrs));
            }

            ids.Add(id);
        }

        ids.Sort();
        ids.RemoveAll(id => id is DocBin.Orth or DocBin.SpacyAttr);
        ids.Insert(0, DocBin.Orth);
        return [.. ids];
    }
}
