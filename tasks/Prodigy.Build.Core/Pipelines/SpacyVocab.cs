namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A pipeline's <c>vocab/</c> folder: <c>strings.json</c>, the static vectors (<c>vectors</c>,
/// <c>key2row</c>, <c>vectors.cfg</c>) and <c>lookups.bin</c>.
/// (Placeholder of the contract: the full reader and writer replace this file.)
/// </summary>
public sealed class SpacyVocab
{
    /// <summary>strings.json, in file order.</summary>
    public IReadOnlyList<string> Strings { get; init; } = [];

    /// <summary>The static vectors (<c>vocab.vectors</c>); empty (0 x 0) when the pipeline has none.</summary>
    public SpacyVectors Vectors { get; init; } = new();

    public static SpacyVocab Read(string directory) => new();
}

/// <summary>
/// spaCy's <c>Vectors</c> table in <c>default</c> mode: a rows x width float32 matrix and the map
/// from string ids (keys) to rows.
/// </summary>
public sealed class SpacyVectors
{
    /// <summary>The vector width (0 when there are no vectors).</summary>
    public int Width { get; init; }

    /// <summary>The number of rows of the matrix.</summary>
    public int Rows { get; init; }

    /// <summary><c>vectors.cfg</c>'s mode: <c>default</c> (or <c>floret</c>, which is not supported).</summary>
    public string Mode { get; init; } = "default";

    /// <summary>Row-major rows x width data.</summary>
    public float[] Data { get; init; } = [];

    /// <summary>key2row: string id to row.</summary>
    public IReadOnlyDictionary<ulong, int> KeyToRow { get; init; } = new Dictionary<ulong, int>();

    /// <summary>The row of <paramref name="key"/>, or -1 when the key has no vector (spaCy's <c>vectors.find(key=...)</c>).</summary>
    public int Find(ulong key) => KeyToRow.TryGetValue(key, out var row) ? row : -1;

    /// <summary>One row's values.</summary>
    public ReadOnlySpan<float> Row(int row) => Data.AsSpan(row * Width, Width);
}
