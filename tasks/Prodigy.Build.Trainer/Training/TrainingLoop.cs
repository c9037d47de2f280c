using System.Diagnostics;
using System.Globalization;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Scoring;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// spaCy's training loop (<c>create_train_batches</c> and <c>train_while_improving</c>), whatever model
/// it drives: one list of the examples shuffled in place at each epoch with Python's generator (so the
/// orders compose from epoch to epoch, as in spaCy), batched by words, each batch sorted by length as
/// <c>subdivide_batch</c> hands it over; an evaluation every eval_frequency steps (the first after step
/// 0); model-best written whenever the weighted score equals the best so far (spaCy re-saves on ties),
/// while patience counts from the first step that reached it; a stop after the step numbered max_steps,
/// at max_epochs, after patience steps without improvement, or on cancellation (then no model-last).
/// The model is reached through callbacks.
/// </summary>
internal static class TrainingLoop
{
    /// <param name="run">The run: settings, log and output folder.</param>
    /// <param name="train">The training examples.</param>
    /// <param name="random">Python's <c>random</c> module as <c>fix_random_seed</c> leaves it: the epochs' shuffles draw from it (and so may the model's updates, between them, as spaCy's parser does).</param>
    /// <param name="stopwatch">Started when the run began (the result's seconds).</param>
    /// <param name="update">One update on a batch; the losses by component (empty when nothing was updated).</param>
    /// <param name="evaluate">The dev scores now, given the previous evaluation's scores and the losses since it.</param>
    /// <param name="save">Saves the model into a folder of the output: (folder, scores, losses, weighted score, step, epoch).</param>
    /// <param name="cancellationToken">Stops the run at the next batch; model-best stays, no model-last is written.</param>
    public static TrainingResult Run(
        TrainingRun run,
        IReadOnlyList<Example> train,
        PythonRandom random,
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
        // spaCy's Corpus skips empty documents (the trainer's corpus reader does too; this holds for examples
        // given to PipelineTrainer directly); a negative max_epochs streams the corpus unshuffled.
        var examples = train.Where(e => e.Length > 0).ToList();
        while (!stop)
        {
            if (loop.MaxEpochs >= 0)
            {
                random.Shuffle(examples);
            }

            var any = false;
            foreach (var batch in batcher.Batches(examples))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                    stop = true;
                    break;
                }

                any = true;
                foreach (var (component, value) in update(batch.OrderBy(e => e.Length).ToList()))
                {
                    losses[component] = losses.GetValueOrDefault(component) + value;
                }

                if (step % loop.EvalFrequency == 0)
                {
                    lastScores = evaluate(lastScores, losses);
                    lastScore = lastScores.Weighted(settings.ScoreWeights);
                    table.Row(epoch, step, losses, lastScores.Values, lastScore);
                    if (lastScore >= best)
                    {
                        if (lastScore > best)
                        {
                            best = lastScore;
                            bestStep = step;
                        }

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

                var last = step;
                step++;
                if ((loop.Patience > 0 && last - bestStep >= loop.Patience) || (loop.MaxSteps > 0 && last >= loop.MaxSteps))
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
