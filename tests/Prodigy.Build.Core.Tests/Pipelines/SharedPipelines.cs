using System.Text.Json;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>The pipelines spaCy 3.5.4 wrote in shared/spacy/pipelines, with what spaCy predicts from them.</summary>
internal static class SharedPipelines
{
    public static string Root => Path.Combine(SharedData.Root, "spacy", "pipelines");

    /// <summary>Every shared pipeline's name (ner, spancat, textcat, textcat_multilabel).</summary>
    public static TheoryData<string> Names => ["ner", "spancat", "textcat", "textcat_multilabel"];

    public static string Folder(string name) => Path.Combine(Root, name, "pipeline");

    /// <summary>predictions.jsonl: what spaCy predicts for the first 50 dev texts.</summary>
    public static IReadOnlyList<JsonElement> Predictions(string name) =>
        File.ReadLines(Path.Combine(Root, name, "predictions.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    public static JsonElement Json(string name, string file) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, name, file))).RootElement.Clone();
}
