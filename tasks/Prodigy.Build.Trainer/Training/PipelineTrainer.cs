using System.Diagnostics;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model;
using Prodigy.Build.Trainer.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Training;

/// <summary>What a training run needs besides the data.</summary>
public sealed class TrainingRun
{
    public required TrainingSettings Settings { get; init; }

    /// <summary>The config text, copied into each saved model.</summary>
    public required string ConfigText { get; init; }

    /// <summary>Where model-best/ and model-last/ go; null to save nothing (learning-curve points).</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>
    /// Tokenizer rules to ship with the model (a rules JSON, a spaCy tokenizer file or pipeline folder); null for
    /// the base model's (<see cref="BaseModel.TokenizerRulesOf"/>), else the language's built-in rules.
    /// </summary>
    public string? TokenizerRulesPath { get; init; }

    /// <summary>
    /// The torch device; null for the CPU with TorchSharp started only when a component needs it (a
    /// pipeline of bag-of-words text classifiers trains in managed code, without the native libraries).
    /// </summary>
    public Device? Device { get; init; }

    /// <summary>Starts TorchSharp on the CPU, when <see cref="Device"/> is null and the run needs it (the command line's applies --threads).</summary>
    public Func<Device> StartCpuTorch { get; init; } = StartTorchOnCpu;

    /// <summary>The device torch components train on: <see cref="Device"/>, else the CPU (TorchSharp started now).</summary>
    public Device ResolveDevice() => Device ?? StartCpuTorch();

    // Kept out of line: nothing may touch torch's statics before TorchRuntime has put the native library in place.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static Device StartTorchOnCpu()
    {
        TorchRuntime.Initialize(Prodigy.Build.Trainer.TorchDevice.Cpu);
        return CPU;
    }

    /// <summary>meta.json's <c>name</c> (spaCy's package name part: letters, digits and underscores).</summary>
    public string ModelName { get; init; } = ModelDirectory.DefaultName;

    /// <summary>meta.json's <c>version</c>.</summary>
    public string ModelVersion { get; init; } = ModelDirectory.DefaultVersion;

    /// <summary>Labels from the corpus's label files, by component; null when a component has none.</summary>
    public Func<string, IReadOnlyList<string>?> LabelsFile { get; init; } = _ => null;

    public Action<string> Log { get; init; } = Console.WriteLine;

    /// <summary>
    /// A spaCy pipeline folder to start from (a model-best/ or model-last/, spaCy's, or a package's): the
    /// components the config trains are sourced with their weights, their labels kept and new ones added
    /// after them; a pipeline that shares none gives its tokenizer only. For the opt-in CRF NER, a CRF
    /// model of this SDK to continue, or a spaCy pipeline folder for its tokenizer.
    /// </summary>
    public string? BaseModel { get; init; }

    /// <summary>
    /// A spaCy pipeline folder whose word vectors (<c>vocab/vectors</c>) the run trains with and saves;
    /// overrides <c>[initialize] vectors</c> (<c>--vectors</c>, <c>ProdigyVectors</c>). Null to use the config's.
    /// </summary>
    public string? Vectors { get; init; }
}

/// <summary>The outcome: the best scores and where they came from.</summary>
public sealed record TrainingResult(double BestScore, int BestStep, ScoreSet BestScores, int Steps, int Epochs, double Seconds, bool Cancelled);

