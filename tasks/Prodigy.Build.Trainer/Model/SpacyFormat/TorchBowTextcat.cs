using Prodigy.Build.Core.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// <c>spacy.TextCatBOW.v2</c> in torch: thinc's <c>extract_ngrams</c> (ORTH ids and MurmurHash64A of
/// each n-gram's ids, unique, counted) into <c>SparseLinear</c> with v1 indexing (each key's two
/// hashes pick rows; class c reads the weight c places on), then softmax or logistic. The loss is
/// spaCy's textcat loss: gradient <c>scores - truths</c> where a label is known, value its mean square.
/// </summary>
public sealed class TorchBowTextcat(ThincParameters parameters, int ngramSize, bool exclusive, bool supportsMissingLabels)
{
    private readonly int _classes = (int)parameters["sparse_linear.b"].shape[0];
    private readonly long _length = parameters["sparse_linear.W"].shape[0] / Math.Max(1, parameters["sparse_linear.b"].shape[0]);

    public IReadOnlyList<string> Labels => parameters.Plan.Labels;

    /// <summary>The probabilities: [docs, classes].</summary>
    public Tensor Forward(IReadOnlyList<TrainingDoc> docs)
    {
        var w = parameters["sparse_linear.W"];
        var b = parameters["sparse_linear.b"];
        using var scope = NewDisposeScope();
        var rows = new List<long>();
        var values = new List<float>();
        var owners = new List<long>();
        for (var d = 0; d < docs.Count; d++)
        {
            var (docRows, docValues) = docs[d].Cached(this, () => BowFeatures.Of(docs[d].Doc, ngramSize, _length)).ToValueTuple();
            rows.AddRange(docRows);
            values.AddRange(docValues);
            for (var i = 0; i < docRows.Length; i++)
            {
                owners.Add(d);
            }
        }

        var scores = b.unsqueeze(0).expand(docs.Count, _classes);
        if (rows.Count > 0)
        {
            var device = w.device;
            var offsets = ScalarSafe.Arange(_classes, ScalarType.Int64, device).unsqueeze(0);
            var index = torch.tensor(rows.ToArray(), device: device).unsqueeze(1).Plus(offsets);
            var weighted = w.index_select(0, index.view(-1)).view(rows.Count, _classes) * torch.tensor(values.ToArray(), device: device).unsqueeze(1);
            scores = scores.Plus(torch.zeros([docs.Count, _classes], device: device).IndexAdd(0, torch.tensor(owners.ToArray(), device: device), weighted));
        }

        var probabilities = exclusive ? scores.softmax(1) : scores.sigmoid();
        return probabilities.MoveToOuterDisposeScope();
    }

    /// <summary>The surrogate to backpropagate (its gradient is spaCy's) and the loss to report; null when no doc has a label.</summary>
    public (Tensor Surrogate, double Loss)? Update(IReadOnlyList<TrainingDoc> docs)
    {
        if (TextcatTargets.Of(docs, Labels, supportsMissingLabels) is not { } truths)
        {
            return null;
        }

        var probabilities = Forward(docs);
        var (d_scores, loss) = Gradient(probabilities, truths);
        using (d_scores)
        {
            return ((probabilities * d_scores).sum(), loss);
        }
    }

    /// <summary>spaCy's textcat get_loss: the gradient <c>(scores - truths) x known</c> and its mean square.</summary>
    internal static (Tensor Gradient, double Loss) Gradient(Tensor probabilities, (float[] Truth, float[] Known) truths)
    {
        var shape = probabilities.shape;
        var device = probabilities.device;
        var d_scores = (probabilities.detach() - torch.tensor(truths.Truth, shape, device: device)) * torch.tensor(truths.Known, shape, device: device);
        return (d_scores, (d_scores * d_scores).mean().item<float>());
    }
}
