namespace Prodigy.Build.Core.Pipelines.Thinc;

/// <summary>
/// A node of the layer tree that a spaCy architecture builds (a mirror of thinc's <c>Model</c>): its
/// name as thinc composes it (<c>a&gt;&gt;b</c> for chain, <c>a|b</c> for concatenate, <c>with_array(a)</c>),
/// its children and the params it owns. The tree is built from config.cfg; <see cref="Bind"/> attaches
/// a model file's nodes to it in <c>walk()</c> order, which is how thinc's <c>from_bytes</c> matches them.
/// </summary>
public sealed class ThincLayer(string name, IReadOnlyList<ThincLayer>? layers = null, IReadOnlyList<string>? paramNames = null)
{
    public string Name { get; } = name;

    public IReadOnlyList<ThincLayer> Layers { get; } = layers ?? [];

    /// <summary>The params this layer owns (thinc's <c>param_names</c>), in thinc's order.</summary>
    public IReadOnlyList<string> ParamNames { get; } = paramNames ?? [];

    /// <summary>The file's node for this layer, after <see cref="Bind"/>.</summary>
    public ThincNodeData? Data { get; private set; }

    /// <summary>The dims thinc saves for this node, in its order (null for an unset dim); set by the architecture's builder.</summary>
    public List<KeyValuePair<string, long?>> Dims { get; } = [];

    /// <summary>The attrs thinc saves for this node (Python-typed values: long, double, bool, string, lists), in its order.</summary>
    public List<KeyValuePair<string, object?>> Attrs { get; } = [];

    /// <summary>The node's refs to other nodes of the tree, in thinc's order.</summary>
    public List<KeyValuePair<string, ThincLayer?>> Refs { get; } = [];

    /// <summary>Params set for writing (a trained model's own weights); otherwise the bound file's are written.</summary>
    public Dictionary<string, NdArray> Weights { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds dims (builder style).</summary>
    public ThincLayer WithDims(params (string Name, long? Value)[] dims)
    {
        Dims.AddRange(dims.Select(d => new KeyValuePair<string, long?>(d.Name, d.Value)));
        return this;
    }

    /// <summary>Adds attrs (builder style).</summary>
    public ThincLayer WithAttrs(params (string Name, object? Value)[] attrs)
    {
        Attrs.AddRange(attrs.Select(a => new KeyValuePair<string, object?>(a.Name, a.Value)));
        return this;
    }

    /// <summary>Adds refs (builder style).</summary>
    public ThincLayer WithRefs(params (string Name, ThincLayer? Layer)[] refs)
    {
        Refs.AddRange(refs.Select(r => new KeyValuePair<string, ThincLayer?>(r.Name, r.Layer)));
        return this;
    }

    /// <summary>
    /// The model file of this tree, as thinc's <c>to_bytes</c> would write it: the nodes in walk order
    /// with the dims, refs and attrs the builders set, and each param from <see cref="Weights"/> (else
    /// the bound file's). A tree built from a config and given trained weights writes a model file
    /// that spaCy loads with that config.
    /// </summary>
    public ThincModelData ToModelData()
    {
        var walk = Walk().ToList();
        var index = new Dictionary<ThincLayer, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < walk.Count; i++)
        {
            index[walk[i]] = i;
        }

        var data = new ThincModelData();
        for (var i = 0; i < walk.Count; i++)
        {
            var layer = walk[i];
            var node = new ThincNodeData
            {
                Index = i,
                Name = layer.Name,
                Dims = [.. layer.Dims],
                Refs = layer.Refs.Select(r => new KeyValuePair<string, long?>(r.Key, r.Value is null ? null : index[r.Value])).ToList(),
                Attrs = layer.Attrs.Select(a => new KeyValuePair<string, byte[]>(a.Key, Encode(a.Value))).ToList(),
            };
            foreach (var param in layer.ParamNames)
            {
                var value = layer.Weights.GetValueOrDefault(param) ?? layer.Data?.Param(param)
                    ?? throw new InvalidOperationException($"layer {i} ('{layer.Name}') has no value for its param '{param}'");
                node.Params.Add(new(param, value));
            }

            data.Nodes.Add(node);
        }

        return data;
    }

