using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// spaCy's batch_by_words.v1 with a compounding size: batches of about <c>size</c> words, the size
/// growing from <c>start</c> by <c>compound</c> per batch up to <c>stop</c>; a batch may run
/// <c>tolerance</c> over its size; an example longer than the size goes alone (or is dropped with
/// discard_oversize).
/// </summary>
public sealed class Batcher(LoopSettings settings)
{
    private double _size = settings.BatchStart;

    public IEnumerable<List<Example>> Batches(IReadOnlyList<Example> examples)
    {
        var batch = new List<Example>();
        var words = 0;
        var target = NextSize();
        foreach (var example in examples)
        {
            var length = Math.Max(example.Length, 1);
            if (length > target * (1 + settings.BatchTolerance))
            {
                if (!settings.DiscardOversize)
                {
                    yield return [example];
                    target = NextSize();
                }

                continue;
            }

            if (words + length > target * (1 + settings.BatchTolerance) && batch.Count > 0)
            {
                yield return batch;
                batch = [];
                words = 0;
                target = NextSize();
            }

            batch.Add(example);
            words += length;
            if (words >= target)
            {
                yield return batch;
                batch = [];
                words = 0;
                target = NextSize();
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private int NextSize()
    {
        var size = (int)Math.Round(_size);
        _size = settings.BatchStart <= settings.BatchStop
            ? Math.Min(_size * settings.BatchCompound, settings.BatchStop)
            : Math.Max(_size * settings.BatchCompound, settings.BatchStop);
        return Math.Max(size, 1);
    }
}
