using System.Diagnostics;
using System.Globalization;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Scoring;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// spaCy's training loop, whatever model it drives: the examples shuffled each epoch, batched by
/// words; an evaluation every eval_frequency steps (the first after step 0), model-best whenever the
/// weighted score improves; a stop at max_steps, max_epochs, after patience steps without
/// improvement, or on cancellation (then no model-last). The model is reached through callbacks.
/// </summary>
internal static class TrainingLoop
{
    /// <param name="run">The run: settings, log and output folder.</param>
    /// <param name="train">The training examples.</param>
    /// <param name="stopwatch">Started when the run began (the result's seconds).</param>
    /// <param name="update">One update on a batch; the losses by component (empty when nothing was updated).</param>
    /// <param name="evaluate">The dev scores now, given the previous evaluation's scores and the losses since it.</param>
    /// <param name="save">Saves the model into a folder of the output: (folder, scores, losses, weighted score, step, epoch).</param>
    /// <param name="cancellationToken">Stops the run at the next batch; model-best stays, no model-last is written.</param>
    public static TrainingResult Run(
        TrainingRun run,
        IReadOnlyList<Example> train,
        Stopwatch stopwatch,
        Func<IReadOnlyList<Example>, IReadOnlyDictionary<string, double>> update,
        Func<ScoreSet, IReadOnlyDictionary<string, double>, ScoreSet> evaluate,
        Action<string, ScoreSet, IReadOnlyDictionary<string, double>, double, int, int> save,
        CancellationToken cancellationToken)
    {
        var settings = run.Settings;
        var loop = settings.Loop;
        var components = settings.Pipeline.ToList();
        run.Log($"Pipeline: [{string.Join(", ", components.Select(c => $"'{c}'"))}]");
        run.Log("Initial learn rate: " + loop.LearnRate.ToString(CultureInfo.InvariantCulture));
        var scoreColumns = settings.ScoreWeights.Where(w => w.Value is not null).Select(w => w.Key).ToList();
        var table = new TrainingLog(run.Log, components, scoreColumns);
        table.Header();

        var shuffle = new Random(loop.Seed);
        var losses = components.ToDictionary(c => c, _ => 0.0, StringComparer.Ordinal);
        var best = double.NegativeInfinity;
        var bestStep = 0;
        var bestScores = new ScoreSet();
        var lastScores = bestScores;
        var lastScore = 0.0;
        var step = 0;
        var epoch = 0;
        var batcher = new Batcher(loop);
        var cancelled = false;
        var stop = false;
        while (!stop)
        {
            var order = train.ToArray();
            shuffle.Shuffle(order);
            var any = false;
            foreach (var batch in batcher.Batches(order))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    stop = true;
                    break;
                }

                any = true;
                foreach (var (component, value) in update(batch))
                {
                    losses[component] = losses.GetValueOrDefault(component) + value;
                }

                if (step % loop.EvalFrequency == 0)
                {
                    lastScores = evaluate(lastScores, losses);
                    lastScore = lastScores.Weighted(settings.ScoreWeights);
                    table.Row(epoch, step, losses, lastScores.Values, lastScore);
                    if (lastScore > best)
                    {
                        best = lastScore;
                        bestStep = step;
                        bestScores = lastScores;
                        if (run.OutputDirectory is not null)
                        {
                            save("model-best", lastScores, losses, lastScore, step, epoch);
                        }
                    }

                    foreach (var key in losses.Keys.ToList())
                    {
                        losses[key] = 0;
                    }
                }

                step++;
                if ((loop.MaxSteps > 0 && step >= loop.MaxSteps) || (loop.Patience > 0 && step - bestStep >= loop.Patience))
                {
                    stop = true;
                    break;
                }
            }

            if (!any)
            {
                break;
            }

            epoch++;
            if (loop.MaxEpochs > 0 && epoch >= loop.MaxEpochs)
            {
                stop = true;
            }
        }

        if (run.OutputDirectory is not null && !cancelled && step > 0)
        {
            save("model-last", lastScores, losses, lastScore, step, epoch);
        }

        return new TrainingResult(double.IsNegativeInfinity(best) ? 0 : best, bestStep, bestScores, step, epoch, stopwatch.Elapsed.TotalSeconds, cancelled);
    }
}
