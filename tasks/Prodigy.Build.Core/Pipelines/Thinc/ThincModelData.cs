using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Pipelines.Thinc;

/// <summary>
/// One node of a thinc model file, in <c>model.walk()</c> order: its name, dims, refs (walk indices),
/// attrs (each value msgpack-encoded, as thinc's <c>serialize_attr</c> stores it), shims and params.
/// </summary>
public sealed class ThincNodeData
{
    public required int Index { get; init; }

    public required string Name { get; init; }

    /// <summary>Dims in file order; null where thinc had the dim unset.</summary>
    public List<KeyValuePair<string, long?>> Dims { get; init; } = [];

    /// <summary>Refs in file order: name to walk index (null for an unset ref).</summary>
    public List<KeyValuePair<string, long?>> Refs { get; init; } = [];

    /// <summary>Attrs in file order, each value as the msgpack bytes thinc wrote.</summary>
    public List<KeyValuePair<string, byte[]>> Attrs { get; init; } = [];

    /// <summary>Each shim's bytes (PyTorch or TensorFlow shims; none in spaCy's CPU architectures).</summary>
    public List<object?> Shims { get; init; } = [];

    /// <summary>Params in file order.</summary>
    public List<KeyValuePair<string, NdArray>> Params { get; init; } = [];

    public long? Dim(string name) => Dims.FirstOrDefault(d => d.Key == name).Value;

    public NdArray? Param(string name) => Params.FirstOrDefault(p => p.Key == name).Value;

    /// <summary>An attr's decoded value (long, double, bool, string, list, ...), or null when absent.</summary>
    public object? Attr(string name)
    {
        var bytes = Attrs.FirstOrDefault(a => a.Key == name).Value;
        return bytes is null ? null : MsgPackReader.Decode(bytes);
    }
}

/// <summary>
/// A thinc <c>Model.to_bytes()</c> file (a component's <c>model</c>): the msgpack map
/// <c>{"nodes", "attrs", "params", "shims"}</c> with one entry per node in walk order and params as
/// msgpack-numpy maps. <see cref="Parse"/> then <see cref="ToBytes"/> gives the same bytes.
/// </summary>
public sealed class ThincModelData
{
    public List<ThincNodeData> Nodes { get; init; } = [];

