using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// Where a component's token vectors come from, as its <c>model.tok2vec</c> section says: a
/// <c>spacy.Tok2VecListener.v1</c> (the output an earlier tok2vec component left on the document) or
/// the component's own inline <c>spacy.Tok2Vec.v2</c> (run by the component itself).
/// </summary>
internal sealed class Tok2VecInput
{
    private readonly Tok2VecModel? _inline;
    private readonly string? _upstream;
    private readonly string _component;

    private Tok2VecInput(ThincLayer layer, int width, Tok2VecModel? inline, string? upstream, string component)
    {
        Layer = layer;
        Width = width;
        _inline = inline;
        _upstream = upstream;
        _component = component;
    }

    /// <summary>The layer in the component's tree: a <c>tok2vec-listener</c> leaf or the inline Tok2Vec's tree.</summary>
    public ThincLayer Layer { get; }

    public int Width { get; }

    /// <summary>The tok2vec component a listener reads (null for an inline tok2vec).</summary>
    public string? Upstream => _upstream;

    public static Tok2VecInput Create(ComponentContext context, string section)
    {
        switch (context.Architecture(section))
        {
            case "spacy.Tok2VecListener.v1":
                var upstream = context.ListenerUpstream(section);
                var width = context.Config.Int(section, "width", 96);
                if (context.Previous.OfType<Tok2VecComponent>().FirstOrDefault(c => c.Name == upstream) is { } source && source.Width != width)
                {
                    throw context.Error("PRD2425", $"[{section}] width = {width}, but the tok2vec component '{upstream}' it listens to has width {source.Width}");
                }

                return new Tok2VecInput(ThincLayer.Leaf("tok2vec-listener").WithDims(("nO", width)), width, null, upstream, context.Name);
            case "spacy.Tok2Vec.v2":
                var inline = Tok2VecModel.Build(context, section);
                return new Tok2VecInput(inline.Tree, inline.Width, inline, null, context.Name);
            default:
                throw context.Unsupported(section);
        }
    }

    /// <summary>Takes an inline tok2vec's weights out of the bound tree (a listener has none).</summary>
    /// <summary>An inline tok2vec's params under <c>tok2vec.</c>; a listener owns none.</summary>
    internal void CollectParameters(List<ModelParameter> into) => _inline?.CollectParameters("tok2vec.", into);

    public void LoadWeights(string modelPath) => _inline?.LoadWeights(modelPath);

    /// <summary>The document's token vectors: n x <see cref="Width"/>, row-major (an inline tok2vec works in <paramref name="scratch"/> when given).</summary>
    public float[] Vectors(PipelineDoc doc, Tok2VecScratch? scratch = null)
    {
        if (_inline is not null)
        {
            return _inline.Predict(doc, scratch);
        }

        if (!doc.Tok2VecOutputs.TryGetValue(_upstream!, out var output) || output.Length != doc.Length * Width)
        {
            throw new InvalidOperationException(
                $"component '{_component}' needs the output of '{_upstream}' ({doc.Length} x {Width}) on each document; run the tok2vec component first");
        }

        return output;
    }
}
