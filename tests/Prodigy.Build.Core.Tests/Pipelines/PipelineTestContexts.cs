using System.Text.Json;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Pipelines.Thinc;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>Stands in for the tok2vec component (not on this branch): listeners resolve to it, and tests put its output on the documents.</summary>
internal sealed class StandInTok2Vec(string name) : IPipelineComponent
{
    public string Name => name;

    public string Factory => "tok2vec";

    public IReadOnlyList<string> Labels => [];

    public ThincModelData? Model => null;

    public ThincLayer Tree { get; } = ThincLayer.Leaf("stand-in");

    public void Predict(IReadOnlyList<PipelineDoc> docs)
    {
    }
}

/// <summary>Component contexts and documents for testing components without running the whole pipeline.</summary>
internal static class PipelineTestContexts
{
    /// <summary>The context spaCy's loader would give <paramref name="name"/>, after a tok2vec component named "tok2vec".</summary>
    public static ComponentContext After(string pipelineFolder, string name, string? configPath = null) => new()
    {
        Config = ResolvedConfig.Load(configPath ?? Path.Combine(pipelineFolder, "config.cfg")),
        Name = name,
        Directory = Path.Combine(pipelineFolder, name),
        Previous = [new StandInTok2Vec("tok2vec")],
        Vocab = SpacyVocab.Read(Directory.Exists(Path.Combine(pipelineFolder, "vocab"))
            ? Path.Combine(pipelineFolder, "vocab")
            : Path.Combine(SharedPipelines.Folder("textcat"), "vocab")),
    };

    /// <summary>A document with spaCy's tokens as predictions.jsonl records them.</summary>
    public static PipelineDoc DocumentOf(JsonElement prediction)
    {
        var texts = prediction.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        var whitespace = prediction.GetProperty("token_ws").EnumerateArray().Select(t => t.GetString()!).ToList();
        var offsets = prediction.GetProperty("token_idx").EnumerateArray().Select(t => t.GetInt32()).ToList();
        var tokens = texts.Select((text, i) => new Token(text, offsets[i], offsets[i], whitespace[i] == " ", text)).ToList();
        return new PipelineDoc(prediction.GetProperty("text").GetString()!, tokens);
    }

    /// <summary>A copy of a shared pipeline folder that a test may change.</summary>
    public static string CopyOf(string pipeline)
    {
        var target = Path.Combine(Path.GetTempPath(), $"prodigy-pipeline-{pipeline}-{Guid.NewGuid():N}");
        var source = SharedPipelines.Folder(pipeline);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }
}
