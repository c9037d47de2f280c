using System.Text.Json;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Scoring;
using Prodigy.Build.Core.Tokenization;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Inference;

/// <summary>A token of a processed text: its text, where it starts (code points, as Python and Prodigy count) and its trailing space.</summary>
public sealed record ProcessedToken(string Text, int Start, int End, bool Whitespace);

/// <summary>An entity or span found in a text: character offsets (code points, end exclusive), token offsets, label, score when known.</summary>
public sealed record FoundSpan(int Start, int End, int TokenStart, int TokenEnd, string Label, string Text, double? Score = null);

/// <summary>What a trained pipeline says about a text.</summary>
public sealed record ProcessedText(
    string Text,
    IReadOnlyList<ProcessedToken> Tokens,
    IReadOnlyList<FoundSpan> Entities,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Cats,
    IReadOnlyDictionary<string, IReadOnlyList<FoundSpan>> Spans);

/// <summary>
/// A trained pipeline loaded for use in .NET, whichever wrote it: a spaCy 3 pipeline folder
/// (<c>nlp.to_disk</c>, <c>spacy train</c>'s model-best, Prodigy's <c>train</c> output), run in managed
/// code with spaCy's predictions, or a model folder of this SDK's TorchSharp trainer. Tokenizes with
/// the pipeline's own rules and returns entities, categories and spans.
/// </summary>
/// <remarks>
/// Thread-safe: any number of threads may call <see cref="Process(IReadOnlyList{string})"/> and
/// <see cref="Score"/> at once, and the calls run in parallel: prediction only reads the weights
/// (a TorchSharp model predicts without dropout and without gradients, both per call or per thread,
/// never by switching the module's mode).
/// </remarks>
public sealed class TrainedPipeline : IDisposable
{
    private readonly Pipeline? _torchPipeline;
    private readonly SpacyPipeline? _spacyPipeline;
    private readonly Tokenizer _tokenizer;

    private TrainedPipeline(TrainingSettings settings, PipelineLabels labels, Tokenizer tokenizer, Pipeline? torchPipeline, SpacyPipeline? spacyPipeline)
    {
        Settings = settings;
        Labels = labels;
        _tokenizer = tokenizer;
        _torchPipeline = torchPipeline;
        _spacyPipeline = spacyPipeline;
    }

    public TrainingSettings Settings { get; }

    public PipelineLabels Labels { get; }

    /// <summary>The spaCy pipeline, when the folder is one (null for a TorchSharp model of this SDK).</summary>
    public SpacyPipeline? SpacyPipeline => _spacyPipeline;

    /// <summary>Whether <paramref name="directory"/> is a spaCy pipeline folder rather than a model of this SDK (which has weights.bin).</summary>
    public static bool IsSpacyPipelineFolder(string directory) =>
        !File.Exists(Path.Combine(directory, ModelDirectory.WeightsFile)) && SpacyPipeline.IsPipelineFolder(directory);

    /// <summary>
    /// Loads a model folder: a spaCy pipeline folder (no TorchSharp needed), or a model of this SDK's
    /// trainer (starts TorchSharp first, on the CPU unless <paramref name="device"/> says otherwise).
    /// </summary>
    public static TrainedPipeline Load(string directory, Device? device = null, TorchRuntimeOptions? runtime = null)
    {
        if (IsSpacyPipelineFolder(directory))
        {
            return LoadSpacy(directory);
        }

        TorchRuntime.Initialize(device?.type == DeviceType.CUDA ? TorchDevice.Cuda : TorchDevice.Cpu, runtime);
        foreach (var file in new[] { ModelDirectory.ConfigFile, ModelDirectory.LabelsFile, ModelDirectory.WeightsFile })
        {
            if (!File.Exists(Path.Combine(directory, file)))
            {
                throw new TrainerInputException("PRD2308", $"'{directory}' is neither a spaCy pipeline folder (config.cfg and meta.json) nor a pipeline trained by Prodigy.Build.Sdk: it has no {file}", directory);
            }
        }

        var config = ResolvedConfig.Load(Path.Combine(directory, ModelDirectory.ConfigFile));
        var settings = TrainingSettings.From(config);
        var labels = JsonSerializer.Deserialize<PipelineLabels>(File.ReadAllText(Path.Combine(directory, ModelDirectory.LabelsFile)))!;
        var pipeline = new Pipeline(settings, labels, device ?? CPU);
        pipeline.load(Path.Combine(directory, ModelDirectory.WeightsFile));
        pipeline.eval();
        var rulesPath = Path.Combine(directory, ModelDirectory.TokenizerFile);
        var tokenizer = File.Exists(rulesPath) ? new Tokenizer(TokenizerRules.Load(rulesPath)) : Tokenizer.ForLanguage(settings.Language);
        return new TrainedPipeline(settings, labels, tokenizer, pipeline, null);
    }

