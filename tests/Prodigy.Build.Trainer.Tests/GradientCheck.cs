using Prodigy.Build.Core.Text;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Training;
using TorchSharp;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>Shared steps of the spaCy-format component tests: finite differences and a few updates.</summary>
internal static class GradientCheck
{
    /// <summary>
    /// Central finite differences of <paramref name="objective"/> at <paramref name="samples"/> entries of
    /// <paramref name="values"/> (every <paramref name="stride"/>-th, wrapping), against the backward pass's
    /// <paramref name="gradient"/>: within 5% or 1e-4. <paramref name="step"/> is the difference's half-width:
    /// smaller for strongly curved functions (an exponential), whose central difference errs by O(step²).
    /// </summary>
    public static void AssertMatches(torch.Tensor values, torch.Tensor gradient, Func<double> objective, string name, int samples, long stride, float step = 1e-2f)
    {
        using var flat = values.detach().view(-1);
        using var flatGradient = gradient.view(-1);
        var data = flat.data<float>();
        var grad = flatGradient.data<float>();
        var count = values.numel();
        AssertMatches(i => data[i], (i, v) => data[i] = v, i => grad[i], Enumerable.Range(0, samples).Select(k => (k * stride) % count), objective, name, step);
    }

    /// <summary>The same check over any storage: <paramref name="get"/> and <paramref name="set"/> reach a value, <paramref name="gradientAt"/> its backward-pass gradient.</summary>
    public static void AssertMatches(Func<long, float> get, Action<long, float> set, Func<long, float> gradientAt, IEnumerable<long> indices, Func<double> objective, string name, float step = 1e-2f)
    {
        foreach (var i in indices)
        {
            var original = get(i);
            set(i, original + step);
            var plus = objective();
            set(i, original - step);
            var minus = objective();
            set(i, original);
            var numeric = (plus - minus) / (2 * step);
            var analytic = gradientAt(i);
            static bool Near(double a, double b) => Math.Abs(a - b) <= (0.05 * Math.Max(Math.Abs(a), Math.Abs(b))) + 1e-4;
            if (Near(numeric, analytic))
            {
                continue;
            }

            // A max (maxout, a span's max-pooled token) may switch inside +-step: then the one-sided
            // differences disagree, and the backward pass is right when it equals the side the value is on.
            var centre = objective();
            var right = (plus - centre) / step;
            var left = (centre - minus) / step;
            Assert.True(!Near(left, right) && (Near(left, analytic) || Near(right, analytic)), $"{name}[{i}]: finite differences {numeric} (one-sided {left} and {right}), backward pass {analytic}");
        }
    }

    /// <summary>
    /// A training pass of the tok2vec on the CPU, by its hand-written kernels, against torch's autograd
    /// over the same tensor operations (the path a GPU runs), from one numpy state: the same output, the
    /// same dropout draws, and every parameter's gradient (each non-zero) within float rounding.
    /// </summary>
    public static void AssertHostPassMatchesAutograd(TrainableSpacyPipeline model, IReadOnlyList<TrainingDoc> docs, double dropout)
    {
        var encoder = model.Encoder("tok2vec");
        var parameters = model.Parameters("tok2vec");
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        torch.random.manual_seed(11);
        using var upstream = torch.randn([layout.Total, encoder.Width]);
        (float[] Output, Dictionary<string, float[]> Gradients, double NextDraw) Pass(bool host)
        {
            foreach (var parameter in parameters.All)
            {
                using var gradient = parameter.grad;
                gradient?.zero_();
            }

            encoder.HostKernels = host;
            model.Numpy.Seed(9);
            using var scope = torch.NewDisposeScope();
            var output = encoder.Forward(docs, layout, train: true, dropout);
            (output * upstream).sum().backward();
            encoder.BackwardPending();
            var gradients = parameters.Plan.Parameters.ToDictionary(p => p.Key, p =>
            {
                using var gradient = parameters[p.Key].grad;
                return gradient?.data<float>().ToArray() ?? [];
            });
            return (output.detach().data<float>().ToArray(), gradients, model.Numpy.RandomSample());
        }

        try
        {
            var expected = Pass(host: false);
            var actual = Pass(host: true);
            Assert.Equal(expected.NextDraw, actual.NextDraw);
            Assert.Equal(expected.Output.Length, actual.Output.Length);
            for (var i = 0; i < expected.Output.Length; i++)
            {
                Assert.True(Math.Abs(expected.Output[i] - actual.Output[i]) <= 1e-5 + (1e-5 * Math.Abs(expected.Output[i])), $"output[{i}]: autograd {expected.Output[i]}, host {actual.Output[i]}");
            }

            foreach (var (key, reference) in expected.Gradients)
            {
                var gradient = actual.Gradients[key];
                Assert.True(reference.Length > 0 && gradient.Length == reference.Length, $"{key}: autograd has {reference.Length} gradient values, host {gradient.Length}");
                var scale = reference.Max(Math.Abs);
                Assert.True(scale > 0, $"{key}: no gradient reached it");
                for (var i = 0; i < reference.Length; i++)
                {
                    Assert.True(Math.Abs(reference[i] - gradient[i]) <= (1e-5 * scale) + (1e-3 * Math.Abs(reference[i])), $"{key}[{i}]: autograd {reference[i]}, host {gradient[i]} (largest {scale})");
                }
            }
        }
        finally
        {
            encoder.HostKernels = true;
        }
    }

    /// <summary>Eight optimizer steps on batches of 16 documents (dropout 0.1), so the weights are no longer their initial values.</summary>
    public static void Train(TrainableSpacyPipeline model, TrainingSettings settings, IReadOnlyList<TrainingDoc> docs)
    {
        using var optimizer = new AdamOptimizer(model.TrainableParameters, settings.Loop);
        for (var step = 0; step < 8; step++)
        {
            optimizer.ZeroGrad();
            using var scope = torch.NewDisposeScope();
            Assert.NotEmpty(model.Update(docs.Skip((step * 16) % docs.Count).Take(16).ToList(), 0.1, new PythonRandom(step)));
            optimizer.Step();
        }
    }
}
