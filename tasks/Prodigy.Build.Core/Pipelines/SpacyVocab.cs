using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A pipeline's <c>vocab/</c> folder as spaCy 3's <c>Vocab.to_disk</c> writes it: <c>strings.json</c>,
/// the static vectors (<c>vectors</c>, <c>key2row</c>, <c>vectors.cfg</c>) and <c>lookups.bin</c>.
/// <see cref="Read"/> then <see cref="Write"/> gives the same bytes for every file.
/// </summary>
public sealed class SpacyVocab
{
    /// <summary>The file names spaCy writes into <c>vocab/</c>, in the order it writes them.</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["strings.json", "vectors", "key2row", "vectors.cfg", "lookups.bin"];

    /// <summary>strings.json, in file order (spaCy writes its string store sorted).</summary>
    public IReadOnlyList<string> Strings { get; init; } = [];

    /// <summary>The static vectors (<c>vocab.vectors</c>); empty (0 x 0) when the pipeline has none.</summary>
    public SpacyVectors Vectors { get; init; } = new();

    /// <summary>
    /// lookups.bin decoded (<see cref="MsgPackReader"/> values: a map of table name to the table's
    /// msgpack bytes); an empty map when the pipeline has no lookup tables.
    /// </summary>
    public object? Lookups { get; init; } = new List<KeyValuePair<object?, object?>>();

    /// <summary>
    /// Reads a <c>vocab/</c> folder. Errors name the file: PRD2411 a missing file, PRD2412 JSON that does
    /// not parse (with line and column), PRD2413 JSON of the wrong shape, PRD2414 a corrupt vectors
    /// file, PRD2415 vectors in a mode other than <c>default</c>, PRD2416 corrupt msgpack.
    /// </summary>
    public static SpacyVocab Read(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var stringsPath = Path.Combine(directory, "strings.json");
        var strings = ReadStrings(PipelineFiles.ReadRequired(stringsPath), stringsPath);

        // vectors.cfg first: a floret table is refused before its other files are looked at.
        var configPath = Path.Combine(directory, "vectors.cfg");
        var config = SrslyJson.Read(configPath) as JsonObject
            ?? throw new SpacyPipelineException("PRD2413", "vectors.cfg is not a JSON object; spaCy writes {\"mode\": \"default\"}", configPath);
        var mode = ReadMode(config, configPath);

        var vectorsPath = Path.Combine(directory, "vectors");
        var matrix = NpyFile.Read(PipelineFiles.ReadRequired(vectorsPath), vectorsPath);

        var key2RowPath = Path.Combine(directory, "key2row");
        var keyToRow = ReadKeyToRow(PipelineFiles.ReadRequired(key2RowPath), key2RowPath, matrix.Rows);

        var lookupsPath = Path.Combine(directory, "lookups.bin");
        var lookups = DecodeMsgPack(PipelineFiles.ReadRequired(lookupsPath), lookupsPath, "lookups.bin");

        return new SpacyVocab
        {
            Strings = strings,
            Vectors = new SpacyVectors
            {
                Width = matrix.Width,
                Rows = matrix.Rows,
                Mode = mode,
                Data = matrix.Data,
                KeyToRow = keyToRow,
                Config = config,
                NpyHeader = (matrix.Header, matrix.Rows, matrix.Width),
            },
            Lookups = lookups,
        };
    }

    /// <summary>Writes the five files into <paramref name="directory"/> (created if needed), as spaCy writes them.</summary>
    /// <exception cref="ArgumentException">the vectors are inconsistent (data size, rows of keys) or not in <c>default</c> mode.</exception>
    public void Write(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        foreach (var (name, write) in Files())
        {
            PipelineFiles.Write(Path.Combine(directory, name), write);
        }
    }