    private static TrainedPipeline LoadSpacy(string directory)
    {
        SpacyPipeline spacy;
        try
        {
            spacy = SpacyPipeline.Load(directory);
        }
        catch (SpacyPipelineException e)
        {
            throw new TrainerInputException(e.Code, e.Reason, e.Path);
        }

        TrainingSettings settings;
        try
        {
            settings = TrainingSettings.From(spacy.Config);
        }
        catch (TrainingConfigException e)
        {
            throw new TrainerInputException("PRD2301", e.Message, e.ConfigPath);
        }

        var labels = PipelineLabels.Of(spacy.Components);
        return new TrainedPipeline(settings, labels, spacy.Tokenizer, null, spacy);
    }

    public ProcessedText Process(string text) => Process([text])[0];

    public IReadOnlyList<ProcessedText> Process(IReadOnlyList<string> texts)
    {
        if (_spacyPipeline is { } spacy)
        {
            return spacy.Process(texts).Select(ToProcessed).ToList();
        }

        var tokenized = texts.Select(t => _tokenizer.Tokenize(t)).ToList();
        var examples = tokenized.Select(tokens => Example.Unannotated(
            tokens.Select(t => t.Text).ToList(),
            tokens.Select(t => t.Whitespace).ToList(),
            tokens.Select(t => t.Norm).ToList())).ToList();
        var predictions = PredictWithTorch(examples);
        var result = new List<ProcessedText>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            var tokens = tokenized[i];
            result.Add(Processed(
                texts[i],
                tokens,
                predictions[i].Entities.Select(e => (e, (double?)null)),
                predictions[i].Cats,
                predictions[i].Spans.ToDictionary(s => s.Key, s => s.Value.Select(x => (x.Span, (double?)x.Score)), StringComparer.Ordinal)));
        }

        return result;
    }

    /// <summary>
    /// spaCy's scores of this pipeline on annotated examples. A spaCy pipeline tokenizes each
    /// example's text itself and is scored through the alignment with the gold tokens, as
    /// <c>spacy evaluate</c> does (with its token_acc/p/r/f).
    /// </summary>
    public ScoreSet Score(IReadOnlyList<Example> examples)
    {
        if (_spacyPipeline is not { } spacy)
        {
            return PipelineScores.Compute(Settings, Labels, examples, PredictWithTorch(examples));
        }

        var texts = examples.Select(e => e.Text).ToList();
        var docs = spacy.Process(texts);
        var predicted = docs.Select(d => (IReadOnlyList<string>)d.Tokens.Select(t => t.Text).ToList()).ToList();
        var spaces = docs.Select(d => (IReadOnlyList<bool>)d.Tokens.Select(t => t.Whitespace).ToList()).ToList();
        var predictions = docs.Select(ToPrediction).ToList();
        return PipelineScores.Compute(Settings, Labels, examples, predictions, predicted, spaces);
    }

    public void Dispose() => _torchPipeline?.Dispose();

    private List<Prediction> PredictWithTorch(IReadOnlyList<Example> examples)
    {
        return _torchPipeline!.Predict(examples);
    }

    private Prediction ToPrediction(PipelineDoc doc) => Prediction.FromDoc(doc, Labels);

    private Dictionary<string, IReadOnlyDictionary<string, double>> ComponentCats(PipelineDoc doc) => Prediction.CatsByComponent(doc, Labels);

    private ProcessedText ToProcessed(PipelineDoc doc) => Processed(
        doc.Text,
        doc.Tokens,
        doc.Entities.Select(e => (new LabeledSpan(e.Start, e.End, e.Label), (double?)null)),
        ComponentCats(doc),
        doc.Spans.ToDictionary(s => s.Key, s => s.Value.Select(x => (new LabeledSpan(x.Start, x.End, x.Label), x.Score is { } v ? (double?)v : null)), StringComparer.Ordinal));

    private static ProcessedText Processed(
        string text,
        IReadOnlyList<Token> tokenized,
        IEnumerable<(LabeledSpan Span, double? Score)> entities,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> cats,
        Dictionary<string, IEnumerable<(LabeledSpan Span, double? Score)>> spans)
    {
        var tokens = tokenized.Select(t => new ProcessedToken(t.Text, t.Idx, t.Idx + Core.Text.PythonText.CodePointCount(t.Text), t.Whitespace)).ToList();
        FoundSpan Found(LabeledSpan span, double? score)
        {
            var start = tokenized[span.Start].Start;
            var end = tokenized[span.End - 1].End;
            return new FoundSpan(tokens[span.Start].Start, tokens[span.End - 1].End, span.Start, span.End, span.Label, text[start..end], score);
        }

        return new ProcessedText(
            text,
            tokens,
            entities.Select(e => Found(e.Span, e.Score)).ToList(),
            cats,
            spans.ToDictionary(s => s.Key, s => (IReadOnlyList<FoundSpan>)s.Value.Select(x => Found(x.Span, x.Score)).ToList(), StringComparer.Ordinal));
    }
}
