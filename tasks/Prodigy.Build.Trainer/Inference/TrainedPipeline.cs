using Prodigy.Build.Core.Config;
using System.Text.Json;
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
/// A pipeline trained by this SDK (model-best/ or model-last/), loaded for use in .NET: tokenizes
/// with the rules it was trained with and returns entities, categories and spans.
/// </summary>
public sealed class TrainedPipeline : IDisposable
{
    private readonly Pipeline _pipeline;
    private readonly Tokenizer _tokenizer;

    private TrainedPipeline(Pipeline pipeline, Tokenizer tokenizer)
    {
        _pipeline = pipeline;
        _tokenizer = tokenizer;
    }

    public TrainingSettings Settings => _pipeline.Settings;

    public PipelineLabels Labels => _pipeline.Labels;

    /// <summary>Loads a model folder; starts TorchSharp first (on the CPU unless <paramref name="device"/> says otherwise).</summary>
    public static TrainedPipeline Load(string directory, Device? device = null, TorchRuntimeOptions? runtime = null)
    {
        TorchRuntime.Initialize(device?.type == DeviceType.CUDA ? TorchDevice.Cuda : TorchDevice.Cpu, runtime);
        foreach (var file in new[] { ModelDirectory.ConfigFile, ModelDirectory.LabelsFile, ModelDirectory.WeightsFile })
        {
            if (!File.Exists(Path.Combine(directory, file)))
            {
                throw new TrainerInputException("PRD2308", $"'{directory}' is not a pipeline trained by Prodigy.Build.Sdk: it has no {file}", directory);
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
        return new TrainedPipeline(pipeline, tokenizer);
    }

    public ProcessedText Process(string text) => Process([text])[0];

    public IReadOnlyList<ProcessedText> Process(IReadOnlyList<string> texts)
    {
        var tokenized = texts.Select(t => _tokenizer.Tokenize(t)).ToList();
        var examples = tokenized.Select(tokens => Example.Unannotated(
            tokens.Select(t => t.Text).ToList(),
            tokens.Select(t => t.Whitespace).ToList(),
            tokens.Select(t => t.Norm).ToList())).ToList();
        var predictions = _pipeline.Predict(examples);
        var result = new List<ProcessedText>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            var tokens = tokenized[i].Select(t => new ProcessedToken(t.Text, t.Idx, t.Idx + Core.Text.PythonText.CodePointCount(t.Text), t.Whitespace)).ToList();
            FoundSpan Found(LabeledSpan span, double? score)
            {
                var start = tokenized[i][span.Start].Start;
                var end = tokenized[i][span.End - 1].End;
                return new FoundSpan(tokens[span.Start].Start, tokens[span.End - 1].End, span.Start, span.End, span.Label, texts[i][start..end], score);
            }

            result.Add(new ProcessedText(
                texts[i],
                tokens,
                predictions[i].Entities.Select(e => Found(e, null)).ToList(),
                predictions[i].Cats,
                predictions[i].Spans.ToDictionary(s => s.Key, s => (IReadOnlyList<FoundSpan>)s.Value.Select(x => Found(x.Span, x.Score)).ToList(), StringComparer.Ordinal)));
        }

        return result;
    }

    /// <summary>spaCy's scores of this pipeline on annotated examples.</summary>
    public ScoreSet Score(IReadOnlyList<Example> examples) =>
        PipelineScores.Compute(_pipeline.Settings, _pipeline.Labels, examples, _pipeline.Predict(examples));

    public void Dispose() => _pipeline.Dispose();
}
