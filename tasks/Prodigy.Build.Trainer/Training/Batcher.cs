using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// spaCy's <c>batch_by_words.v1</c> (<c>minibatch_by_words</c>) with thinc's <c>compounding.v1</c> size,
/// decision for decision: a batch takes examples while it stays within the target size; the next ones
/// that fit in the tolerance margin wait in an overflow that opens the next batch; an example longer than
/// size + tolerance goes alone (or is dropped with discard_oversize). The target is the schedule's float,
/// not rounded, and the schedule is one generator for the whole run, as spaCy resolves it once: each
/// epoch's first batch takes the next size, it does not restart at <c>start</c>.
/// </summary>
public sealed class Batcher(LoopSettings settings)
{
    private double _size = settings.BatchStart;

    public IEnumerable<List<Example>> Batches(IReadOnlyList<Example> examples) => Batches(examples, e => e.Length);

    /// <summary>The batches of <paramref name="items"/>, each item counted as <paramref name="length"/> words.</summary>
    public IEnumerable<List<T>> Batches<T>(IEnumerable<T> items, Func<T, int> length)
    {
        var target = NextSize();
        var tolerance = target * settings.BatchTolerance;
        var batch = new List<T>();
        var overflow = new List<T>();
        var batchWords = 0;
        var overflowWords = 0;
        foreach (var item in items)
        {
            var words = length(item);
            if (words > target + tolerance)
            {
                if (!settings.DiscardOversize)
                {
                    yield return [item];
                }
            }
            else if (overflowWords == 0 && batchWords + words <= target)
            {
                batch.Add(item);
                batchWords += words;
            }
            else if (batchWords + overflowWords + words <= target + tolerance)
            {
                overflow.Add(item);
                overflowWords += words;
            }
            else
            {
                if (batch.Count > 0)
                {
                    yield return batch;
                }

                target = NextSize();
                tolerance = target * settings.BatchTolerance;
                batch = overflow;
                batchWords = overflowWords;
                overflow = [];
                overflowWords = 0;
                if (batchWords + words <= target)
                {
                    batch.Add(item);
                    batchWords += words;
                }
                else if (batchWords + words <= target + tolerance)
                {
                    overflow.Add(item);
                    overflowWords += words;
                }
                else
                {
                    if (batch.Count > 0)
                    {
                        yield return batch;
                    }

                    target = NextSize();
                    tolerance = target * settings.BatchTolerance;
                    batch = [item];
                    batchWords = words;
                }
            }
        }

        batch.AddRange(overflow);
        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    // thinc's compounding.v1: yield clip(curr, start, stop), then curr *= compound.
    private double NextSize()
    {
        var size = settings.BatchStart <= settings.BatchStop
            ? Math.Min(_size, settings.BatchStop)
            : Math.Max(_size, settings.BatchStop);
        _size *= settings.BatchCompound;
        return size;
    }
}
