using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// The spaCy-format trainer: what it trains is what the pipeline folder holds. The torch forward
/// passes equal the reader's on the written folder, the folder's moves and cfg files are spaCy's, and
/// spaCy's parser gradient and oracle behave as spaCy's.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class SpacyFormatTrainerTests(TorchRuntimeFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-spacy-format-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TrainableSpacyPipeline Trained(IReadOnlyList<string> components, List<Example> train, int steps)
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(components, steps);
        var run = new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine };
        var model = TrainableSpacyPipeline.Create(run, train);
        var docs = train.Select(TrainingDoc.From).ToList();
        using var optimizer = new AdamOptimizer(model.TrainableParameters, settings.Loop);
        var python = new PythonRandom(0);
        for (var step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            using var scope = torch.NewDisposeScope();
            model.Update(docs.Skip((step * 16) % docs.Count).Take(16).ToList(), 0.1, python);
            optimizer.Step();
        }

        return model;
    }

    [Fact]
    public void The_shared_tok2vec_runs_once_per_batch_for_all_its_listeners()
    {
        // ner, textcat and spancat all listen to one tok2vec: spaCy's Tok2Vec.update runs it once and
        // broadcasts the output, so one dropout mask is seen by every listener.
        var train = TinyData.Examples(32, 21, cats: true, spans: true);
        using var model = Trained(["ner", "textcat", "spancat"], train, 0);
        var encoder = model.Encoder("tok2vec");
        var docs = train.Select(TrainingDoc.From).ToList();
        var before = encoder.Runs;
        Dictionary<string, double> losses;
        using (var scope = torch.NewDisposeScope())
        {
            losses = model.Update(docs.Take(16).ToList(), 0.1, new PythonRandom(1));
        }

        Assert.Equal(before + 1, encoder.Runs);
        Assert.Equal(["ner", "spancat", "textcat", "tok2vec"], losses.Keys.Order(StringComparer.Ordinal));

        // The tok2vec's loss is spaCy's: the sum over listeners of their gradients' squares, so positive
        // when any listener learns from it (the BOW textcat does not listen).
        Assert.True(losses["tok2vec"] > 0, $"tok2vec loss {losses["tok2vec"]}");
    }

    [Theory]
    [InlineData("frozen_components")]
    [InlineData("annotating_components")]
    public void A_training_component_list_naming_a_component_not_in_the_pipeline_is_PRD2301(string key)
    {
        Assert.NotNull(fixture.Info);
        var document = Core.Config.SpacyConfigDocument.Parse(TinyData.Config(["ner"], 10).Text);
        document.SetRaw("training", key, "[\"parser\"]");
        var text = document.ToString();
        var settings = Configuration.TrainingSettings.From(new Core.Config.ResolvedConfig(Core.Config.SpacyConfigDocument.Parse(text), "lists.cfg"));

        var error = Assert.Throws<TrainerInputException>(() => TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine }, TinyData.Examples(4, 1)));

        Assert.Equal("PRD2301", error.Code);
        Assert.Contains($"{key} names 'parser'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_written_folder_computes_what_the_torch_model_computes()
    {
        using var model = Trained(["ner", "textcat_multilabel"], TinyData.Examples(64, 5, multilabel: true), 12);
        var folder = Path.Combine(_directory, "model");
        model.Write(folder, new ScoreSet(), new Dictionary<string, double>());
        var pipeline = SpacyPipeline.Load(folder);
        var examples = TinyData.Examples(8, 6, multilabel: true);
        var docs = examples.Select(TrainingDoc.From).ToList();
        var annotated = docs.Select(d => new PipelineDoc(d.Doc.Text, d.Doc.Tokens)).ToList();
        pipeline.Annotate(annotated);

        // tok2vec: the torch encoder's rows equal the reader's, document by document.
        var encoder = model.Encoder("tok2vec");
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        using var output = encoder.Forward(docs, layout, train: false, 0);
        var rows = output.data<float>().ToArray();
        for (var d = 0; d < docs.Count; d++)
        {
            var expected = annotated[d].Tok2VecOutputs["tok2vec"];
            for (var i = 0; i < expected.Length; i++)
            {
                // float32 sums in another order: equal to a few ulps of values near 1.
                Assert.True(Math.Abs(expected[i] - rows[(layout.Starts[d] * encoder.Width) + i]) <= 1e-4, $"doc {d} value {i}: {expected[i]} vs {rows[(layout.Starts[d] * encoder.Width) + i]}");
            }
        }

        // textcat_multilabel: the torch probabilities equal the reader's cats.
        var textcat = model.Textcat("textcat_multilabel");
        using var probabilities = textcat.Forward(docs);
        var values = probabilities.data<float>().ToArray();
        for (var d = 0; d < docs.Count; d++)
        {
            for (var c = 0; c < textcat.Labels.Count; c++)
            {
                Assert.True(Math.Abs(annotated[d].Cats[textcat.Labels[c]] - values[(d * textcat.Labels.Count) + c]) <= 1e-5);
            }
        }
    }

    [Fact]
    public void Training_writes_spaCy_pipeline_folders_that_the_reader_scores_as_training_did()
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(["ner", "textcat"], 80);
        var output = Path.Combine(_directory, "run");
        var dev = TinyData.Examples(30, 8, cats: true);
        var result = PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = log.WriteLine, ModelName = "brands", ModelVersion = "1.2.0" }, TinyData.Examples(150, 7, cats: true), dev);

        foreach (var folder in new[] { "model-best", "model-last" })
        {
            var path = Path.Combine(output, folder);
            Assert.True(SpacyPipeline.IsPipelineFolder(path));
            Assert.False(File.Exists(Path.Combine(path, ModelDirectory.WeightsFile)));
            var meta = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(path, "meta.json")))!;
            Assert.Equal("brands", (string?)meta["name"]);
            Assert.Equal("1.2.0", (string?)meta["version"]);
            Assert.NotNull(meta["performance"]!["ents_f"]);
        }

        // model-best, loaded by the reader, scores on the dev docs what training measured.
        using var best = Inference.TrainedPipeline.Load(Path.Combine(output, "model-best"));
        Assert.NotNull(best.SpacyPipeline);
        var docs = dev.Select(e => TrainingDoc.ToPipelineDoc(e.Words, e.Spaces, e.Norms)).ToList();
        best.SpacyPipeline!.Annotate(docs);
        var entities = dev.Sum(e => e.Entities!.Count);
        var found = docs.Zip(dev).Sum(p => p.First.Entities.Count(e => p.Second.Entities!.Contains(new LabeledSpan(e.Start, e.End, e.Label))));
        var predicted = docs.Sum(d => d.Entities.Count);
        var f = predicted + entities == 0 ? 0 : 2.0 * found / (predicted + entities);
        Assert.Equal(result.BestScores.Values["ents_f"]!.Value, f, 6);
    }

    [Fact]
    public void Weights_start_as_thincs_initialisers_draw_them()
    {
        Assert.NotNull(fixture.Info);
        var (_, text) = TinyData.Config(["ner"], 10);
        var config = new Core.Config.ResolvedConfig(Core.Config.SpacyConfigDocument.Parse(text), "config.cfg");
        var plan = SpacyPipelinePlan.Create(config, new SpacyVocab(), _ => new ComponentLabels { Labels = ["BRAND"] });
        using var parameters = new ThincParameters(plan.Component("tok2vec"), torch.CPU, ThincInitialization.Draw(plan.Component("tok2vec"), new NumpyRandom(0)));
        var maxouts = plan.Component("tok2vec").Parameters.Where(p => p.Key.EndsWith("maxout.W", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(maxouts);
        foreach (var maxout in maxouts)
        {
            // glorot_uniform_init bounds by shape[0] + shape[1]: for Maxout's (nO, nP, nI), nO + nP.
            var bound = Math.Sqrt(6.0 / (maxout.Shape[0] + maxout.Shape[1]));
            using var magnitude = parameters[maxout.Key].abs().max();
            var largest = magnitude.item<float>();
            Assert.True(largest <= bound && largest > 0.95 * bound, $"{maxout.Key} ({string.Join(" x ", maxout.Shape)}): largest |w| {largest}, thinc's bound {bound}");
        }

        // The draws are numpy's, table after table: the first table is uniform(-0.1, 0.1) from seed 0.
        var reference = new NumpyRandom(0);
        var first = parameters["embed.hashembed.0.E"].data<float>().ToArray();
        Assert.All(first.Take(500), v => Assert.Equal((float)reference.Uniform(-0.1, 0.1), v));
    }

    [Fact]
    public void The_parser_lower_layer_starts_with_spaCys_unit_variance_rescaling()
    {
        // PrecomputableAffine's init: W from normal_init (scale sqrt(nI / nF)), then W and b rescaled on
        // random ids and token vectors until its output there has variance 1 and mean 0 (within 0.01).
        var (_, text) = TinyData.Config(["ner"], 10);
        var config = new Core.Config.ResolvedConfig(Core.Config.SpacyConfigDocument.Parse(text), "config.cfg");
        var plan = SpacyPipelinePlan.Create(config, new SpacyVocab(), _ => new ComponentLabels { Labels = ["BRAND"], TokenCounts = new Dictionary<string, long> { ["BRAND"] = 3 } });
        var shape = plan.Component("ner").Parameter("lower.W").Shape;
        var initial = ThincInitialization.Draw(plan.Component("ner"), new NumpyRandom(0));

        // Drawn alone, W is normal with spaCy's scale; the rescaled one is far smaller.
        var raw = new float[initial["lower.W"].Length];
        var fresh = new NumpyRandom(0);
        ThincInitialization.Draw(plan.Component("ner").Parameters.TakeWhile(p => p.Key != "lower.W"), fresh);
        fresh.FillNormal(raw, 0, Math.Sqrt(1.0 / shape[0] * shape[3]));
        var rawScale = Math.Sqrt(raw.Average(v => (double)v * v));
        Assert.InRange(rawScale, 0.95 * Math.Sqrt(shape[3] / (double)shape[0]), 1.05 * Math.Sqrt(shape[3] / (double)shape[0]));
        var ratios = raw.Zip(initial["lower.W"], (r, w) => w / (double)r).ToList();
        // One factor for every weight: LSUV divides the whole of W.
        Assert.All(ratios, r => Assert.Equal(ratios[0], r, 4));
        Assert.True(ratios[0] < 0.5, $"W was scaled by {ratios[0]}");
        Assert.All(initial["lower.b"], b => Assert.InRange(b, -0.5f, 0.5f));
    }

    [Fact]
    public void On_a_batch_no_listener_learns_from_the_tok2vec_draws_its_masks_without_running()
    {
        // spaCy runs Tok2Vec.update on every batch, before its listeners look for gold: its dropout masks
        // are drawn even when the NER then has nothing to learn, so the numpy stream stays spaCy's. Nothing
        // reads that output, so only the draws are made (a batch of long textcat documents costs nothing).
        var train = TinyData.Examples(8, 3);
        using var model = Trained(["ner"], train, 0);
        var unannotated = TinyData.Examples(4, 5, entities: false).Select(TrainingDoc.From).ToList();
        var encoder = model.Encoder("tok2vec");

        // What a real training pass over these documents draws.
        model.Numpy.Seed(3);
        using (var scope = torch.NewDisposeScope())
        {
            var withTokens = unannotated.Where(d => d.Length > 0).ToList();
            encoder.Forward(withTokens, new BatchLayout(withTokens.Select(d => d.Length).ToList()), train: true, 0.1);
        }

        var afterPass = model.Numpy.RandomSample();
        var before = encoder.Runs;
        model.Numpy.Seed(3);
        using (var scope = torch.NewDisposeScope())
        {
            Assert.DoesNotContain("ner", model.Update(unannotated, 0.1, new PythonRandom(0)).Keys);
        }

        Assert.Equal(before, encoder.Runs);
        Assert.Equal(afterPass, model.Numpy.RandomSample());
        Assert.NotEqual(new NumpyRandom(3).RandomSample(), afterPass);
    }

    [Fact]
    public void A_training_pass_of_the_tok2vec_draws_spaCys_dropout_masks_from_numpy()
    {
        // thinc's layers in forward order: a column mask per HashEmbed table, then the embed Maxout's
        // Dropout over the tokens, then each encoder block's over the rows with_array(pad) flattens to
        // (the pad rows around the documents included). Evaluation draws nothing.
        Assert.NotNull(fixture.Info);
        var train = TinyData.Examples(6, 8);
        var (settings, text) = TinyData.Config(["ner"], 10);
        using var model = TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine }, train);
        var encoder = model.Encoder("tok2vec");
        var docs = train.Select(TrainingDoc.From).Where(d => d.Length > 0).ToList();
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        model.Numpy.Seed(5);
        using (var scope = torch.NewDisposeScope())
        {
            encoder.Forward(docs, layout, train: false, 0.1);
            encoder.Forward(docs, layout, train: true, 0.1);
        }

        var tables = model.Plan.Component("tok2vec").Parameters.Count(p => p.Key.EndsWith(".E", StringComparison.Ordinal));
        var pad = encoder.WindowSize * encoder.Depth;
        var draws = (tables * encoder.Width) + (layout.Total * encoder.Width) + (encoder.Depth * (layout.Total + (pad * (docs.Count + 1))) * encoder.Width);
        var reference = new NumpyRandom(5);
        for (var i = 0; i < draws; i++)
        {
            reference.RandomSample();
        }

        Assert.Equal(reference.RandomSample(), model.Numpy.RandomSample());
    }

    [Fact]
    public void A_CPU_dropout_mask_holds_thincs_mask_from_numpy_in_its_shape()
    {
        // The mask is drawn straight into the tensor's storage: it must be numpy's draw, value for value, in C order.
        Assert.NotNull(fixture.Info);
        var masks = new DropoutMasks(new NumpyRandom(7));
        using var mask = masks.Mask([3, 5], 0.25, torch.CPU);
        var expected = new float[15];
        new NumpyRandom(7).FillDropoutMask(expected, 0.25);
        Assert.Equal([3L, 5L], mask.shape);
        Assert.Equal(torch.ScalarType.Float32, mask.dtype);
        Assert.Equal(expected, mask.data<float>().ToArray());
        Assert.Contains(0f, expected);
        Assert.Contains(1f / 0.75f, expected);
        // The next mask continues numpy's stream.
        using var next = masks.Mask([4], 0.25, torch.CPU);
        var following = new NumpyRandom(7);
        following.SkipDropoutMask(15, 0.25);
        var expectedNext = new float[4];
        following.FillDropoutMask(expectedNext, 0.25);
        Assert.Equal(expectedNext, next.data<float>().ToArray());
    }

    [Fact]
    public void The_parser_gradient_is_spaCys_log_loss()
    {
        // Scores of four classes; class 1 is the only zero-cost one, class 3 invalid.
        float[] scores = [1f, 2f, 0.5f, -1f];
        float[] costs = [1f, 0f, 1f, 9000f];
        bool[] valid = [true, true, true, false];
        var d = new float[4];
        TorchTransitionParser.LogLoss(scores, costs, valid, d);
        var z = scores.Sum(s => Math.Exp(s - 2));
        Assert.Equal(Math.Exp(1 - 2) / z, d[0], 5);
        Assert.Equal((Math.Exp(0) / z) - 1, d[1], 5);
        Assert.Equal(Math.Exp(-1 - 2) / z, d[3], 5);
        // The gradient pushes the gold class up and every other one down.
        Assert.True(d[1] < 0 && d[0] > 0 && d[2] > 0);
    }

    private static (TorchTransitionParser Parser, BiluoTransitionSystem Moves, ThincParameters Parameters) Parser(bool useNegatives)
    {
        var (_, text) = TinyData.Config(["ner"], 10);
        var config = new Core.Config.ResolvedConfig(Core.Config.SpacyConfigDocument.Parse(text), "config.cfg");
        var plan = SpacyPipelinePlan.Create(config, new SpacyVocab(), _ => new ComponentLabels { Labels = ["BRAND"], TokenCounts = new Dictionary<string, long> { ["BRAND"] = 3 } });
        var parameters = new ThincParameters(plan.Component("ner"), torch.CPU, ThincInitialization.Draw(plan.Component("ner"), new NumpyRandom(0)));
        return (new TorchTransitionParser(parameters, 100, useNegatives, new NumpyRandom(0)), new BiluoTransitionSystem(plan.Component("ner").Moves), parameters);
    }

    private static Example Sentence(IReadOnlyList<LabeledSpan>? entities, bool[]? missing, IReadOnlyList<LabeledSpan>? incorrect = null)
    {
        string[] words = ["I", "love", "Gucci", "bags", "from", "Louis", "Vuitton", "."];
        return new Example
        {
            Words = words,
            Spaces = words.Select(_ => true).ToArray(),
            Norms = words.Select(w => w.ToLowerInvariant()).ToArray(),
            Entities = entities,
            EntityMissing = missing,
            IncorrectEntities = incorrect ?? [],
        };
    }

    [Fact]
    public void The_oracle_follows_the_gold_entities_with_spaCys_moves()
    {
        Assert.NotNull(fixture.Info);
        var (parser, moves, parameters) = Parser(useNegatives: false);
        using var _ = parameters;
        var example = Sentence([new(2, 3, "BRAND"), new(5, 7, "BRAND")], new bool[8]);
        var doc = TrainingDoc.From(example).Doc;

        var sequence = parser.OracleSequence(moves.Start(doc, 0), parser.Gold(example));

        Assert.Equal(["O", "O", "U-BRAND", "O", "O", "B-BRAND", "L-BRAND", "O"], sequence.Select(moves.ClassName));
    }

    [Fact]
    public void Missing_tokens_cost_nothing_and_a_rejected_entity_costs_one()
    {
        Assert.NotNull(fixture.Info);
        var (parser, moves, parameters) = Parser(useNegatives: true);
        using var _ = parameters;
        var example = Sentence([], Enumerable.Repeat(true, 8).ToArray(), [new(2, 3, "BRAND")]);
        var gold = parser.Gold(example);
        var state = moves.Start(TrainingDoc.From(example).Doc, 0);
        Assert.True(gold.HasGold(0, 8));

        // Token 0: no annotation, so every valid move is as good as any other.
        Assert.All(Enumerable.Range(0, moves.ClassCount).Where(c => moves.IsValid(state, c)), c => Assert.Equal(0, moves.Cost(state, gold, c)));
        moves.Apply(state, Enumerable.Range(0, moves.ClassCount).First(c => moves.ClassName(c) == "O"));
        moves.Apply(state, Enumerable.Range(0, moves.ClassCount).First(c => moves.ClassName(c) == "O"));

        // Token 2 is rejected as a one-token BRAND: U-BRAND costs 1, the other moves nothing.
        var unit = Enumerable.Range(0, moves.ClassCount).First(c => moves.ClassName(c) == "U-BRAND");
        Assert.Equal(1, moves.Cost(state, gold, unit));
        Assert.Equal(0, moves.Cost(state, gold, Enumerable.Range(0, moves.ClassCount).First(c => moves.ClassName(c) == "O")));
    }

    [Fact]
    public void Frozen_components_keep_their_weights()
    {
        Assert.NotNull(fixture.Info);
        var (_, text) = TinyData.Config(["ner"], 10);
        var document = Core.Config.SpacyConfigDocument.Parse(text);
        document.SetRaw("training", "frozen_components", "[\"tok2vec\"]");
        text = document.ToString();
        var settings = Configuration.TrainingSettings.From(new Core.Config.ResolvedConfig(Core.Config.SpacyConfigDocument.Parse(text), "frozen.cfg"));
        var train = TinyData.Examples(32, 9);
        using var model = TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine }, train);
        var before = Path.Combine(_directory, "before");
        var after = Path.Combine(_directory, "after");
        model.Write(before, new ScoreSet(), new Dictionary<string, double>());
        using var optimizer = new AdamOptimizer(model.TrainableParameters, settings.Loop);
        var docs = train.Select(TrainingDoc.From).ToList();
        for (var step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            using var scope = torch.NewDisposeScope();
            Assert.DoesNotContain("tok2vec", model.Update(docs, 0.1, new PythonRandom(step)).Keys);
            optimizer.Step();
        }

        model.Write(after, new ScoreSet(), new Dictionary<string, double>());

        Assert.Equal(File.ReadAllBytes(Path.Combine(before, "tok2vec", "model")), File.ReadAllBytes(Path.Combine(after, "tok2vec", "model")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(before, "ner", "model")), File.ReadAllBytes(Path.Combine(after, "ner", "model")));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.0)]
    public void The_CPU_training_pass_of_the_tok2vec_computes_what_autograd_computes(double dropout)
    {
        Assert.NotNull(fixture.Info);
        var train = TinyData.Examples(12, 17);
        using var model = Trained(["ner"], train, 2);
        GradientCheck.AssertHostPassMatchesAutograd(model, train.Select(TrainingDoc.From).Where(d => d.Length > 0).ToList(), dropout);
    }

    [Fact]
    public void The_tok2vec_backward_pass_matches_finite_differences()
    {
        // The hand-written CPU backward against the forward pass itself (no dropout: the same function each time).
        Assert.NotNull(fixture.Info);
        var train = TinyData.Examples(3, 19);
        using var model = Trained(["ner"], train, 2);
        var encoder = model.Encoder("tok2vec");
        var parameters = model.Parameters("tok2vec");
        var docs = train.Select(TrainingDoc.From).Where(d => d.Length > 0).ToList();
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        torch.random.manual_seed(4);
        using var upstream = torch.randn([layout.Total, encoder.Width]);
        var weights = upstream.data<float>().ToArray();
        double Objective()
        {
            using var scope = torch.NewDisposeScope();
            var output = encoder.Forward(docs, layout, train: false, 0).data<float>().ToArray();
            return output.Select((v, i) => (double)v * weights[i]).Sum();
        }

        foreach (var parameter in parameters.All)
        {
            using var gradient = parameter.grad;
            gradient?.zero_();
        }

        using (var scope = torch.NewDisposeScope())
        {
            (encoder.Forward(docs, layout, train: true, 0) * upstream).sum().backward();
            encoder.BackwardPending();
        }

        // The table rows the first document's tokens use (the rest of a table gets no gradient), and spread entries of the layers.
        var usedRows = docs[0].HashRows(encoder)[0];
        var width = encoder.Width;
        var checks = new (string Key, long[] Indices)[]
        {
            ("embed.hashembed.0.E", [usedRows[0] * width, (usedRows[5] * width) + 7, (usedRows[10] * width) + 31]),
            ("embed.maxout.W", [0, 4099, 9001, 20011]),
            ("embed.maxout.b", [0, 17, 50]),
            ("embed.layernorm.G", [1, 20]),
            ("embed.layernorm.b", [3, 30]),
            ("encode.0.maxout.W", [5, 3001, 8887]),
            ("encode.1.maxout.b", [2, 61]),
            ("encode.1.layernorm.G", [0, 19]),
        };

        // The objective is about 45, summed from float outputs: a difference over 1e-3 can drown in their
        // rounding, one over 1e-2 can cross the layer norm's curvature, and a maxout's winner can switch
        // within any width, where only the one-sided difference of the point's own side is its slope. So
        // each entry must match the backward pass at one of three widths, centrally or on one side; a
        // wrong gradient matches at none.
        var widths = new[] { 1e-2f, 3e-3f, 1e-3f };
        foreach (var (key, indices) in checks)
        {
            var tensor = parameters[key];
            using var flat = tensor.detach().view(-1);
            using var gradient = tensor.grad!;
            using var flatGradient = gradient.view(-1);
            var values = flat.data<float>();
            var grad = flatGradient.data<float>().ToArray();
            Assert.Contains(grad, g => g != 0);
            foreach (var index in indices.Select(i => i % tensor.numel()))
            {
                var original = values[index];
                var centre = Objective();
                var differences = widths.SelectMany(h =>
                {
                    values[index] = original + h;
                    var plus = Objective();
                    values[index] = original - h;
                    var minus = Objective();
                    values[index] = original;
                    return new[] { (plus - minus) / (2 * h), (plus - centre) / h, (centre - minus) / h };
                }).ToList();
                var analytic = grad[index];
                Assert.True(
                    differences.Any(d => Math.Abs(d - analytic) <= (0.05 * Math.Max(Math.Abs(d), Math.Abs(analytic))) + 1e-4),
                    $"{key}[{index}]: finite differences (central, right, left) {string.Join(", ", differences)} over {string.Join(", ", widths)}, backward pass {analytic}");
            }
        }
    }

    [Fact]
    public void The_parser_backward_pass_matches_finite_differences()
    {
        Assert.NotNull(fixture.Info);
        // Seeded before the parameters are drawn: the check must not depend on which tests ran before.
        torch.random.manual_seed(3);
        var (parser, _, parameters) = Parser(useNegatives: false);
        using var owned = parameters;
        var random = new Random(5);
        // Non-zero upper weights (they start at zero) so that every layer's gradient is exercised.
        parameters.Set("upper.W", Enumerable.Range(0, (int)parameters["upper.W"].numel()).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
        var docs = new[]
        {
            Sentence([new(2, 3, "BRAND"), new(5, 7, "BRAND")], new bool[8]),
            Sentence([new(0, 2, "BRAND")], new bool[8]),
        }.Select(TrainingDoc.From).ToList();
        using var tokvecs = torch.randn([16, parameters["projection.W"].shape[1]]).requires_grad_();
        double Objective()
        {
            using var scope = torch.NewDisposeScope();
            parser.Update(docs, (_, _) => tokvecs, train: false, new PythonRandom(1));
            return parser.LastObjective;
        }

        using (var scope = torch.NewDisposeScope())
        {
            parser.Update(docs, (_, _) => tokvecs, train: false, new PythonRandom(1))!.Value.Surrogate.backward();
        }

        var checkedEntries = 0;
        foreach (var (name, tensor) in new (string, torch.Tensor)[]
        {
            ("upper.b", parameters["upper.b"]), ("upper.W", parameters["upper.W"]), ("lower.b", parameters["lower.b"]),
            ("lower.pad", parameters["lower.pad"]), ("lower.W", parameters["lower.W"]), ("projection.W", parameters["projection.W"]), ("tokvecs", tokvecs),
        })
        {
            // Flat views of the same storage: the accessor indexes a 1-d tensor by one number.
            using var flat = tensor.detach().view(-1);
            using var flatGradient = tensor.grad!.view(-1);
            var values = flat.data<float>();
            var gradient = flatGradient.data<float>();
            var count = tensor.numel();
            for (var k = 0; k < 6; k++)
            {
                var i = (k * 7919L) % count;
                const float eps = 1e-3f;
                var original = values[i];
                values[i] = original + eps;
                var plus = Objective();
                values[i] = original - eps;
                var minus = Objective();
                values[i] = original;
                var numeric = (plus - minus) / (2 * eps);
                var analytic = gradient[i];
                Assert.True(Math.Abs(numeric - analytic) <= (0.05 * Math.Max(Math.Abs(numeric), Math.Abs(analytic))) + 2e-3, $"{name}[{i}]: finite differences {numeric}, backward pass {analytic}");
                checkedEntries++;
            }
        }

        Assert.Equal(42, checkedEntries);
    }

    [Fact]
    public void A_document_without_entity_annotation_gives_the_parser_nothing_to_learn()
    {
        Assert.NotNull(fixture.Info);
        var (parser, _, parameters) = Parser(useNegatives: true);
        using var owned = parameters;
        // A textcat example: its whitespace tokens are O only where the document has entity annotation.
        string[] words = ["Crash", "\n\n", "on", "start", "\n"];
        var textcatOnly = new Example { Words = words, Spaces = words.Select(_ => false).ToArray(), Norms = words };
        var annotated = new Example { Words = words, Spaces = words.Select(_ => false).ToArray(), Norms = words, Entities = [], EntityMissing = Enumerable.Repeat(true, 5).ToArray() };

        Assert.False(parser.HasGold(textcatOnly));
        Assert.Null(parser.Update([TrainingDoc.From(textcatOnly)], (_, _) => throw new InvalidOperationException("no document needs the encoder"), train: true, new PythonRandom(0)));
        Assert.True(parser.HasGold(annotated));
        Assert.Equal(BiluoTransitionSystem.Out, parser.Gold(annotated).Moves[1]);
    }
}
