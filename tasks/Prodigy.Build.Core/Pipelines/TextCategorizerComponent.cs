using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// spaCy's <c>textcat</c> and <c>textcat_multilabel</c> components: <c>spacy.TextCatBOW.v2</c> or
/// <c>spacy.TextCatEnsemble.v2</c> (with a <c>spacy.Tok2VecListener.v1</c>), writing one score per
/// label into <see cref="PipelineDoc.Cats"/> in label order, as spaCy's <c>set_annotations</c> does.
/// </summary>
public sealed class TextCategorizerComponent : IPipelineComponent
{
    private readonly ITextClassifierModel _model;

    private TextCategorizerComponent(string name, string factory, IReadOnlyList<string> labels, ITextClassifierModel model, ThincModelData data)
    {
        Name = name;
        Factory = factory;
        Labels = labels;
        _model = model;
        Model = data;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Factory { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Labels { get; }

    /// <inheritdoc />
    public ThincModelData? Model { get; }

    /// <summary>The model's layer tree, bound to the model file (names as thinc's <c>walk()</c> gives them).</summary>
    public ThincLayer Tree => _model.Root;

    /// <summary>Whether the labels are exclusive (softmax over them) rather than independent (logistic each).</summary>
    public bool ExclusiveClasses => _model.ExclusiveClasses;

    /// <summary>
    /// The factory for <c>textcat</c> and <c>textcat_multilabel</c>: builds the architecture's tree,
    /// binds the model file and checks the cfg labels against the model's outputs (PRD2432).
    /// </summary>
    public static IPipelineComponent Create(ComponentContext context)
    {
        var model = BuildModel(context);
        var cfg = ComponentCfg.Read(context);
        var data = context.ReadModel(model.Root);
        var modelPath = Path.Combine(context.Directory, "model");
        model.LoadWeights(modelPath);
        if (model.OutputWidth != cfg.Labels.Count)
        {
            throw new SpacyPipelineException(
                "PRD2432",
                $"component '{context.Name}' has {cfg.Labels.Count} labels in its cfg file, but its model scores {model.OutputWidth} classes; the cfg and model files must come from the same pipeline",
                modelPath);
        }

        var factory = context.Config.String(context.Section, "factory") ?? "textcat";
        return new TextCategorizerComponent(context.Name, factory, cfg.Labels, model, data);
    }

    /// <summary>The architecture's layer tree (unbound), for the component's model section.</summary>
    internal static ITextClassifierModel BuildModel(ComponentContext context) => context.Architecture(context.ModelSection) switch
    {
        "spacy.TextCatBOW.v2" => BowTextClassifierModel.Build(context, context.ModelSection),
        "spacy.TextCatEnsemble.v2" => EnsembleTextClassifierModel.Build(context, context.ModelSection),
        _ => throw context.Unsupported(context.ModelSection),
    };

    /// <inheritdoc />
    public void Predict(IReadOnlyList<PipelineDoc> docs)
    {
        var nO = Labels.Count;
        var scores = new float[docs.Count * nO];

        // spaCy's TextCategorizer.predict returns zeros, without running the model, when no document
        // of the batch has a token.
        if (docs.Any(d => d.Length > 0))
        {
            _model.Predict(docs, scores);
        }

        for (var d = 0; d < docs.Count; d++)
        {
            var cats = docs[d].Cats;
            for (var j = 0; j < nO; j++)
            {
                cats[Labels[j]] = scores[(d * nO) + j];
            }
        }
    }
}