    // thinc's serialize_attr: the value msgpack-encoded on its own.
    private static byte[] Encode(object? value)
    {
        var writer = new Serialization.MsgPackWriter(16);
        writer.WriteValue(value);
        return writer.ToArray();
    }

    /// <summary>thinc's <c>chain</c>: children run in order, name joined with <c>&gt;&gt;</c>.</summary>
    public static ThincLayer Chain(params ThincLayer[] layers) => new(string.Join(">>", layers.Select(l => l.Name)), layers);

    /// <summary>thinc's <c>concatenate</c>: name joined with <c>|</c>.</summary>
    public static ThincLayer Concatenate(params ThincLayer[] layers) => new(string.Join("|", layers.Select(l => l.Name)), layers);

    /// <summary>A wrapper layer named <c>wrapper(child)</c> (with_array, residual, with_cpu, ...).</summary>
    public static ThincLayer Wrap(string wrapper, ThincLayer child) => new($"{wrapper}({child.Name})", [child]);

    /// <summary>A leaf layer with params.</summary>
    public static ThincLayer Leaf(string name, params string[] paramNames) => new(name, [], paramNames);

    /// <summary>thinc's <c>Model.walk()</c>: breadth-first, each node once.</summary>
    public IEnumerable<ThincLayer> Walk()
    {
        var seen = new HashSet<ThincLayer>(ReferenceEqualityComparer.Instance);
        var queue = new Queue<ThincLayer>();
        queue.Enqueue(this);
        seen.Add(this);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            yield return node;
            foreach (var child in node.Layers)
            {
                if (seen.Add(child))
                {
                    queue.Enqueue(child);
                }
            }
        }
    }

    /// <summary>
    /// Attaches the file's nodes to this tree in walk order. A different node count or name, or a
    /// param the file lacks, means the file was written by another architecture or settings than
    /// config.cfg names: PRD2402 with both descriptions.
    /// </summary>
    public void Bind(ThincModelData data, string path)
    {
        var walk = Walk().ToList();
        if (walk.Count != data.Nodes.Count)
        {
            throw new SpacyPipelineException(
                "PRD2402",
                $"the model file has {data.Nodes.Count} nodes but the architecture in config.cfg builds {walk.Count} ('{Name}'); the config and the model file must come from the same pipeline",
                path);
        }

        for (var i = 0; i < walk.Count; i++)
        {
            var node = data.Nodes[i];
            if (node.Name != walk[i].Name)
            {
                throw new SpacyPipelineException(
                    "PRD2402",
                    $"node {i} of the model file is '{node.Name}' but the architecture in config.cfg has '{walk[i].Name}' there; the config and the model file must come from the same pipeline",
                    path);
            }

            foreach (var param in walk[i].ParamNames)
            {
                if (node.Param(param) is null)
                {
                    throw new SpacyPipelineException("PRD2403", $"node {i} ('{node.Name}') has no param '{param}': the model was saved before it was initialized", path);
                }
            }

            walk[i].Data = node;
        }
    }

    /// <summary>The bound node, or an error if <see cref="Bind"/> has not run.</summary>
    public ThincNodeData Node => Data ?? throw new InvalidOperationException($"layer '{Name}' is not bound to a model file");

    /// <summary>A bound float32 param's values.</summary>
    public float[] Floats(string param) => (Node.Param(param) ?? throw new InvalidOperationException($"layer '{Name}' has no param '{param}'")).ToFloats();

    /// <summary>A bound dim; an error when unset.</summary>
    public int Dim(string name) => checked((int)(Node.Dim(name) ?? throw new InvalidOperationException($"layer '{Name}' has no dim '{name}'")));
}
