using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// <c>spacy.TextCatEnsemble.v2</c> in torch, over the params of a planned tree: the bag-of-words
/// model's probabilities (<see cref="TorchBowTextcat"/>) beside an attention summary of the token
/// vectors (<c>ParametricAttention</c>: weights <c>exp(clip(x·Q, ±20))</c> normalised per document,
/// then <c>reduce_sum</c>, then <c>residual(Maxout >> LayerNorm >> Dropout)</c>), into Softmax
/// (exclusive) or Linear >> Logistic. The loss is spaCy's textcat loss; its gradient <c>scores -
/// truths</c> enters thinc's Softmax as the gradient of the logits (thinc's Softmax backprop does not
/// apply the softmax's Jacobian) and Logistic through its derivative.
/// </summary>
public sealed class TorchEnsembleTextcat
{
    private readonly ThincParameters _parameters;
    private readonly TorchBowTextcat _bow;
    private readonly bool _exclusive;
    private readonly bool _supportsMissingLabels;
    private readonly string _output;
    private readonly DropoutMasks _masks;

    public TorchEnsembleTextcat(ThincParameters parameters, int ngramSize, bool exclusive, bool supportsMissingLabels, DropoutMasks masks)
    {
        _parameters = parameters;
        _masks = masks;
        _exclusive = exclusive;
        _supportsMissingLabels = supportsMissingLabels;
        _bow = new TorchBowTextcat(parameters, ngramSize, exclusive, supportsMissingLabels);
        _output = exclusive ? "softmax" : "linear";
    }

    public IReadOnlyList<string> Labels => _parameters.Plan.Labels;

    /// <summary>
    /// The scores before the output activation ([docs, classes]) and after it, from the token vectors
    /// the encoder gives for the batch's non-empty documents.
    /// </summary>
    public (Tensor Logits, Tensor Probabilities) Forward(IReadOnlyList<TrainingDoc> docs, Func<IReadOnlyList<TrainingDoc>, BatchLayout, Tensor> encode, bool train, double dropout)
    {
        // The encoder's output outlives this call (a listener's tok2vec reads its gradient after backward).
        var nonEmpty = Enumerable.Range(0, docs.Count).Where(d => docs[d].Length > 0).ToList();
        var subset = nonEmpty.Select(d => docs[d]).ToList();
        var layout = new BatchLayout(subset.Select(d => d.Length).ToList());
        var tokens = nonEmpty.Count > 0 ? encode(subset, layout) : null;
        using var scope = NewDisposeScope();
        var bow = _bow.Forward(docs);
        var device = bow.device;
        var q = _parameters["attention.Q"];
        var width = q.shape[0];
        var summary = torch.zeros([docs.Count, width], device: device);
        if (tokens is not null)
        {
            var owners = new long[layout.Total];
            for (var i = 0; i < subset.Count; i++)
            {
                Array.Fill(owners, nonEmpty[i], layout.Starts[i], layout.Lengths[i]);
            }

            using var owner = torch.tensor(owners, device: device);

            // thinc's softmax_sequences clips the logits for stability; its backprop passes through the clip.
            var logits = tokens.matmul(q);
            var clipped = logits.Plus(logits.ClampTo(-20, 20).Minus(logits).detach());
            var weights = clipped.exp();
            var totals = torch.zeros([docs.Count], device: device).IndexAdd(0, owner, weights);
            var attention = weights / totals.index_select(0, owner);
            summary = summary.IndexAdd(0, owner, tokens * attention.unsqueeze(1));
        }

        var residual = summary.Plus(_masks.Apply(TorchTok2Vec.NormalizedMaxout(_parameters, summary, ""), train, dropout));
        var scores = torch.nn.functional.linear(torch.cat([bow, residual], 1), _parameters[$"{_output}.W"], _parameters[$"{_output}.b"]);
        var probabilities = _exclusive ? scores.softmax(1) : scores.sigmoid();
        return (scores.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope());
    }

    /// <summary>The surrogate to backpropagate (its gradient is spaCy's) and the loss to report; null when no doc has a label.</summary>
    public (Tensor Surrogate, double Loss)? Update(IReadOnlyList<TrainingDoc> docs, Func<IReadOnlyList<TrainingDoc>, BatchLayout, Tensor> encode, double dropout)
    {
        if (TextcatTargets.Of(docs, Labels, _supportsMissingLabels) is not { } truths)
        {
            return null;
        }

        var (logits, probabilities) = Forward(docs, encode, train: true, dropout);
        var (d_scores, loss) = TorchBowTextcat.Gradient(probabilities, truths);
        using (d_scores)
        {
            // Softmax: d_scores is the logits' gradient; Logistic: through the sigmoid's derivative.
            var surrogate = _exclusive ? (logits * d_scores).sum() : (probabilities * d_scores).sum();
            return (surrogate, loss);
        }
    }
}
