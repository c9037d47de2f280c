using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// spaCy's <c>tok2vec</c> component: runs its <c>spacy.Tok2Vec.v2</c> model on each document and
/// leaves the output in <see cref="PipelineDoc.Tok2VecOutputs"/> under its name, where the
/// <c>spacy.Tok2VecListener.v1</c> layers of later components read it.
/// </summary>
public sealed class Tok2VecComponent : IPipelineComponent
{
    private readonly Tok2VecModel _model;

    private Tok2VecComponent(string name, Tok2VecModel model, ThincModelData data)
    {
        Name = name;
        _model = model;
        Model = data;
    }

    public string Name { get; }

    public string Factory => "tok2vec";

    public IReadOnlyList<string> Labels => [];

    public ThincModelData? Model { get; }

    /// <summary>The output width.</summary>
    public int Width => _model.Width;

    /// <summary>The layer tree as spaCy builds it.</summary>
    public ThincLayer Tree => _model.Tree;

    public static IPipelineComponent Create(ComponentContext context)
    {
        var model = Tok2VecModel.Build(context, context.ModelSection);
        var data = context.ReadModel(model.Tree);
        model.LoadWeights(System.IO.Path.Combine(context.Directory, "model"));
        return new Tok2VecComponent(context.Name, model, data);
    }

    public void Predict(IReadOnlyList<PipelineDoc> docs)
    {
        var outputs = _model.Predict(docs, new Tok2VecScratch());
        for (var d = 0; d < docs.Count; d++)
        {
            docs[d].Tok2VecOutputs[Name] = outputs[d];
        }
    }

    /// <summary>The embed output (before the encoder), for tests against spaCy's.</summary>
    internal float[] Embed(PipelineDoc doc) => _model.Embed(doc);

    /// <summary>The HashEmbed rows of a document's tokens, per table, for tests against thinc's hashes.</summary>
    internal uint[] HashRows(PipelineDoc doc, int table) => _model.HashRows(doc, table);
}