    public static ThincModelData Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpacyPipelineException("PRD2400", $"cannot read the model file: {e.Message}", path, e);
        }

        return Parse(bytes, path);
    }

    public static ThincModelData Parse(byte[] bytes, string path)
    {
        object? root;
        try
        {
            root = MsgPackReader.Decode(bytes);
        }
        catch (MsgPackException e)
        {
            throw new SpacyPipelineException("PRD2401", $"the model file is truncated or corrupt ({e.Message}); copy the component's 'model' file again from the pipeline spaCy wrote", path, e);
        }

        SpacyPipelineException Bad(string what) =>
            new("PRD2401", $"the model file is not a thinc model ({what}); it must be what spaCy's nlp.to_disk wrote", path);

        var top = AsMap(root) ?? throw Bad("the top level is not a map");
        var nodes = AsList(Get(top, "nodes")) ?? throw Bad("no 'nodes' list");
        var attrs = AsList(Get(top, "attrs")) ?? throw Bad("no 'attrs' list");
        var parameters = AsList(Get(top, "params")) ?? throw Bad("no 'params' list");
        var shims = AsList(Get(top, "shims")) ?? throw Bad("no 'shims' list");
        if (top.Count != 4 || attrs.Count != nodes.Count || parameters.Count != nodes.Count || shims.Count != nodes.Count)
        {
            throw Bad($"{nodes.Count} nodes but {attrs.Count} attrs, {parameters.Count} params and {shims.Count} shims entries");
        }

        var data = new ThincModelData();
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = AsMap(nodes[i]) ?? throw Bad($"node {i} is not a map");
            if (node.Count != 4 || Get(node, "index") is not long index || index != i || Get(node, "name") is not string name)
            {
                throw Bad($"node {i} lacks index/name/dims/refs");
            }

            var dims = AsMap(Get(node, "dims")) ?? throw Bad($"node {i} has no dims map");
            var refs = AsMap(Get(node, "refs")) ?? throw Bad($"node {i} has no refs map");
            var nodeAttrs = AsMap(attrs[i]) ?? throw Bad($"attrs {i} is not a map");
            var nodeParams = AsMap(parameters[i]) ?? throw Bad($"params {i} is not a map");
            var nodeShims = AsList(shims[i]) ?? throw Bad($"shims {i} is not a list");
            data.Nodes.Add(new ThincNodeData
            {
                Index = i,
                Name = name,
                Dims = dims.Select(d => new KeyValuePair<string, long?>(Key(d.Key, Bad), d.Value switch
                {
                    null => null,
                    long n => n,
                    _ => throw Bad($"dim {d.Key} of node {i} is not an integer"),
                })).ToList(),
                Refs = refs.Select(r => new KeyValuePair<string, long?>(Key(r.Key, Bad), r.Value switch
                {
                    null => null,
                    long n when n >= 0 && n < nodes.Count => n,
                    _ => throw Bad($"ref {r.Key} of node {i} is not a node index"),
                })).ToList(),
                Attrs = nodeAttrs.Select(a => new KeyValuePair<string, byte[]>(Key(a.Key, Bad), a.Value as byte[] ?? throw Bad($"attr {a.Key} of node {i} is not msgpack bytes"))).ToList(),
                Shims = nodeShims,
                Params = nodeParams.Select(p => new KeyValuePair<string, NdArray>(Key(p.Key, Bad), ToArray(p.Value, $"param {p.Key} of node {i} ({name})", Bad))).ToList(),
            });
        }

        return data;
    }

    /// <summary>The file's bytes, as srsly.msgpack_dumps writes the model's <c>to_dict()</c>.</summary>
    public byte[] ToBytes()
    {
        var writer = new MsgPackWriter(1 << 16);
        writer.WriteMapHeader(4);
        writer.WriteString("nodes");
        writer.WriteArrayHeader(Nodes.Count);
        foreach (var node in Nodes)
        {
            writer.WriteMapHeader(4);
            writer.WriteString("index");
            writer.WriteInt64(node.Index);
            writer.WriteString("name");
            writer.WriteString(node.Name);
            writer.WriteString("dims");
            WriteOptionalInts(writer, node.Dims);
            writer.WriteString("refs");
            WriteOptionalInts(writer, node.Refs);
        }

        writer.WriteString("attrs");
        writer.WriteArrayHeader(Nodes.Count);
        foreach (var node in Nodes)
        {
            writer.WriteMapHeader(node.Attrs.Count);
            foreach (var (key, value) in node.Attrs)
            {
                writer.WriteString(key);
                writer.WriteBinary(value);
            }
        }

        writer.WriteString("params");
        writer.WriteArrayHeader(Nodes.Count);
        foreach (var node in Nodes)
        {
            writer.WriteMapHeader(node.Params.Count);
            foreach (var (key, value) in node.Params)
            {
                writer.WriteString(key);
                WriteArray(writer, value);
            }
        }

        writer.WriteString("shims");
        writer.WriteArrayHeader(Nodes.Count);
        foreach (var node in Nodes)
        {
            writer.WriteValue(node.Shims);
        }

        return writer.ToArray();
    }

    /// <summary>An array as msgpack-numpy encodes it: <c>{b"nd": True, b"type": dtype, b"kind": b"", b"shape": shape, b"data": bytes}</c>.</summary>
    public static void WriteArray(MsgPackWriter writer, NdArray array)
    {
        writer.WriteMapHeader(5);
        writer.WriteBinary("nd"u8);
        writer.WriteBoolean(true);
        writer.WriteBinary("type"u8);
        writer.WriteString(array.DType);
        writer.WriteBinary("kind"u8);
        writer.WriteBinary([]);
        writer.WriteBinary("shape"u8);
        writer.WriteArrayHeader(array.Shape.Length);
        foreach (var n in array.Shape)
        {
            writer.WriteInt64(n);
        }

        writer.WriteBinary("data"u8);
        writer.WriteBinary(array.Data);
    }

    /// <summary>Reads a msgpack-numpy map (keys may be bin or str) into an array.</summary>
    public static NdArray ToArray(object? value, string what, Func<string, SpacyPipelineException> bad)
    {
        var map = AsMap(value) ?? throw bad($"{what} is not a numpy array");
        object? Field(string name) => map.FirstOrDefault(kv => KeyText(kv.Key) == name).Value;
        if (Field("nd") is not true || Field("type") is not string dtype || AsList(Field("shape")) is not { } shape || Field("data") is not byte[] bytes)
        {
            throw bad($"{what} is not a numpy array");
        }

        try
        {
            return new NdArray(dtype, shape.Select(s => s is long n && n >= 0 ? n : throw bad($"{what} has a bad shape")).ToList(), bytes);
        }
        catch (ArgumentException e)
        {
            throw bad($"{what}: {e.Message}");
        }
    }

    // A map of names to integers or None (a node's dims, or its refs as walk indices).
    private static void WriteOptionalInts(MsgPackWriter writer, List<KeyValuePair<string, long?>> map)
    {
        writer.WriteMapHeader(map.Count);
        foreach (var (key, value) in map)
        {
            writer.WriteString(key);
            if (value is { } v)
            {
                writer.WriteInt64(v);
            }
            else
            {
                writer.WriteNil();
            }
        }
    }

    internal static List<KeyValuePair<object?, object?>>? AsMap(object? value) => value as List<KeyValuePair<object?, object?>>;

    internal static List<object?>? AsList(object? value) => value as List<object?>;

    internal static object? Get(List<KeyValuePair<object?, object?>> map, string key) => map.FirstOrDefault(kv => KeyText(kv.Key) == key).Value;

    private static string? KeyText(object? key) => key switch
    {
        string s => s,
        byte[] b => System.Text.Encoding.UTF8.GetString(b),
        _ => null,
    };

    private static string Key(object? key, Func<string, SpacyPipelineException> bad) => key as string ?? throw bad("a key is not a string");
}
