using System.Numerics.Tensors;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Text;

namespace Prodigy.Build.Trainer.Model.SpacyFormat;

/// <summary>
/// A fresh component's initial weights as spaCy's <c>nlp.initialize</c> draws them: thinc's
/// initializers (which always draw from numpy's global generator, on a GPU too) in the order the
/// layers initialize, which is the plan's order of params (an inline tok2vec, then the layers reading
/// it). HashEmbed tables uniform in ±0.1; Maxout, Linear and StaticVectors weights Glorot-uniform;
/// the parser's lower layer normal, then rescaled by spaCy's own LSUV-style init on random inputs;
/// LayerNorm gains one; everything else (biases, the parser's upper layer, SparseLinear, Softmax) zero.
/// </summary>
public static class ThincInitialization
{
    /// <summary>The component's initial params by key, drawing from <paramref name="numpy"/> as spaCy does.</summary>
    public static Dictionary<string, float[]> Draw(ComponentPlan plan, NumpyRandom numpy) => Draw(plan.Parameters, numpy);

    /// <summary>The initial values of <paramref name="parameters"/>, drawn in their order.</summary>
    internal static Dictionary<string, float[]> Draw(IEnumerable<ModelParameter> parameters, NumpyRandom numpy)
    {
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            var shape = parameter.Shape;
            var initial = new float[parameter.Size];
            values[parameter.Key] = initial;
            shapes[parameter.Key] = shape;
            var key = parameter.Key;
            // The layer and param, the last two parts of every key (embed.maxout.W -> maxout.W).
            switch (string.Join('.', key.Split('.')[^2..]))
            {
                case "layernorm.G":
                    initial.AsSpan().Fill(1f);
                    break;
                case "lower.W":
                    // PrecomputableAffine's init passes normal_init mean=sqrt(1.0 / nF * nI), which thinc's
                    // normal_init uses as the scale: sqrt(nI / nF) by Python's precedence.
                    numpy.FillNormal(initial, 0, Math.Sqrt(1.0 / shape[0] * shape[3]));
                    break;
                case "lower.pad":
                    numpy.FillNormal(initial, 0, 1.0);
                    // The last of the lower layer's params: its init goes on to rescale W and b.
                    RescaleLower(values["lower.W"], values["lower.b"], values["lower.pad"], shapes["lower.W"], numpy);
                    break;
                case "maxout.W" or "projection.W" or "static_vectors.W" or "linear.W":
                    // thinc's glorot_uniform_init: the bound is sqrt(6 / (shape[0] + shape[1])) whatever the
                    // rank, so a Maxout's W (nO, nP, nI) gets sqrt(6 / (nO + nP)).
                    var bound = Math.Sqrt(6.0 / (shape[0] + shape[1]));
                    numpy.FillUniform(initial, -bound, bound);
                    break;
                case var _ when key.EndsWith(".E", StringComparison.Ordinal):
                    numpy.FillUniform(initial, -0.1, 0.1);
                    break;
            }
        }

        return values;
    }

    /// <summary>
    /// spaCy's PrecomputableAffine init after the normal draws ("like layer-sequential unit variance, on
    /// whitened data it generates"): 5000 feature-id rows uniform in [0, 1000) and 5000 normal token
    /// vectors; then, at most ten times, the layer's output on them (its precomputed rows, pad first,
    /// scatter-added at the ids, plus b, max over the pieces) gives a variance and a mean: W divided by
    /// the root of the variance while it is off 1 by 0.01 or more, else b less the mean while that is
    /// off 0 by 0.01 or more, else done. The arithmetic is spaCy's, float32 where numpy's is.
    /// </summary>
    internal static void RescaleLower(float[] w, float[] b, float[] pad, long[] shape, NumpyRandom numpy)
    {
        const int samples = 5000;
        int nF = (int)shape[0], nO = (int)shape[1], nP = (int)shape[2], nI = (int)shape[3];
        var width = nO * nP;
        var perToken = nF * width;
        var ids = new int[samples * nF];
        for (var i = 0; i < ids.Length; i++)
        {
            // ids = alloc((5000, nF), "f"); ids += uniform(0, 1000); asarray(ids, "i"): float32, then truncated.
            ids[i] = (int)(float)numpy.Uniform(0, 1000);
        }

        var tokvecs = new float[samples * nI];
        numpy.FillNormal(tokvecs, 0, 1.0);

        var table = new float[samples * perToken];
        var vectors = new float[samples * width];
        for (var round = 0; round < 10; round++)
        {
            // predict: Yf = [pad; tokvecs[:-1] @ W^T] (5000 rows of nF x nO x nP), read as 5000 * nF rows of
            // nO x nP and scatter-added into 5000 state vectors at ids.flatten().
            pad.CopyTo(table, 0);
            for (var t = 0; t < samples - 1; t++)
            {
                var x = tokvecs.AsSpan(t * nI, nI);
                var row = table.AsSpan((t + 1) * perToken, perToken);
                for (var o = 0; o < perToken; o++)
                {
                    row[o] = TensorPrimitives.Dot(x, w.AsSpan(o * nI, nI));
                }
            }

            Array.Clear(vectors);
            for (var k = 0; k < ids.Length; k++)
            {
                var target = vectors.AsSpan(ids[k] * width, width);
                TensorPrimitives.Add(target, table.AsSpan(k * width, width), target);
            }

            double sum = 0, squares = 0;
            var count = samples * nO;
            var acts = new float[count];
            for (var s = 0; s < samples; s++)
            {
                for (var o = 0; o < nO; o++)
                {
                    var at = (s * width) + (o * nP);
                    var best = vectors[at] + b[o * nP];
                    for (var p = 1; p < nP; p++)
                    {
                        best = Math.Max(best, vectors[at + p] + b[(o * nP) + p]);
                    }

                    // One piece is a ReLU, as spaCy's predict takes it.
                    acts[(s * nO) + o] = nP >= 2 ? best : Math.Max(best, 0f);
                    sum += acts[(s * nO) + o];
                }
            }

            var mean = (float)(sum / count);
            foreach (var a in acts)
            {
                squares += (a - mean) * (double)(a - mean);
            }

            var variance = (float)(squares / count);
            if (Math.Abs(variance - 1.0) >= 0.01)
            {
                var root = MathF.Sqrt(variance);
                TensorPrimitives.Divide(w, root, w);
            }
            else if (Math.Abs(mean) >= 0.01)
            {
                TensorPrimitives.Subtract(b, mean, b);
            }
            else
            {
                break;
            }
        }
    }
}
