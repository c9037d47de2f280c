using System.Diagnostics;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// On the CPU a pipeline of bag-of-words text classifiers trains in managed code, without TorchSharp's
/// native libraries: its gradients, loss and optimizer steps must be those of the torch components
/// (which train it on a GPU, or beside components that need torch), and a trainer process given such
/// a config must not load torch at all.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ManagedBowTextcatTests(TorchRuntimeFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-managed-bow-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("textcat", false)]
    [InlineData("textcat_multilabel", true)]
    public void The_managed_loss_and_gradients_are_the_torch_components(string component, bool multilabel)
    {
        var (torchModel, managed, docs) = Pair(component, multilabel);
        using (torchModel)
        using (managed)
        {
            RandomWeights(managed.HostParameters(component), 5);
            foreach (var key in new[] { "sparse_linear.W", "sparse_linear.b" })
            {
                torchModel.Parameters(component).Set(key, managed.HostParameters(component)[key].Weights);
            }

            Dictionary<string, double> torchLosses;
            using (torch.NewDisposeScope())
            {
                torchLosses = torchModel.Update(docs, 0, new PythonRandom(0));
            }

            var managedLosses = managed.Update(docs, 0, new PythonRandom(0));

            Assert.True(managedLosses[component] > 0.01, $"loss {managedLosses[component]}");
            Assert.True(Math.Abs(torchLosses[component] - managedLosses[component]) <= 1e-6, $"loss: torch {torchLosses[component]}, managed {managedLosses[component]}");
            foreach (var key in new[] { "sparse_linear.W", "sparse_linear.b" })
            {
                using var grad = torchModel.Parameters(component)[key].grad!;
                var expected = grad.data<float>().ToArray();
                var actual = managed.HostParameters(component)[key].Gradient;
                Assert.True(actual.Count(g => g != 0) > (key.EndsWith('b') ? 1 : 20), $"{key}: too few gradients to compare");
                var worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max();
                Assert.True(worst <= 1e-6, $"{key}: largest difference {worst}");
            }
        }
    }

    [Theory]
    [InlineData("textcat", false)]
    [InlineData("textcat_multilabel", true)]
    public void The_managed_gradient_matches_finite_differences(string component, bool multilabel)
    {
        var (torchModel, managed, docs) = Pair(component, multilabel);
        torchModel.Dispose();
        using (managed)
        {
            var textcat = managed.HostTextcat(component);
            var parameters = managed.HostParameters(component);
            RandomWeights(parameters, 9);

            Assert.NotNull(textcat.Update(docs));
            var truths = TextcatTargets.Of(docs, textcat.Labels, supportsMissingLabels: multilabel)!.Value;

            // spaCy's textcat gradient is that of half the sum of squares over the known labels.
            double Objective()
            {
                var probabilities = textcat.Forward(docs);
                return probabilities.Select((p, i) => 0.5 * truths.Known[i] * (p - truths.Truth[i]) * (p - truths.Truth[i])).Sum();
            }

            foreach (var key in new[] { "sparse_linear.W", "sparse_linear.b" })
            {
                var weights = parameters[key].Weights;
                var gradient = parameters[key].Gradient;
                var used = Enumerable.Range(0, gradient.Length).Where(i => gradient[i] != 0).Take(12).Select(i => (long)i).ToList();
                Assert.NotEmpty(used);
                GradientCheck.AssertMatches(i => weights[i], (i, v) => weights[i] = v, i => gradient[i], used, Objective, key);
            }
        }
    }

    [Fact]
    public void A_managed_pipeline_writes_the_folder_the_reader_predicts_from()
    {
        var (torchModel, managed, docs) = Pair("textcat", multilabel: false);
        torchModel.Dispose();
        using (managed)
        {
            using var optimizer = managed.CreateOptimizer(TinyData.Config(["textcat"], 10).Settings.Loop);
            for (var step = 0; step < 10; step++)
            {
                optimizer.ZeroGrad();
                Assert.NotEmpty(managed.Update(docs, 0, new PythonRandom(step)));
                optimizer.Step();
            }

            var folder = Path.Combine(_directory, "model");
            managed.Write(folder, new ScoreSet(), new Dictionary<string, double>());
            var pipeline = SpacyPipeline.Load(folder);
            var annotated = docs.Select(d => new PipelineDoc(d.Doc.Text, d.Doc.Tokens)).ToList();
            pipeline.Annotate(annotated);
            var textcat = managed.HostTextcat("textcat");
            var probabilities = textcat.Forward(docs);
            Assert.Contains(probabilities, p => Math.Abs(p - 0.5) > 0.05);
            for (var d = 0; d < docs.Count; d++)
            {
                for (var c = 0; c < textcat.Labels.Count; c++)
                {
                    Assert.True(Math.Abs(annotated[d].Cats[textcat.Labels[c]] - probabilities[(d * textcat.Labels.Count) + c]) <= 1e-6);
                }
            }
        }
    }

    [Fact]
    public async Task A_trainer_process_trains_bag_of_words_text_classifiers_without_loading_torch()
    {
        var config = SpacyConfigDocument.Load(Path.Combine(SharedData.Root, "spacy", "configs", "en-textcat-efficiency-cpu.cfg"));
        config.SetRaw("training", "max_steps", "200");
        var configPath = Path.Combine(_directory, "config.cfg");
        config.Save(configPath);
        var corpus = Path.Combine(SharedData.Root, "spacy", "baselines", "corpus", "docs_issues_exclusive");
        // Its own process: this one has torch loaded for the other tests.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Prodigy.Build.Trainer.dll"), "train", "--config", configPath, "--train", Path.Combine(corpus, "train.spacy"), "--dev", Path.Combine(corpus, "dev.spacy"), "--output", Path.Combine(_directory, "out") })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        log.WriteLine(output);
        Assert.True(process.ExitCode == 0, output + await errors);
        // The trainer reads its own /proc/self/maps for this line.
        Assert.Contains("TorchSharp's native libraries not loaded", output, StringComparison.Ordinal);
        Assert.True(SpacyPipeline.IsPipelineFolder(Path.Combine(_directory, "out", "model-best")));
    }

    [Fact]
    public void Components_kept_frozen_from_a_base_model_do_not_stop_managed_training()
    {
        Assert.NotNull(fixture.Info);
        var models = Path.Combine(_directory, "base");
        var (baseSettings, baseText) = TinyData.Config(["ner", "textcat_multilabel"], 10);
        PipelineTrainer.Train(new TrainingRun { Settings = baseSettings, ConfigText = baseText, OutputDirectory = models, Log = log.WriteLine }, TinyData.Examples(60, 81, multilabel: true), TinyData.Examples(10, 82, multilabel: true));
        var baseFolder = Path.Combine(models, "model-best");
        var (settings, text) = TinyData.Config(["textcat_multilabel"], 10);
        var train = TinyData.Examples(60, 83, entities: false, multilabel: true);
        var run = new TrainingRun { Settings = settings, ConfigText = text, BaseModel = baseFolder, OutputDirectory = Path.Combine(_directory, "continued"), Log = log.WriteLine };

        // The base's tok2vec and ner are carried, frozen, with their weights; only the sourced textcat trains.
        using (var model = TrainableSpacyPipeline.Create(run, train))
        {
            Assert.True(model.IsManaged);
            Assert.Equal(["tok2vec", "ner", "textcat_multilabel"], model.Plan.Components.Select(c => c.Name));
        }

        PipelineTrainer.Train(run, train, TinyData.Examples(10, 84, entities: false, multilabel: true));
        var continued = Path.Combine(_directory, "continued", "model-last");
        foreach (var component in new[] { "tok2vec", "ner" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(baseFolder, component, "model")), File.ReadAllBytes(Path.Combine(continued, component, "model")));
        }

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(baseFolder, "textcat_multilabel", "model")), File.ReadAllBytes(Path.Combine(continued, "textcat_multilabel", "model")));
    }

    // Random weights: from zeros every document would score alike and most gradients would vanish.
    private static void RandomWeights(HostParameters parameters, int seed)
    {
        var random = new Random(seed);
        foreach (var key in new[] { "sparse_linear.W", "sparse_linear.b" })
        {
            var weights = parameters[key].Weights;
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(random.NextDouble() - 0.5);
            }
        }
    }

    // The same config and data as a torch pipeline (Device given) and as a managed one (the default on the CPU).
    private (TrainableSpacyPipeline Torch, TrainableSpacyPipeline Managed, List<TrainingDoc> Docs) Pair(string component, bool multilabel)
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config([component], 10);
        var train = TinyData.Examples(24, 3, entities: false, cats: !multilabel, multilabel: multilabel);
        var torchModel = TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine, Device = torch.CPU }, train);
        var managed = TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine }, train);
        Assert.False(torchModel.IsManaged);
        Assert.True(managed.IsManaged);
        return (torchModel, managed, train.Select(TrainingDoc.From).ToList());
    }
}