/// <summary>
/// spaCy's training loop: batches by words, one optimizer over the whole pipeline, an evaluation
/// every eval_frequency steps (the first after step 0), model-best whenever the weighted score
/// improves, and a stop at max_steps, max_epochs or after patience steps without improvement.
/// </summary>
public static class PipelineTrainer
{
    public static TrainingResult Train(TrainingRun run, IReadOnlyList<Example> train, IReadOnlyList<Example> dev, CancellationToken cancellationToken = default)
    {
        if (SpacyFormatTrainer.Applies(run, out var reason))
        {
            return SpacyFormatTrainer.Train(run, train, dev, cancellationToken);
        }

        // The TorchSharp-format trainer trains one architecture family spaCy does not have: the opt-in
        // BILUO CRF NER. A model it saved continues only under a config that names that architecture.
        if (run.Settings.Ner?.Crf != true)
        {
            if (run.BaseModel is null || BaseModel.IsSpacyPipeline(run.BaseModel))
            {
                throw new TrainerInputException("PRD2301", $"the config cannot be trained in spaCy's format: {reason}; see docs/training.md for the architectures implemented");
            }

            BaseModel.RequireFiles(run.BaseModel);

            throw new TrainerInputException(
                "PRD2309",
                $"the base model is of the TorchSharp format (its NER is the opt-in CRF, {NerSettings.CrfArchitecture}), which the config's spaCy architectures cannot continue; train without ProdigyBaseModel, from a spaCy pipeline folder, or set [components.ner.model] @architectures = \"{NerSettings.CrfArchitecture}\" to continue the CRF model",
                run.BaseModel);
        }

        run.Log($"Training {reason} with the TorchSharp-format trainer ({NerSettings.CrfArchitecture}): the model folders are not spaCy pipelines, spaCy cannot load them");
        if (run.Settings.Tok2Vec.StaticVectorsRequested)
        {
            run.Log("config.cfg: warning PRD2310: include_static_vectors = true: the TorchSharp-format trainer does not load word vectors; training without them");
        }

        var settings = run.Settings;
        var loop = settings.Loop;
        var stopwatch = Stopwatch.StartNew();
        using var pipeline = CreatePipeline(run, train);
        var tokenizerRules = run.TokenizerRulesPath ?? (run.BaseModel is { } baseModel ? BaseModel.TokenizerRulesOf(baseModel) : null);
        if (run.BaseModel is { } spacyPipeline && BaseModel.IsSpacyPipeline(spacyPipeline))
        {
            run.Log($"Base model: the spaCy pipeline {spacyPipeline} gives the tokenizer rules (shipped as {ModelDirectory.TokenizerFile}); the weights start fresh");
        }

        using var optimizer = new AdamOptimizer(pipeline.parameters(), loop);
        return TrainingLoop.Run(
            run,
            train,
            new PythonRandom(loop.Seed),
            stopwatch,
            batch =>
            {
                pipeline.train();
                optimizer.ZeroGrad();
                using var scope = NewDisposeScope();
                var (perComponent, learned) = pipeline.Backward(batch);
                if (learned)
                {
                    optimizer.Step();
                }

                return perComponent;
            },
            (_, _) => PipelineScores.Compute(settings, pipeline.Labels, dev, pipeline.Predict(dev)),
            (folder, scores, _, score, step, epoch) => ModelDirectory.Save(Path.Combine(run.OutputDirectory!, folder), pipeline, run.ConfigText, tokenizerRules, scores.Values, score, step, epoch, run.ModelName, run.ModelVersion),
            cancellationToken);
    }

    /// <summary>
    /// The pipeline as training starts (before any update): seeded, with the training data's labels,
    /// and the base model's weights when there is one.
    /// </summary>
    public static Pipeline CreatePipeline(TrainingRun run, IReadOnlyList<Example> train)
    {
        var device = run.ResolveDevice();
        // Loaded before seeding: reading the base weights builds a pipeline, which draws random numbers.
        using var baseModel = run.BaseModel is null || BaseModel.IsSpacyPipeline(run.BaseModel) ? null : BaseModel.Load(run.BaseModel);
        torch.random.manual_seed(run.Settings.Loop.Seed);
        var labels = PipelineLabels.Collect(run.Settings, train, run.LabelsFile, baseModel?.Labels);
        var pipeline = new Pipeline(run.Settings, labels, device);
        try
        {
            baseModel?.CopyInto(pipeline, run.Log);
        }
        catch
        {
            pipeline.Dispose();
            throw;
        }

        return pipeline;
    }
}
