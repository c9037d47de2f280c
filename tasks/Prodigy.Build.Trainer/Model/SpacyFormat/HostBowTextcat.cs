namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// <c>spacy.TextCatBOW.v2</c> trained in managed code, as thinc computes it on the CPU: SparseLinear's
/// scores start from the bias and add each key's two weights in key order (<c>set_scoresC</c>), then
/// thinc's softmax (<c>exp(x - max) / sum</c>) or logistic (<c>1 / (1 + exp(-x))</c>); the loss is
/// spaCy's textcat loss (gradient <c>(scores - truths) x known</c>, value its mean square), backpropagated
/// through <c>backprop_softmax</c> (<c>Y dY - Y sum(Y dY)</c>) or the logistic's <c>dY Y (1 - Y)</c> into
/// the dense gradients SparseLinear gives thinc's optimizer (<c>set_gradientC</c>). No TorchSharp: a
/// pipeline of these trains in a process without the native torch libraries.
/// </summary>
public sealed class HostBowTextcat
{
    private readonly HostParameter _weights;
    private readonly HostParameter _bias;
    private readonly int _classes;
    private readonly long _length;
    private readonly int _ngramSize;
    private readonly bool _exclusive;
    private readonly bool _supportsMissingLabels;

    public HostBowTextcat(HostParameters parameters, int ngramSize, bool exclusive, bool supportsMissingLabels)
    {
        Labels = parameters.Plan.Labels;
        _weights = parameters["sparse_linear.W"];
        _bias = parameters["sparse_linear.b"];
        _classes = _bias.Weights.Length;
        _length = _weights.Weights.Length / Math.Max(1, _classes);
        _ngramSize = ngramSize;
        _exclusive = exclusive;
        _supportsMissingLabels = supportsMissingLabels;
    }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>The probabilities, row-major [docs, classes].</summary>
    public float[] Forward(IReadOnlyList<TrainingDoc> docs)
    {
        var w = _weights.Weights;
        var b = _bias.Weights;
        var classes = _classes;
        var output = new float[docs.Count * classes];
        for (var d = 0; d < docs.Count; d++)
        {
            var scores = output.AsSpan(d * classes, classes);
            b.CopyTo(scores);
            var (rows, values) = Features(docs[d]);
            for (var k = 0; k < rows.Length; k++)
            {
                var row = rows[k];
                var value = values[k];
                for (var c = 0; c < classes; c++)
                {
                    scores[c] += w[row + c] * value;
                }
            }

            if (_exclusive)
            {
                Softmax(scores);
            }
            else
            {
                for (var c = 0; c < classes; c++)
                {
                    scores[c] = 1f / (1f + MathF.Exp(-scores[c]));
                }
            }
        }

        return output;
    }

    /// <summary>
    /// spaCy's update of the component on a batch: the gradients are added to the params' and the loss
    /// returned; null (and no gradient) when no doc has a label.
    /// </summary>
    public double? Update(IReadOnlyList<TrainingDoc> docs)
    {
        if (TextcatTargets.Of(docs, Labels, _supportsMissingLabels) is not { } truths)
        {
            return null;
        }

        var classes = _classes;
        var probabilities = Forward(docs);
        var d_scores = new float[probabilities.Length];
        var squares = 0.0;
        for (var i = 0; i < d_scores.Length; i++)
        {
            d_scores[i] = (probabilities[i] - truths.Truth[i]) * truths.Known[i];
            squares += d_scores[i] * d_scores[i];
        }

        var loss = (float)(squares / Math.Max(1, d_scores.Length));
        var dW = _weights.Gradient;
        var db = _bias.Gradient;
        Span<float> d_inputs = stackalloc float[classes];
        for (var d = 0; d < docs.Count; d++)
        {
            var y = probabilities.AsSpan(d * classes, classes);
            var dY = d_scores.AsSpan(d * classes, classes);
            if (_exclusive)
            {
                var sum = 0f;
                for (var c = 0; c < classes; c++)
                {
                    d_inputs[c] = y[c] * dY[c];
                    sum += d_inputs[c];
                }

                for (var c = 0; c < classes; c++)
                {
                    d_inputs[c] -= y[c] * sum;
                }
            }
            else
            {
                for (var c = 0; c < classes; c++)
                {
                    d_inputs[c] = dY[c] * (y[c] * (1f - y[c]));
                }
            }

            var (rows, values) = Features(docs[d]);
            for (var k = 0; k < rows.Length; k++)
            {
                var row = rows[k];
                var value = values[k];
                for (var c = 0; c < classes; c++)
                {
                    dW[row + c] += d_inputs[c] * value;
                }
            }

            for (var c = 0; c < classes; c++)
            {
                db[c] += d_inputs[c];
            }
        }

        return loss;
    }

    // thinc's Ops.softmax over one row: shifted by the max, exponentiated, divided by the sum.
    private static void Softmax(Span<float> scores)
    {
        var max = float.NegativeInfinity;
        foreach (var score in scores)
        {
            max = Math.Max(max, score);
        }

        var sum = 0f;
        for (var c = 0; c < scores.Length; c++)
        {
            scores[c] = MathF.Exp(scores[c] - max);
            sum += scores[c];
        }

        for (var c = 0; c < scores.Length; c++)
        {
            scores[c] /= sum;
        }
    }

    private (long[] Rows, float[] Values) Features(TrainingDoc doc) =>
        doc.Cached(this, () => BowFeatures.Of(doc.Doc, _ngramSize, _length)).ToValueTuple();
}
