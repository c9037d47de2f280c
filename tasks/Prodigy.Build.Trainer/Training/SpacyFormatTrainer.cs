using System.Diagnostics;
using System.Runtime.CompilerServices;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// <c>spacy train</c> for pipelines of tok2vec, ner, spancat and bag-of-words textcat components: each
/// component's model is the architecture config.cfg names, built as a plan of the pipeline folder
/// (<see cref="SpacyPipelinePlan"/>) whose params are the torch parameters trained here (managed arrays
/// when the pipeline trains in managed code, <see cref="TrainableSpacyPipeline.IsManaged"/>). Evaluation
/// writes the folder and runs the reader on the dev docs, so the scores are those of the folder that
/// model-best/ and model-last/ receive, which spaCy loads with the same config.
/// </summary>
public static class SpacyFormatTrainer
{
    /// <summary>Whether this trainer takes the run (every component plannable, no base model of the old format).</summary>
    public static bool Applies(TrainingRun run, out string reason)
    {
        var config = new ResolvedConfig(SpacyConfigDocument.Parse(run.ConfigText), "config.cfg");
        if (!SpacyPipelinePlan.CanPlan(config, out reason))
        {
            return false;
        }

        if (run.BaseModel is { } baseModel && !BaseModel.IsSpacyPipeline(baseModel))
        {
            reason = "a base model of the TorchSharp format";
            return false;
        }

        return true;
    }

    public static TrainingResult Train(TrainingRun run, IReadOnlyList<Example> train, IReadOnlyList<Example> dev, CancellationToken cancellationToken = default)
    {
        var loop = run.Settings.Loop;
        var stopwatch = Stopwatch.StartNew();
        // spaCy's Corpus: each text tokenized by the pipeline's tokenizer, the annotation aligned onto its
        // tokens (unless [corpora] gold_preproc says to keep the corpus's tokens).
        var config = new ResolvedConfig(SpacyConfigDocument.Parse(run.ConfigText), "config.cfg");
        var tokenizer = TrainableSpacyPipeline.Tokenizer(run);
        train = GoldPreproc(config, "train_corpus") ? train : [.. train.Select(e => CorpusTokenization.Predicted(e, tokenizer))];
        var devPredicted = GoldPreproc(config, "dev_corpus") ? dev : [.. dev.Select(e => CorpusTokenization.Predicted(e, tokenizer))];
        // init_nlp's fix_random_seed, then nlp.initialize: the weights draw from numpy's generator (and
        // torch's is seeded, unless the pipeline trains in managed code).
        using var model = TrainableSpacyPipeline.Create(run, train, seed: loop.Seed);
        // train's fix_random_seed, before the first step: Python's generator (shuffles, cut sizes) and
        // numpy's (dropout masks) start again from the seed.
        var python = new PythonRandom(loop.Seed);
        model.Numpy.Seed(unchecked((uint)loop.Seed));
        using var optimizer = model.CreateOptimizer(loop);
        var devDocs = devPredicted.Select(e => TrainingDoc.ToPipelineDoc(e.Words, e.Spaces, e.Norms)).ToList();
        var trainDocs = new Dictionary<Example, TrainingDoc>(ReferenceEqualityComparer.Instance);
        foreach (var example in train)
        {
            trainDocs[example] = TrainingDoc.From(example);
        }

        var evalDirectory = Path.Combine(run.OutputDirectory ?? Path.GetTempPath(), $".eval-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            return TrainingLoop.Run(
                run,
                train,
                python,
                stopwatch,
                batch =>
                {
                    optimizer.ZeroGrad();
                    using var scope = model.IsManaged ? null : TorchScope();
                    var losses = model.Update(batch.Select(e => trainDocs[e]).ToList(), loop.Dropout, python);
                    if (losses.Count > 0)
                    {
                        optimizer.Step();
                    }

                    return losses;
                },
                (previous, losses) =>
                {
                    ReleaseFreeMemory();
                    var pipeline = model.WriteAndLoad(evalDirectory, previous, losses);
                    ReleaseFreeMemory();
                    var scores = model.Score(pipeline, dev, devDocs);
                    ReleaseFreeMemory();
                    return scores;
                },
                (folder, scores, losses, score, step, epoch) =>
                {
                    model.Write(Path.Combine(run.OutputDirectory!, folder), scores, losses, score, step, epoch);
                    ReleaseFreeMemory();
                },
                cancellationToken);
        }
        finally
        {
            if (Directory.Exists(evalDirectory))
            {
                Directory.Delete(evalDirectory, recursive: true);
            }
        }
    }

    // [corpora.train] or [corpora.dev] (as [training] train_corpus / dev_corpus name them) gold_preproc: train or evaluate on the corpus's own tokens.
    private static bool GoldPreproc(ResolvedConfig config, string corpusKey)
    {
        var section = config.String("training", corpusKey) ?? (corpusKey == "train_corpus" ? "corpora.train" : "corpora.dev");
        return config.Bool(section, "gold_preproc", false);
    }

    // An evaluation writes the weights and reads them back, several large arrays per weight table, and
    // then runs the reader over the dev set, on top of what the steps since the last one left: the GC's
    // garbage and free regions, and the C heap's free pages that torch's freed tensors left resident.
    // Without giving those back, each evaluation was the run's peak (food_ingredients: 403 MB, against
    // about 350 between evaluations). Before the write, between the write and the scoring, and after:
    // a blocking collection that compacts the heap and decommits its free regions (Aggressive; for a
    // managed run that heap is its memory), then glibc's trim. Each takes about 20 ms, against an
    // evaluation of a few hundred. Saving model-best gets one too: its copies of the weights and the
    // serialized tables (30-40 MB of large objects on food) were otherwise carried through the next
    // 200 steps, as the steps themselves make almost no large objects to start a full collection.
    private static void ReleaseFreeMemory()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.ReturnFreePages();
    }

    // Out of line: a managed run must not compile a call into torch (its static constructor loads the native libraries).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IDisposable TorchScope() => NewDisposeScope();
}
