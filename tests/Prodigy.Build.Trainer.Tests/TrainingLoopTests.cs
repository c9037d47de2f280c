using System.Diagnostics;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// The training loop and batcher decide what spaCy's do: the same batches in the same order for the
/// same seed (expected values from spaCy's own minibatch_by_words tests and from CPython 3.11).
/// </summary>
[Collection(TorchCollection.Name)]
public class TrainingLoopTests(TorchRuntimeFixture fixture)
{
    private static LoopSettings Loop(double start = 1000, double stop = 1000, double compound = 1.0, bool discardOversize = false, int maxEpochs = 0, int maxSteps = 0, int patience = 0, int evalFrequency = 1000) =>
        new(Seed: 0, Dropout: 0, MaxEpochs: maxEpochs, MaxSteps: maxSteps, Patience: patience, EvalFrequency: evalFrequency,
            LearnRate: 0.001, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, L2: 0.01, L2IsWeightDecay: true, GradClip: 1.0,
            BatchStart: start, BatchStop: stop, BatchCompound: compound, BatchTolerance: 0.2, DiscardOversize: discardOversize);

    // spaCy's test_util_minibatch (discard_oversize=True) and test_util_minibatch_oversize (False), size 1000, tolerance 0.2.
    [Theory]
    [InlineData(true, new[] { 400, 400, 199 }, new[] { 3 })]
    [InlineData(true, new[] { 400, 400, 199, 3 }, new[] { 4 })]
    [InlineData(true, new[] { 400, 400, 199, 3, 200 }, new[] { 3, 2 })]
    [InlineData(true, new[] { 400, 400, 199, 3, 1 }, new[] { 5 })]
    [InlineData(true, new[] { 400, 400, 199, 3, 1, 1500 }, new[] { 5 })]
    [InlineData(true, new[] { 400, 400, 199, 3, 1, 200 }, new[] { 3, 3 })]
    [InlineData(true, new[] { 400, 400, 199, 3, 1, 999 }, new[] { 3, 3 })]
    [InlineData(true, new[] { 400, 400, 199, 3, 1, 999, 999 }, new[] { 3, 2, 1, 1 })]
    [InlineData(true, new[] { 1, 2, 999 }, new[] { 3 })]
    [InlineData(true, new[] { 1, 2, 999, 1 }, new[] { 4 })]
    [InlineData(true, new[] { 1, 200, 999, 1 }, new[] { 2, 2 })]
    [InlineData(true, new[] { 1, 999, 200, 1 }, new[] { 2, 2 })]
    [InlineData(false, new[] { 400, 4000, 199 }, new[] { 1, 2 })]
    [InlineData(false, new[] { 400, 400, 199, 3000, 200 }, new[] { 1, 4 })]
    [InlineData(false, new[] { 400, 400, 199, 3, 1, 1500 }, new[] { 1, 5 })]
    [InlineData(false, new[] { 400, 400, 199, 3000, 2000, 200, 200 }, new[] { 1, 1, 3, 2 })]
    [InlineData(false, new[] { 1, 2, 9999 }, new[] { 1, 2 })]
    [InlineData(false, new[] { 2000, 1, 2000, 1, 1, 1, 2000 }, new[] { 1, 1, 1, 4 })]
    public void BatchesAsSpacysMinibatchByWords(bool discardOversize, int[] lengths, int[] expected)
    {
        var batches = new Batcher(Loop(discardOversize: discardOversize)).Batches(lengths, n => n).ToList();
        Assert.Equal(expected, batches.Select(b => b.Count));
    }

    [Fact]
    public void TheCompoundingSizeIsOneScheduleAcrossEpochsAndNotRounded()
    {
        // compounding(10, 100, 1.5) yields 10, 15, 22.5, 33.75, 50.625, 75.9375, ...: one-word items fill each
        // target (22 of 22.5), and a second pass over the data goes on with the schedule (33.75 next) instead of
        // restarting at 10; its last batch is what is left (37 of 120).
        var batcher = new Batcher(Loop(start: 10, stop: 100, compound: 1.5) with { BatchTolerance = 0 });
        Assert.Equal([10, 15, 22], batcher.Batches(Enumerable.Repeat(1, 47), n => n).Select(b => b.Count));
        Assert.Equal([33, 50, 37], batcher.Batches(Enumerable.Repeat(1, 120), n => n).Select(b => b.Count));
    }

