using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>The trainable components a Prodigy dataset can feed, named as spaCy names them.</summary>
public enum CorpusComponent
{
    Ner,
    Textcat,
    TextcatMultilabel,
    Spancat,
}

public static class CorpusComponents
{
    public static string Name(CorpusComponent component) => component switch
    {
        CorpusComponent.Ner => "ner",
        CorpusComponent.Textcat => "textcat",
        CorpusComponent.TextcatMultilabel => "textcat_multilabel",
        CorpusComponent.Spancat => "spancat",
        _ => throw new ArgumentOutOfRangeException(nameof(component)),
    };

    public static bool TryParse(string name, out CorpusComponent component)
    {
        switch (name)
        {
            case "ner": component = CorpusComponent.Ner; return true;
            case "textcat": component = CorpusComponent.Textcat; return true;
            case "textcat_multilabel" or "textcat-multilabel": component = CorpusComponent.TextcatMultilabel; return true;
            case "spancat": component = CorpusComponent.Spancat; return true;
            default: component = default; return false;
        }
    }
}

/// <summary>
/// A declared dataset feeding one component, for training or (Eval) for evaluation only: a Prodigy JSONL
/// export at <paramref name="Path"/>, or, when <paramref name="Dataset"/> is set, that dataset in the
/// Prodigy SQLite database at <paramref name="Path"/> (empty: the database Prodigy's settings name).
/// </summary>
public sealed record DatasetInput(CorpusComponent Component, string Path, bool IsEval = false, string SpansKey = "sc", string? Dataset = null)
{
    /// <summary>The file, or <c>database#dataset</c>, for messages.</summary>
    public string Describe() => Dataset is null ? Path : (Path.Length == 0 ? "(Prodigy's database)" : Path) + "#" + Dataset;
}

/// <summary>What to build: the datasets and Prodigy's corpus settings.</summary>
public sealed class CorpusRequest
{
    public required IReadOnlyList<DatasetInput> Datasets { get; init; }

    public string Language { get; init; } = "en";

    /// <summary>Share of examples held out for evaluation, for components without an Eval dataset.</summary>
    public double EvalSplit { get; init; } = 0.2;

    public int Seed { get; init; }

    /// <summary>Tokenizer rules (a spaCy pipeline or rules file) instead of the built-in language's; optional.</summary>
    public string? TokenizerRules { get; init; }

    /// <summary>
    /// Evaluation data for a trained pipeline (<c>prodigy-build-train evaluate</c>): declare the datasets as
    /// Eval; no training examples are needed, and when one file feeds several components each component
    /// takes only the tasks that annotate it (see <see cref="CorpusBuilder.Annotates"/>).
    /// </summary>
    public bool EvaluationOnly { get; init; }
}

/// <summary>Where a component's evaluation examples came from.</summary>
public enum EvalSource
{
    FromDatasets,
    Split,
}

/// <summary>A component's share of the corpus.</summary>
public sealed record ComponentSummary(
    CorpusComponent Component,
    string SpansKey,
    int TrainExamples,
    int EvalExamples,
    EvalSource EvalSource,
    IReadOnlyList<string> Labels,
    bool HasBinaryAnnotations);

/// <summary>The corpus: merged docs per split, and per component what went in.</summary>
public sealed class CorpusResult
{
    public required IReadOnlyList<SpacyDoc> TrainDocs { get; init; }

    public required IReadOnlyList<SpacyDoc> DevDocs { get; init; }

    public required IReadOnlyList<ComponentSummary> Components { get; init; }

    public required IReadOnlyDictionary<string, int> WarningCounts { get; init; }
}

/// <summary>Where the builder reports progress and data warnings (the tool prints them canonically).</summary>
public interface ICorpusLog
{
    void Message(string text);

    void Warning(string code, string message, string? file = null, int line = 0, int column = 0);
}
