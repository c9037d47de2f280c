using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// spacy.TextCatEnsemble.v2 (the accuracy configs' text classifier) in the spaCy-format trainer: the
/// written folder gives the torch model's scores, the gradient is spaCy's textcat loss through thinc's
/// Softmax and Logistic, and training saves spaCy pipelines the reader scores as training did.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class SpacyFormatEnsembleTests(TorchRuntimeFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-spacy-ensemble-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<Example> Data(string factory, int count, int seed) =>
        TinyData.Examples(count, seed, entities: false, cats: factory == "textcat", multilabel: factory == "textcat_multilabel");

    private TrainableSpacyPipeline Create(string factory, List<Example> train, int maxSteps = 10)
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config([factory], maxSteps, optimize: SpacyOptimize.Accuracy);
        Assert.Contains("spacy.TextCatEnsemble.v2", text, StringComparison.Ordinal);
        return TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine }, train);
    }

    [Theory]
    [InlineData("textcat")]
    [InlineData("textcat_multilabel")]
    public void The_written_folder_scores_documents_as_the_torch_model_does(string factory)
    {
        var train = Data(factory, 64, 5);
        using var model = Create(factory, train);
        var (settings, _) = TinyData.Config([factory], 10, optimize: SpacyOptimize.Accuracy);
        GradientCheck.Train(model, settings, train.Select(TrainingDoc.From).ToList());

        var folder = Path.Combine(_directory, "model");
        model.Write(folder, new ScoreSet(), new Dictionary<string, double>());
        var pipeline = SpacyPipeline.Load(folder);
        var evalDocs = Data(factory, 9, 9).Select(TrainingDoc.From).ToList();

        // An empty document has no tokens to attend over: the summary is zeros, the BOW gives its bias.
        evalDocs.Add(TrainingDoc.From(new Example { Words = [], Spaces = [], Norms = [], Cats = new Dictionary<string, double>() }));
        var annotated = evalDocs.Select(d => new PipelineDoc(d.Doc.Text, d.Doc.Tokens)).ToList();
        pipeline.Annotate(annotated);

        var ensemble = model.Ensemble(factory);
        var (logits, probabilities) = ensemble.Forward(evalDocs, model.TokenVectors(factory, 0), train: false, 0);
        using (logits)
        using (probabilities)
        {
            var values = probabilities.data<float>().ToArray();
            var labels = ensemble.Labels;
            for (var d = 0; d < evalDocs.Count; d++)
            {
                for (var c = 0; c < labels.Count; c++)
                {
                    var reader = annotated[d].Cats[labels[c]];
                    var torchValue = values[(d * labels.Count) + c];
                    Assert.True(Math.Abs(reader - torchValue) <= 1e-5, $"doc {d} {labels[c]}: reader {reader}, torch {torchValue}");
                }
            }
        }
    }

    [Fact]
    public void Exclusive_classes_pass_spaCys_gradient_to_the_logits_as_thincs_Softmax_does()
    {
        var train = Data("textcat", 6, 3);
        using var model = Create("textcat", train);
        var ensemble = model.Ensemble("textcat");
        var docs = train.Select(TrainingDoc.From).ToList();
        var bias = model.Parameters("textcat")["softmax.b"];
        float[] probabilities;
        using (var scope = torch.NewDisposeScope())
        {
            var result = ensemble.Update(docs, model.TokenVectors("textcat", 0), dropout: 0)!.Value;
            result.Surrogate.backward();
            probabilities = ensemble.Forward(docs, model.TokenVectors("textcat", 0), train: false, 0).Probabilities.data<float>().ToArray();
        }

        // thinc's Softmax backprop adds d_scores = scores - truths to b as it is (no softmax Jacobian):
        // with the output W at zero (its initialiser), the softmax gives 1/2 for both labels.
        var labels = ensemble.Labels;
        var expected = new double[labels.Count];
        for (var d = 0; d < docs.Count; d++)
        {
            for (var c = 0; c < labels.Count; c++)
            {
                expected[c] += probabilities[(d * labels.Count) + c] - docs[d].Example.Cats[labels[c]];
            }
        }

        var gradient = bias.grad!.data<float>().ToArray();
        for (var c = 0; c < labels.Count; c++)
        {
            Assert.Equal(expected[c], gradient[c], 5);
        }
    }

    [Fact]
    public void Multilabel_gradient_is_half_the_squared_error_through_the_attention_and_the_tokens()
    {
        var train = Data("textcat_multilabel", 6, 4);
        // Fixed weights: the objective has kinks where a maxout piece or an argmax changes, and a central
        // difference that straddles one is meaningless; with weights drawn from whatever state earlier tests
        // left, about one draw in four put a kink within a step of a sampled entry.
        torch.random.manual_seed(0);
        using var model = Create("textcat_multilabel", train);
        var ensemble = model.Ensemble("textcat_multilabel");
        var parameters = model.Parameters("textcat_multilabel");
        var docs = train.Select(TrainingDoc.From).ToList();
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());

        // The attention starts at Q = 0 (uniform weights): move it, so the test sees its gradient
        // (small enough that no logit reaches the ±20 clip, which thinc's backprop passes through).
        torch.random.manual_seed(11);
        using (torch.no_grad())
        {
            parameters["attention.Q"].copy_(torch.randn(parameters["attention.Q"].shape) * 0.2);
            parameters["linear.W"].copy_(torch.randn(parameters["linear.W"].shape));
        }

        using var tokens = torch.randn([layout.Total, model.Encoder("tok2vec").Width]).requires_grad_();
        var labels = ensemble.Labels;
        var truth = docs.SelectMany(d => labels.Select(l => d.Example.Cats[l])).ToArray();
        using (var scope = torch.NewDisposeScope())
        {
            ensemble.Update(docs, (_, _) => tokens, dropout: 0)!.Value.Surrogate.backward();
        }

        double Objective()
        {
            using var scope = torch.NewDisposeScope();
            var p = ensemble.Forward(docs, (_, _) => tokens, train: false, 0).Probabilities.data<float>().ToArray();
            return 0.5 * p.Zip(truth).Sum(x => (x.First - x.Second) * (x.First - x.Second));
        }

        // The attention's exp makes the objective strongly curved in Q and the tokens: a narrower difference.
        GradientCheck.AssertMatches(tokens, tokens.grad!, Objective, "tokens", 6, 37, step: 2e-3f);
        GradientCheck.AssertMatches(parameters["attention.Q"], parameters["attention.Q"].grad!, Objective, "attention.Q", 6, 5, step: 2e-3f);
        GradientCheck.AssertMatches(parameters["maxout.W"], parameters["maxout.W"].grad!, Objective, "maxout.W", 6, 211);
    }

    [Fact]
    public void An_ensemble_base_model_given_a_new_label_is_PRD2309_with_spaCys_reason()
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(["textcat"], 20, optimize: SpacyOptimize.Accuracy);
        var output = Path.Combine(_directory, "base");
        PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = log.WriteLine }, Data("textcat", 60, 11), Data("textcat", 20, 12));
        var withNeutral = Data("textcat", 60, 13).Select(e => new Example
        {
            Words = e.Words,
            Spaces = e.Spaces,
            Norms = e.Norms,
            Cats = new Dictionary<string, double>(e.Cats) { ["NEUTRAL"] = 0 },
        }).ToList();

        var error = Assert.Throws<TrainerInputException>(() => PipelineTrainer.Train(
            new TrainingRun { Settings = settings, ConfigText = text, BaseModel = Path.Combine(output, "model-best"), Log = log.WriteLine }, withNeutral, Data("textcat", 20, 14)));

        Assert.Equal("PRD2309", error.Code);
        Assert.Contains("E922", error.Message, StringComparison.Ordinal);
        // The base's labels in its own order: the order its training data first used them.
        Assert.Contains("POSITIVE, NEGATIVE", error.Message, StringComparison.Ordinal);

        // The same labels continue.
        var continued = PipelineTrainer.Train(new TrainingRun { Settings = TinyData.Config(["textcat"], 5, optimize: SpacyOptimize.Accuracy).Settings, ConfigText = TinyData.Config(["textcat"], 5, optimize: SpacyOptimize.Accuracy).Text, BaseModel = Path.Combine(output, "model-best"), Log = log.WriteLine }, Data("textcat", 30, 15), Data("textcat", 10, 16));
        Assert.False(continued.Cancelled);
    }

    [Fact]
    public void Training_saves_spaCy_pipelines_whose_cats_the_reader_scores_as_training_did()
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(["textcat"], 80, optimize: SpacyOptimize.Accuracy);
        var output = Path.Combine(_directory, "run");
        var dev = Data("textcat", 30, 8);
        var logged = new List<string>();
        var result = PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = line => { logged.Add(line); log.WriteLine(line); } }, Data("textcat", 150, 7), dev);
        Assert.DoesNotContain(logged, l => l.Contains("TorchSharp-format", StringComparison.Ordinal));

        var best = Path.Combine(output, "model-best");
        Assert.True(SpacyPipeline.IsPipelineFolder(best));
        Assert.False(File.Exists(Path.Combine(best, ModelDirectory.WeightsFile)));
        var pipeline = SpacyPipeline.Load(best);
        var docs = dev.Select(e => TrainingDoc.ToPipelineDoc(e.Words, e.Spaces, e.Norms)).ToList();
        pipeline.Annotate(docs);

        // cats_score of an exclusive textcat: the macro F of its labels.
        var labels = new[] { "NEGATIVE", "POSITIVE" };
        var f = labels.Average(label =>
        {
            var tp = docs.Zip(dev).Count(p => Predicted(p.First) == label && p.Second.Cats[label] == 1);
            var fp = docs.Zip(dev).Count(p => Predicted(p.First) == label && p.Second.Cats[label] != 1);
            var fn = docs.Zip(dev).Count(p => Predicted(p.First) != label && p.Second.Cats[label] == 1);
            return tp == 0 ? 0 : 2.0 * tp / ((2.0 * tp) + fp + fn);
        });
        Assert.Equal(result.BestScores.Values["cats_score"]!.Value, f, 6);
        Assert.True(f > 0.9, $"cats_score {f}");

        static string Predicted(PipelineDoc doc) => doc.Cats.MaxBy(c => c.Value).Key;
    }
}