    [Fact]
    public void ShufflesOneListPerEpochAsSpacyTrainDoes()
    {
        // random.seed(0); l = list(range(10)); random.shuffle(l) -> [7, 8, 1, 5, 3, 4, 2, 0, 9, 6];
        // random.shuffle(l) again (spaCy shuffles the same list each epoch) -> [6, 3, 9, 2, 7, 8, 0, 1, 5, 4]
        var examples = Enumerable.Range(0, 10).Select(i => new Example { Words = [$"w{i}"], Spaces = [false], Norms = [$"w{i}"] }).ToList();
        var seen = new List<int>();
        Run(examples, Loop(maxEpochs: 2), batch => seen.AddRange(batch.Select(e => examples.IndexOf(e))));
        Assert.Equal([7, 8, 1, 5, 3, 4, 2, 0, 9, 6, 6, 3, 9, 2, 7, 8, 0, 1, 5, 4], seen);
    }

    [Fact]
    public void EachBatchArrivesSortedByLengthAndEmptyDocumentsAreSkipped()
    {
        var lengths = new[] { 5, 0, 2, 9, 1, 3 };
        var examples = lengths.Select(n => new Example
        {
            Words = Enumerable.Repeat("w", n).ToList(),
            Spaces = Enumerable.Repeat(true, n).ToList(),
            Norms = Enumerable.Repeat("w", n).ToList(),
        }).ToList();
        var batches = new List<List<int>>();
        Run(examples, Loop(maxEpochs: 1), batch => batches.Add(batch.Select(e => e.Length).ToList()));
        var batch = Assert.Single(batches);
        Assert.Equal([1, 2, 3, 5, 9], batch);
    }

    [Fact]
    public void MaxStepsIsTheLastStepNumberAndPatienceCountsFromTheFirstBest()
    {
        var examples = Enumerable.Range(0, 4).Select(i => new Example { Words = [$"w{i}"], Spaces = [false], Norms = [$"w{i}"] }).ToList();
        var updates = 0;
        var result = Run(examples, Loop(start: 1, stop: 1, maxSteps: 10), _ => updates++);
        Assert.Equal(11, updates); // steps 0..10, as train_while_improving breaks once step >= max_steps

        // Scores 1, 2, 2, 2, ... from steps 0, 1, 2...: the first 2 (step 1) is the best step; patience 3 stops after step 4.
        var evaluations = 0;
        var saves = new List<int>();
        updates = 0;
        result = Run(
            examples,
            Loop(start: 1, stop: 1, patience: 3, evalFrequency: 1),
            _ => updates++,
            () => evaluations++ == 0 ? 1 : 2,
            saves);
        Assert.Equal(5, updates);
        Assert.Equal(1, result.BestStep);
        // spaCy writes model-best on every evaluation that equals the best so far, not only on improvements.
        Assert.Equal([0, 1, 2, 3, 4], saves);
    }

    private TrainingResult Run(List<Example> examples, LoopSettings loop, Action<IReadOnlyList<Example>> onBatch, Func<double>? score = null, List<int>? saves = null)
    {
        // TrainingRun's default device is torch's CPU: the native runtime must be loaded.
        Assert.NotNull(fixture.Info);
        var document = SpacyConfigDocument.Parse(TinyData.Config(["textcat"]).Text);
        var settings = TrainingSettings.From(new ResolvedConfig(document, "tiny.cfg")) with
        {
            Loop = loop,
            ScoreWeights = [new KeyValuePair<string, double?>("cats_score", 1.0)],
        };
        var run = new TrainingRun { Settings = settings, ConfigText = document.ToString(), Log = _ => { }, OutputDirectory = saves is null ? null : Path.GetTempPath() };
        return TrainingLoop.Run(
            run,
            examples,
            new PythonRandom(loop.Seed),
            Stopwatch.StartNew(),
            batch =>
            {
                onBatch(batch);
                return new Dictionary<string, double> { ["textcat"] = 0 };
            },
            (_, _) => new ScoreSet { Values = { ["cats_score"] = score?.Invoke() ?? 0 } },
            (folder, _, _, _, step, _) =>
            {
                if (folder == "model-best")
                {
                    saves?.Add(step);
                }
            },
            CancellationToken.None);
    }
}
