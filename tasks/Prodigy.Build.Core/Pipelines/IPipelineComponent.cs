using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A component of a spaCy pipeline loaded for inference. <see cref="Predict"/> must be free of side
/// effects on the component (no caches, no mode switches): a pipeline is shared by every thread that
/// calls it, and each call brings its own documents.
/// </summary>
public interface IPipelineComponent
{
    /// <summary>The component's name in <c>[nlp] pipeline</c>.</summary>
    string Name { get; }

    /// <summary>The factory (<c>tok2vec</c>, <c>ner</c>, <c>textcat</c>, ...).</summary>
    string Factory { get; }

    /// <summary>The labels, in the order spaCy holds them (meta.json's <c>labels</c> entry).</summary>
    IReadOnlyList<string> Labels { get; }

    /// <summary>The component's model as read from its folder (written back as it is).</summary>
    ThincModelData? Model { get; }

    /// <summary>The layer tree its architecture builds (bound to the model file once read).</summary>
    ThincLayer Tree { get; }

    /// <summary>Annotates a batch of documents (earlier components have already run on them).</summary>
    void Predict(IReadOnlyList<PipelineDoc> docs);
}

/// <summary>What a component factory is given: the config, its section, its folder and the components before it (for listeners).</summary>
public sealed class ComponentContext
{
    public required ResolvedConfig Config { get; init; }

    /// <summary>The component's name; its config section is <c>components.NAME</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The component's folder in the pipeline folder (<c>DIR/NAME</c>).</summary>
    public required string Directory { get; init; }

    /// <summary>The components built so far, in pipeline order.</summary>
    public required IReadOnlyList<IPipelineComponent> Previous { get; init; }

    /// <summary>The vocab (strings, vectors), for components with static vectors.</summary>
    public required SpacyVocab Vocab { get; init; }

    public string Section => $"components.{Name}";

    public string ModelSection => $"components.{Name}.model";

    /// <summary>The architecture registered at <paramref name="section"/> (<c>@architectures</c>).</summary>
    public string Architecture(string section) =>
        Config.String(section, "@architectures") ?? throw Error("PRD2405", $"[{section}] names no @architectures");

    /// <summary>An error about this component's config: the config file and the section.</summary>
    public SpacyPipelineException Error(string code, string message) => new(code, message, Config.Path);

    /// <summary>An architecture this reader does not implement: PRD2405, naming it.</summary>
    public SpacyPipelineException Unsupported(string section) => Error(
        "PRD2405",
        $"[{section}] uses the architecture '{Architecture(section)}', which Prodigy.Build.Sdk cannot run; supported: {string.Join(", ", SupportedArchitectures.All)}");

    /// <summary>
    /// The tok2vec component a <c>spacy.Tok2VecListener.v1</c> at <paramref name="section"/> listens to, as
    /// spaCy links them: the earlier <c>tok2vec</c> component named by <c>upstream</c>, or for <c>"*"</c>
    /// the last earlier one (each tok2vec overwrites a "*" listener's input in turn). Its output is in
    /// <see cref="PipelineDoc.Tok2VecOutputs"/> under the returned name.
    /// </summary>
    public string ListenerUpstream(string section)
    {
        var upstream = Config.String(section, "upstream") ?? "*";
        var match = Previous.LastOrDefault(c => c.Factory == "tok2vec" && (upstream == "*" || c.Name == upstream));
        return match?.Name ?? throw Error(
            "PRD2410",
            $"[{section}] listens to the tok2vec component '{upstream}', but no such tok2vec component comes before '{Name}' in [nlp] pipeline");
    }

    /// <summary>Reads <c>DIR/NAME/model</c> and binds it to the architecture's layer tree.</summary>
    public ThincModelData ReadModel(ThincLayer root)
    {
        var path = System.IO.Path.Combine(Directory, "model");
        if (!File.Exists(path))
        {
            throw new SpacyPipelineException("PRD2406", $"component '{Name}' has no model file; the pipeline folder is incomplete", path);
        }

        var data = ThincModelData.Read(path);
        root.Bind(data, path);
        return data;
    }
}

/// <summary>The architectures <see cref="SpacyPipeline"/> runs (for error messages and docs).</summary>
public static class SupportedArchitectures
{
    public static IReadOnlyList<string> All { get; } =
    [
        "spacy.Tok2Vec.v2", "spacy.MultiHashEmbed.v2", "spacy.MaxoutWindowEncoder.v2", "spacy.Tok2VecListener.v1",
        "spacy.TransitionBasedParser.v2", "spacy.TextCatBOW.v2", "spacy.TextCatEnsemble.v2", "spacy.SpanCategorizer.v1",
    ];
}
