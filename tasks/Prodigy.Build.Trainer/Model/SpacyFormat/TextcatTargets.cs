using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>What every text classifier of the trainer reads from a batch, without TorchSharp: spaCy's targets and the bag-of-words features.</summary>
internal static class TextcatTargets
{
    /// <summary>
    /// spaCy's textcat targets of a batch (<c>_examples_to_truth</c>): each doc's value per label, and
    /// whether it is known (a label a multilabel doc does not give is missing; the exclusive textcat
    /// reads it as 0); null when no doc gives any label.
    /// </summary>
    public static (float[] Truth, float[] Known)? Of(IReadOnlyList<TrainingDoc> docs, IReadOnlyList<string> labels, bool supportsMissingLabels)
    {
        var classes = labels.Count;
        var truth = new float[docs.Count * classes];
        var known = new float[docs.Count * classes];
        var any = false;
        for (var d = 0; d < docs.Count; d++)
        {
            var cats = docs[d].Example.Cats;
            for (var c = 0; c < classes; c++)
            {
                if (cats.TryGetValue(labels[c], out var value))
                {
                    truth[(d * classes) + c] = (float)value;
                    known[(d * classes) + c] = 1;
                    any = true;
                }
                else if (!supportsMissingLabels)
                {
                    known[(d * classes) + c] = 1;
                }
            }
        }

        return any ? (truth, known) : null;
    }
}

/// <summary>
/// thinc's <c>extract_ngrams</c> then <c>SparseLinear</c>'s v1 indexing: each unique n-gram key
/// (ascending) with its count, at its two hashed rows of a table of <c>length</c> rows; class c of a
/// row reads the weight c places on.
/// </summary>
internal static class BowFeatures
{
    /// <summary>The rows (two per key, in key order) and the value (the key's count) each row is read with.</summary>
    public static Tuple<long[], float[]> Of(PipelineDoc doc, int ngramSize, long length)
    {
        var ids = doc.AttrIds("ORTH");
        var keys = new ulong[BowTextClassifierModel.NgramKeyCount(ids.Length, ngramSize)];
        BowTextClassifierModel.SortedNgramKeys(ids, ngramSize, keys);
        var rows = new List<long>();
        var values = new List<float>();
        var mask = (uint)(length - 1);
        for (var i = 0; i < keys.Length;)
        {
            var run = 1;
            while (i + run < keys.Length && keys[i + run] == keys[i])
            {
                run++;
            }

            var (first, second) = BowTextClassifierModel.KeyRows(keys[i], mask);
            rows.Add(first);
            values.Add(run);
            rows.Add(second);
            values.Add(run);
            i += run;
        }

        return Tuple.Create(rows.ToArray(), values.ToArray());
    }
}