    /// <summary>Each file's name and a writer of its content (the folder writer streams them into its temporary folder).</summary>
    internal IEnumerable<(string Name, Action<Stream> Write)> Files()
    {
        // The table is checked before the first file is written; each file is serialised in its writer.
        Vectors.Validate();
        yield return ("strings.json", s => s.Write(SrslyJson.ToBytes(Strings)));
        yield return ("vectors", Vectors.WriteNpy);
        yield return ("key2row", s => s.Write(Vectors.KeyToRowBytes()));
        yield return ("vectors.cfg", s => s.Write(Vectors.ConfigBytes()));
        yield return ("lookups.bin", s => s.Write(EncodeMsgPack(Lookups)));
    }

    internal static object? DecodeMsgPack(byte[] bytes, string path, string what)
    {
        try
        {
            return MsgPackReader.Decode(bytes);
        }
        catch (MsgPackException e)
        {
            throw new SpacyPipelineException("PRD2416", $"{what} is not valid msgpack ({e.Message}); restore it from the pipeline spaCy wrote", path, e);
        }
    }

    internal static byte[] EncodeMsgPack(object? value)
    {
        var writer = new MsgPackWriter(1 << 12);
        writer.WriteValue(value);
        return writer.ToArray();
    }

    private static List<string> ReadStrings(byte[] bytes, string path)
    {
        // A streaming read: strings.json holds tens of thousands of strings, a tree of them is waste.
        var strings = new List<string>();
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64 });
        SpacyPipelineException WrongShape(long offset, string what) => new(
            "PRD2413",
            $"line {LineOf(bytes, offset)}: strings.json must be a JSON list of strings, {what}",
            path);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                throw WrongShape(reader.TokenStartIndex, "it does not start with '['");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw WrongShape(reader.TokenStartIndex, $"found {reader.TokenType} in the list");
                }

                strings.Add(StringValue(ref reader));
            }

            // Anything after the list is an error, which Read reports.
            if (reader.Read())
            {
                throw WrongShape(reader.TokenStartIndex, "it has more after the list");
            }
        }
        catch (JsonException e)
        {
            throw SrslyJson.Malformed(e, bytes, path);
        }

        return strings;
    }

    private static int LineOf(byte[] bytes, long offset) => bytes.AsSpan(0, (int)Math.Min(offset, bytes.Length)).Count((byte)'\n') + 1;

    private static string StringValue(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate, which a .NET string holds but GetString refuses to transcode.
            return JsonStrings.Unescape("\"" + Encoding.UTF8.GetString(reader.ValueSpan) + "\"");
        }
    }

    private static string ReadMode(JsonObject config, string path)
    {
        // Vectors._set_cfg: cfg.get("mode", "default").
        if (!config.TryGetPropertyValue("mode", out var node))
        {
            return "default";
        }

        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            throw new SpacyPipelineException("PRD2413", "vectors.cfg's \"mode\" is not a string; spaCy writes \"default\" or \"floret\"", path);
        }

        var mode = value.GetValue<string>();
        if (mode != "default")
        {
            throw new SpacyPipelineException(
                "PRD2415",
                $"the vectors are in mode '{mode}'; only 'default' vectors (a table with one row per key) can be read, so floret vectors are not supported; train the pipeline with default vectors or without vectors",
                path);
        }

        return mode;
    }

    private static OrderedDictionary<ulong, int> ReadKeyToRow(byte[] bytes, string path, int rows)
    {
        var decoded = DecodeMsgPack(bytes, path, "key2row");
        if (decoded is not List<KeyValuePair<object?, object?>> map)
        {
            throw new SpacyPipelineException("PRD2416", "key2row is not a msgpack map of string ids to rows", path);
        }

        var keyToRow = new OrderedDictionary<ulong, int>(map.Count);
        foreach (var (key, value) in map)
        {
            ulong id = key switch
            {
                long l when l >= 0 => (ulong)l,
                ulong u => u,
                _ => throw new SpacyPipelineException("PRD2416", $"key2row has the key {Show(key)}, not a uint64 string id", path),
            };
            if (value is not long row || row < 0 || row >= rows)
            {
                throw new SpacyPipelineException("PRD2416", $"key2row maps {id} to {Show(value)}, not a row of the {rows}-row vectors table", path);
            }

            // A repeated key keeps its first position and its last row, as a Python dict does.
            keyToRow[id] = (int)row;
        }

        return keyToRow;
    }

    private static string Show(object? value) => value switch
    {
        null => "nil",
        string s => "\"" + s + "\"",
        byte[] b => $"<{b.Length} bytes>",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };
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

    /// <summary>
    /// key2row: string id to row, in the file's order (spaCy's dict order, which <c>key2row</c> is
    /// written in). When building a table, pass an ordered map (a <see cref="Dictionary{TKey,TValue}"/>
    /// without removals enumerates in insertion order, which is what gets written).
    /// </summary>
    public IReadOnlyDictionary<ulong, int> KeyToRow { get; init; } = new Dictionary<ulong, int>();

    /// <summary>
    /// <c>vectors.cfg</c> as read (kept so that it writes back as it was); when null,
    /// <c>{"mode": Mode}</c> is written, as spaCy's <c>Vectors._get_cfg</c> does in default mode.
    /// </summary>
    public JsonObject? Config { get; init; }

    /// <summary>The .npy header the file had and the shape it gave (null: numpy's current header for the shape is written).</summary>
    internal (byte[] Bytes, int Rows, int Width)? NpyHeader { get; init; }

    /// <summary>The row of <paramref name="key"/>, or -1 when the key has no vector (spaCy's <c>vectors.find(key=...)</c>).</summary>
    public int Find(ulong key) => KeyToRow.TryGetValue(key, out var row) ? row : -1;

    /// <summary>One row's values.</summary>
    public ReadOnlySpan<float> Row(int row) => Data.AsSpan(row * Width, Width);

    /// <summary>The <c>vocab/vectors</c> bytes: <c>numpy.save</c> of the (Rows, Width) float32 matrix.</summary>
    public byte[] ToNpyBytes()
    {
        Validate();
        using var stream = new MemoryStream();
        WriteNpy(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// The <c>vocab/key2row</c> bytes: <c>srsly.write_msgpack(key2row)</c>, a msgpack map with each key
    /// as msgpack-python packs a Python int (the smallest unsigned form; string ids are usually uint64
    /// <c>cf</c>) and each row likewise.
    /// </summary>
    public byte[] KeyToRowBytes()
    {
        var writer = new MsgPackWriter(16 + KeyToRow.Count * 14);
        writer.WriteMapHeader(KeyToRow.Count);
        foreach (var (key, row) in KeyToRow)
        {
            writer.WriteUInt64(key);
            writer.WriteInt64(row);
        }

        return writer.ToArray();
    }

    /// <summary>The <c>vocab/vectors.cfg</c> bytes.</summary>
    public byte[] ConfigBytes() => SrslyJson.ToBytes(Config ?? new JsonObject { ["mode"] = Mode });

    internal void WriteNpy(Stream stream)
    {
        // The header read from the file is reused while it still describes the data, so that a file
        // written by another numpy version comes back unchanged.
        var header = NpyHeader is { } kept && kept.Rows == Rows && kept.Width == Width ? kept.Bytes : NpyFile.Header(Rows, Width);
        NpyFile.Write(stream, header, Data);
    }

    internal void Validate()
    {
        if (Mode != "default")
        {
            throw new ArgumentException($"vectors in mode '{Mode}' cannot be written; only 'default' vectors are supported");
        }

        if (Rows < 0 || Width < 0 || Data.Length != (long)Rows * Width)
        {
            throw new ArgumentException($"the vectors are {Rows} x {Width} but hold {Data.Length} values");
        }

        foreach (var (key, row) in KeyToRow)
        {
            if (row < 0 || row >= Rows)
            {
                throw new ArgumentException($"key2row maps {key} to row {row}, outside the {Rows}-row table");
            }
        }
    }
}
