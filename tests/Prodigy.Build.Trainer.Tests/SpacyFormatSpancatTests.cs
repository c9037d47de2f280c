using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// spancat in the spaCy-format trainer: the written folder scores spans as the torch model does,
/// the gradient is spaCy 3.5's spancat loss, and a training run saves spaCy pipelines whose spans
/// the reader scores as training did.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class SpacyFormatSpancatTests(TorchRuntimeFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-spacy-spancat-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TrainableSpacyPipeline Create(List<Example> train)
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(["spancat"], 10);
        return TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine }, train);
    }

    [Fact]
    public void The_written_folder_scores_every_suggested_span_as_the_torch_model_does()
    {
        var train = TinyData.Examples(64, 5, entities: false, spans: true);
        using var model = Create(train);
        var (settings, _) = TinyData.Config(["spancat"], 10);
        GradientCheck.Train(model, settings, train.Select(TrainingDoc.From).ToList());

        var folder = Path.Combine(_directory, "model");
        model.Write(folder, new ScoreSet(), new Dictionary<string, double>());

        // The cfg file has spaCy 3.5.4's keys in its order (the shared spancat pipeline's).
        var shared = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.Root, "spacy", "pipelines", "spancat", "pipeline", "spancat", "cfg")))!.AsObject();
        var written = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "spancat", "cfg")))!.AsObject();
        Assert.Equal(shared.Select(p => p.Key), written.Select(p => p.Key));
        Assert.Equal(["BRAND", "ITEM"], written["labels"]!.AsArray().Select(l => (string)l!));

        var pipeline = SpacyPipeline.Load(folder);
        var component = Assert.IsType<SpanCategorizerComponent>(pipeline.Components.Single(c => c.Name == "spancat"));
        var examples = TinyData.Examples(6, 9, entities: false, spans: true);
        var evalDocs = examples.Select(TrainingDoc.From).ToList();
        var annotated = evalDocs.Select(d => new PipelineDoc(d.Doc.Text, d.Doc.Tokens)).ToList();
        pipeline.Annotate(annotated);

        var spancat = model.Spancat("spancat");
        var layout = new BatchLayout(evalDocs.Select(d => d.Length).ToList());
        var spans = spancat.Suggest(evalDocs);
        using var tokens = model.Encoder("tok2vec").Forward(evalDocs, layout, train: false, 0);
        using var probabilities = spancat.Forward(tokens, layout, spans, train: false, 0);
        var torchScores = probabilities.data<float>().ToArray();
        var row = 0;
        for (var d = 0; d < annotated.Count; d++)
        {
            var count = component.SuggestionCount(annotated[d].Length);
            var readerSpans = new (int, int)[count];
            var readerScores = new float[count * 2];
            component.Score(annotated[d], readerSpans, readerScores);
            for (var s = 0; s < count; s++, row++)
            {
                Assert.Equal((d, readerSpans[s].Item1, readerSpans[s].Item2), spans[row]);
                for (var label = 0; label < 2; label++)
                {
                    Assert.True(Math.Abs(readerScores[(s * 2) + label] - torchScores[(row * 2) + label]) <= 1e-5, $"doc {d} span {s} label {label}: reader {readerScores[(s * 2) + label]}, torch {torchScores[(row * 2) + label]}");
                }
            }
        }

        Assert.Equal(spans.Count, row);
    }

    [Fact]
    public void The_gradient_is_spaCys_spancat_loss()
    {
        var train = TinyData.Examples(4, 3, entities: false, spans: true);
        using var model = Create(train);
        var spancat = model.Spancat("spancat");
        var docs = train.Select(TrainingDoc.From).ToList();
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        torch.random.manual_seed(4);
        using var tokens = torch.randn([layout.Total, model.Encoder("tok2vec").Width]).requires_grad_();
        var spans = spancat.Suggest(docs);
        var target = spancat.Target(docs, spans);

        // The gold spans are targets 1 for their label at their exact offsets, and nothing else is.
        Assert.Equal(train.Sum(e => e.SpanGroups["sc"].Count), target.Count(t => t == 1f));

        var scorerB = model.Parameters("spancat")["scorer.linear.b"];
        double loss;
        using (var scope = torch.NewDisposeScope())
        {
            var result = spancat.Update(docs, (_, _) => tokens, dropout: 0)!.Value;
            loss = result.Loss;
            result.Surrogate.backward();
        }

        using var p = spancat.Forward(tokens, layout, spans, train: false, 0);
        var probabilities = p.data<float>().ToArray();

        // spaCy: d_scores = scores - target, loss = sum(d_scores ** 2); Logistic's backprop multiplies
        // by p (1 - p), so the bias of each label gets the sum over spans of (p - t) p (1 - p).
        Assert.Equal(probabilities.Zip(target).Sum(x => (double)(x.First - x.Second) * (x.First - x.Second)), loss, 3);
        var expectedBias = new double[2];
        for (var i = 0; i < probabilities.Length; i++)
        {
            var q = probabilities[i];
            expectedBias[i % 2] += (q - target[i]) * q * (1 - q);
        }

        var biasGradient = scorerB.grad!.data<float>().ToArray();
        Assert.Equal(expectedBias[0], biasGradient[0], 4);
        Assert.Equal(expectedBias[1], biasGradient[1], 4);

        // Finite differences of half that squared error through the reducer and into the token vectors.
        double Objective()
        {
            using var scope = torch.NewDisposeScope();
            var q = spancat.Forward(tokens, layout, spans, train: false, 0).data<float>().ToArray();
            return 0.5 * q.Zip(target).Sum(x => (double)(x.First - x.Second) * (x.First - x.Second));
        }

        GradientCheck.AssertMatches(tokens, tokens.grad!, Objective, "tokens", 8, 613);
    }

    [Fact]
    public void Training_saves_spaCy_pipelines_whose_spans_the_reader_scores_as_training_did()
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(["spancat"], 80);
        var output = Path.Combine(_directory, "run");
        var dev = TinyData.Examples(30, 8, entities: false, spans: true);
        var result = PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = log.WriteLine }, TinyData.Examples(150, 7, entities: false, spans: true), dev);

        var best = Path.Combine(output, "model-best");
        Assert.True(SpacyPipeline.IsPipelineFolder(best));
        Assert.False(File.Exists(Path.Combine(best, ModelDirectory.WeightsFile)));
        var pipeline = SpacyPipeline.Load(best);
        var docs = dev.Select(e => TrainingDoc.ToPipelineDoc(e.Words, e.Spaces, e.Norms)).ToList();
        pipeline.Annotate(docs);
        var gold = dev.Sum(e => e.SpanGroups["sc"].Count);
        var predicted = docs.Sum(d => d.Spans["sc"].Count);
        var found = docs.Zip(dev).Sum(p => p.First.Spans["sc"].Count(s => p.Second.SpanGroups["sc"].Contains(new LabeledSpan(s.Start, s.End, s.Label))));
        var f = predicted + gold == 0 ? 0 : 2.0 * found / (predicted + gold);
        Assert.Equal(result.BestScores.Values["spans_sc_f"]!.Value, f, 6);
        // The tiny data is learnable: a model that predicts nothing would score 0.
        Assert.True(f > 0.5, $"spans_sc_f {f}");
    }
}
