using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// <c>spacy.SpanCategorizer.v1</c> in torch, over the params of a planned tree: the n-gram
/// suggester's spans of each document, <c>spacy.mean_max_reducer.v1</c> (the last, first, mean and
/// max token vector of each span side by side, a normalized Maxout, dropout) and
/// <c>spacy.LinearLogistic.v1</c>. The loss is spaCy 3.5's spancat loss: every suggested span of every
/// document is a target, 1 for the labels of the gold spans with its exact offsets, 0 otherwise
/// (a document without the spans key has no gold span, so all its suggestions are negatives); the
/// gradient sent into the logistic is <c>scores - target</c>, the loss its sum of squares.
/// </summary>
public sealed class TorchSpancat(ThincParameters parameters, string spansKey, IReadOnlyList<int> suggesterSizes, DropoutMasks masks)
{
    private readonly Dictionary<string, int> _labelIndex = parameters.Plan.Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);

    public IReadOnlyList<string> Labels => parameters.Plan.Labels;

    /// <summary>The suggested spans of a batch in spaCy's order: per document, per size, every start.</summary>
    public List<(int Doc, int Start, int End)> Suggest(IReadOnlyList<TrainingDoc> docs)
    {
        var spans = new List<(int, int, int)>();
        for (var d = 0; d < docs.Count; d++)
        {
            foreach (var size in suggesterSizes)
            {
                for (var start = 0; start + size <= docs[d].Length; start++)
                {
                    spans.Add((d, start, start + size));
                }
            }
        }

        return spans;
    }

    /// <summary>
    /// The probabilities [spans, labels] of <paramref name="spans"/>, from the packed token vectors
    /// of the documents (<paramref name="layout"/>).
    /// </summary>
    public Tensor Forward(Tensor tokens, BatchLayout layout, IReadOnlyList<(int Doc, int Start, int End)> spans, bool train, double dropout)
    {
        using var scope = NewDisposeScope();
        var device = tokens.device;

        // Spans grouped by length: each group gathers a (spans, length, width) block, so the four
        // reductions are plain tensor ops; the rows are put back in suggestion order afterwards.
        var reduced = new List<Tensor>();
        var order = new List<long>();
        foreach (var group in spans.Select((s, i) => (Span: s, Index: i)).GroupBy(s => s.Span.End - s.Span.Start).OrderBy(g => g.Key))
        {
            var length = group.Key;
            var members = group.ToList();
            var index = new long[members.Count * length];
            for (var m = 0; m < members.Count; m++)
            {
                var (doc, start, _) = members[m].Span;
                for (var k = 0; k < length; k++)
                {
                    index[(m * length) + k] = layout.Starts[doc] + start + k;
                }

                order.Add(members[m].Index);
            }

            var rows = tokens.index_select(0, torch.tensor(index, device: device)).view(members.Count, length, tokens.shape[1]);
            reduced.Add(torch.cat([rows.select(1, length - 1), rows.select(1, 0), rows.mean([1]), rows.max(1).values], 1));
        }

        var grouped = torch.cat(reduced, 0);
        var inverse = new long[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            inverse[order[i]] = i;
        }

        var features = grouped.index_select(0, torch.tensor(inverse, device: device));
        var hidden = masks.Apply(TorchTok2Vec.NormalizedMaxout(parameters, features, "reducer."), train, dropout);
        var scores = torch.nn.functional.linear(hidden, parameters["scorer.linear.W"], parameters["scorer.linear.b"]).sigmoid();
        return scores.MoveToOuterDisposeScope();
    }

    /// <summary>spaCy's target for the suggestions: 1 where a gold span of the key has the suggestion's offsets and the label.</summary>
    public float[] Target(IReadOnlyList<TrainingDoc> docs, IReadOnlyList<(int Doc, int Start, int End)> spans)
    {
        var labels = Labels.Count;
        var target = new float[spans.Count * labels];
        var rows = new Dictionary<(int, int, int), int>();
        for (var i = 0; i < spans.Count; i++)
        {
            rows[spans[i]] = i;
        }

        for (var d = 0; d < docs.Count; d++)
        {
            if (!docs[d].Example.SpanGroups.TryGetValue(spansKey, out var gold))
            {
                continue;
            }

            foreach (var span in gold)
            {
                if (rows.TryGetValue((d, span.Start, span.End), out var row) && _labelIndex.TryGetValue(span.Label, out var label))
                {
                    target[(row * labels) + label] = 1f;
                }
            }
        }

        return target;
    }

    /// <summary>
    /// The surrogate to backpropagate (half the squared error of the probabilities: its gradient into
    /// the logits is thinc's Logistic backprop of <c>scores - target</c>) and spaCy's loss; null when
    /// the batch has no suggestion (spaCy returns before the model then).
    /// </summary>
    public (Tensor Surrogate, double Loss)? Update(IReadOnlyList<TrainingDoc> docs, Func<IReadOnlyList<TrainingDoc>, BatchLayout, Tensor> encode, double dropout)
    {
        docs = docs.Where(d => d.Length > 0).ToList();
        var spans = Suggest(docs);
        if (spans.Count == 0)
        {
            return null;
        }

        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        var tokens = encode(docs, layout);
        var scores = Forward(tokens, layout, spans, train: true, dropout);
        using var target = torch.tensor(Target(docs, spans), [spans.Count, Labels.Count], device: scores.device);
        var difference = scores.Minus(target);
        var squared = (difference * difference).sum();
        var loss = squared.item<float>();
        return (squared.Times(0.5), loss);
    }
}
