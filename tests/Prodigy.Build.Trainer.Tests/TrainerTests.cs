using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Inference;
using Prodigy.Build.Trainer.Model;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>Training on tiny data, each component, mixed, binary NER, determinism, cancellation, loading back.</summary>
[Collection(TorchCollection.Name)]
public sealed class TrainerTests(TorchRuntimeFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-trainer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TrainingResult Train(IReadOnlyList<string> components, List<Example> train, List<Example> dev, string? output = null, int maxSteps = 120, CancellationToken cancellationToken = default)
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(components, maxSteps);
        return PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = log.WriteLine }, train, dev, cancellationToken);
    }

    /// <summary>The ner config with the opt-in CRF architecture in place of the transition-based parser.</summary>
    private static (TrainingSettings Settings, string Text) CrfConfig(int maxSteps)
    {
        var document = SpacyConfigDocument.Parse(TinyData.Config(["ner"], maxSteps).Text);
        document.SetRaw("components.ner.model", "@architectures", $"\"{NerSettings.CrfArchitecture}\"");
        var text = document.ToString();
        return (TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(text), "crf.cfg")), text);
    }

    [Fact]
    public void The_CRF_is_trained_only_when_the_config_names_its_registered_architecture_and_says_spaCy_cannot_load_it()
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = CrfConfig(60);
        Assert.True(settings.Ner!.Crf);
        var output = Path.Combine(_directory, "crf");
        var logged = new List<string>();
        var result = PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = l => { logged.Add(l); log.WriteLine(l); } }, TinyData.Examples(150, 91), TinyData.Examples(30, 92));

        Assert.Contains(logged, l => l.Contains(NerSettings.CrfArchitecture, StringComparison.Ordinal) && l.Contains("spaCy cannot load them", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(output, "model-best", ModelDirectory.WeightsFile)));
        Assert.Contains(NerSettings.CrfArchitecture, File.ReadAllText(Path.Combine(output, "model-best", ModelDirectory.ConfigFile)), StringComparison.Ordinal);
        Assert.True(result.BestScores.Values["ents_f"] >= 0.9, $"ents_f {result.BestScores.Values["ents_f"]}");

        // The default config (spaCy's parser) does not continue the CRF model: a coded error saying what to do.
        var (parser, parserText) = TinyData.Config(["ner"], 10);
        Assert.False(parser.Ner!.Crf);
        var error = Assert.Throws<TrainerInputException>(() => PipelineTrainer.Train(new TrainingRun { Settings = parser, ConfigText = parserText, BaseModel = Path.Combine(output, "model-best"), Log = log.WriteLine }, TinyData.Examples(20, 93), TinyData.Examples(10, 94)));
        Assert.Equal("PRD2309", error.Code);
        Assert.Contains($"@architectures = \"{NerSettings.CrfArchitecture}\"", error.Message, StringComparison.Ordinal);

        // Under the CRF config it continues.
        var continued = PipelineTrainer.Train(new TrainingRun { Settings = CrfConfig(10).Settings, ConfigText = CrfConfig(10).Text, BaseModel = Path.Combine(output, "model-best"), Log = log.WriteLine }, TinyData.Examples(20, 93), TinyData.Examples(10, 94));
        Assert.False(continued.Cancelled);
    }

    [Fact]
    public void A_TorchSharp_format_model_predicts_from_several_threads_at_once_as_it_does_alone()
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = CrfConfig(30);
        var output = Path.Combine(_directory, "crf-threads");
        PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = log.WriteLine }, TinyData.Examples(80, 95), TinyData.Examples(20, 96));
        using var pipeline = TrainedPipeline.Load(Path.Combine(output, "model-best"));
        var texts = TinyData.Examples(40, 97).Select(e => string.Join(' ', e.Words)).ToList();
        string Describe(ProcessedText doc) => string.Join(';', doc.Entities.Select(e => $"{e.Start}-{e.End}:{e.Label}"));
        var alone = texts.Select(t => Describe(pipeline.Process(t))).ToList();
        Assert.Contains(alone, d => d.Length > 0);

        // Eight threads, each text many times, all at once: the same entities as one call at a time.
        var together = new string[8][];
        using var start = new Barrier(together.Length);
        var threads = Enumerable.Range(0, together.Length).Select(k => new Thread(() =>
        {
            start.SignalAndWait();
            together[k] = [.. Enumerable.Range(0, 5).SelectMany(_ => texts).Select(t => Describe(pipeline.Process(t)))];
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        foreach (var run in together)
        {
            Assert.Equal([.. Enumerable.Range(0, 5).SelectMany(_ => alone)], run);
        }
    }

    [Fact]
    public void The_ngram_range_suggester_gives_every_length_from_min_to_max()
    {
        var document = SpacyConfigDocument.Parse(TinyData.Config(["spancat"], 10).Text);
        document.RemoveSection("components.spancat.suggester");
        document.SetRaw("components.spancat.suggester", "@misc", "\"spacy.ngram_range_suggester.v1\"");
        document.SetRaw("components.spancat.suggester", "min_size", "2");
        document.SetRaw("components.spancat.suggester", "max_size", "4");
        var settings = TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(document.ToString()), "range.cfg"));
        Assert.Equal([2, 3, 4], settings.Spancat!.SuggesterSizes);
    }

    [Fact]
    public void Ner_learns_entities_and_reports_spacy_scores()
    {
        var result = Train(["ner"], TinyData.Examples(200, 1), TinyData.Examples(60, 2));

        Assert.True(result.BestScores.Values["ents_f"] >= 0.9, $"ents_f {result.BestScores.Values["ents_f"]}");
        Assert.Equal(result.BestScores.Values["ents_f"]!.Value, result.BestScore, 9);
        Assert.Contains("BRAND", result.BestScores.PerType["ents_per_type"]!.Keys);
    }

    [Fact]
    public void Exclusive_textcat_learns_categories()
    {
        // Bag-of-words weights start at zero and move by the learn rate: a few hundred steps.
        var result = Train(["textcat"], TinyData.Examples(200, 3, entities: false, cats: true), TinyData.Examples(60, 4, entities: false, cats: true), maxSteps: 400);

        Assert.True(result.BestScores.Values["cats_score"] >= 0.9, $"cats_score {result.BestScores.Values["cats_score"]}");
        Assert.Equal("macro F", result.BestScores.Descriptions["cats_score_desc"]);
    }

    [Fact]
    public void Multilabel_textcat_is_scored_by_macro_auc()
    {
        var result = Train(["textcat_multilabel"], TinyData.Examples(200, 5, entities: false, multilabel: true), TinyData.Examples(60, 6, entities: false, multilabel: true));

        Assert.Equal("macro AUC", result.BestScores.Descriptions["cats_score_desc"]);
        Assert.True(result.BestScores.Values["cats_macro_auc"] >= 0.9, $"auc {result.BestScores.Values["cats_macro_auc"]}");
    }

    [Fact]
    public void Spancat_learns_labelled_spans()
    {
        var result = Train(["spancat"], TinyData.Examples(200, 7, entities: false, spans: true), TinyData.Examples(60, 8, entities: false, spans: true), maxSteps: 160);

        Assert.True(result.BestScores.Values["spans_sc_f"] >= 0.8, $"spans_sc_f {result.BestScores.Values["spans_sc_f"]}");
    }

    [Fact]
    public void A_mixed_pipeline_trains_every_component_over_one_encoder()
    {
        var result = Train(["ner", "textcat"], TinyData.Examples(200, 9, cats: true), TinyData.Examples(60, 10, cats: true));

        Assert.True(result.BestScores.Values["ents_f"] >= 0.8, $"ents_f {result.BestScores.Values["ents_f"]}");
        Assert.True(result.BestScores.Values["cats_score"] >= 0.8, $"cats_score {result.BestScores.Values["cats_score"]}");
    }

    [Fact]
    public void Binary_ner_data_trains_with_missing_tokens_and_rejected_spans()
    {
        // ner.teach data: only the suggested span is known; accepted ones are entities, rejected
        // ones (here: a wrong token suggested) are known not to be; every other token is missing.
        var random = new Random(11);
        var train = TinyData.Examples(400, 11).Select((e, i) =>
        {
            var brand = e.Entities![0];
            var missing = Enumerable.Repeat(true, e.Length).ToArray();
            if (i % 2 == 0)
            {
                missing[brand.Start] = false;
                return new Example { Words = e.Words, Spaces = e.Spaces, Norms = e.Norms, Entities = [brand], EntityMissing = missing };
            }

            var wrong = Enumerable.Range(0, e.Length).Where(t => t != brand.Start).ElementAt(random.Next(e.Length - 1));
            return new Example
            {
                Words = e.Words,
                Spaces = e.Spaces,
                Norms = e.Norms,
                Entities = [],
                EntityMissing = missing,
                IncorrectEntities = [new LabeledSpan(wrong, wrong + 1, "BRAND")],
            };
        }).ToList();

        // The SDK's corpus config for binary NER data names the rejected spans' group, as Prodigy's does.
        var (settings, text) = TinyData.Config(["ner"], 400);
        var document = SpacyConfigDocument.Parse(text);
        document.SetRaw("components.ner", "incorrect_spans_key", "\"incorrect_spans\"");
        text = document.ToString();
        settings = TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(text), "binary.cfg"));
        var result = PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, Log = log.WriteLine }, train, TinyData.Examples(60, 12));

        Assert.True(result.BestScores.Values["ents_f"] >= 0.7, $"ents_f {result.BestScores.Values["ents_f"]}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_scores_and_weights()
    {
        var first = Path.Combine(_directory, "a");
        var second = Path.Combine(_directory, "b");

        var a = Train(["ner", "textcat"], TinyData.Examples(120, 13, cats: true), TinyData.Examples(40, 14, cats: true), first, maxSteps: 60);
        var b = Train(["ner", "textcat"], TinyData.Examples(120, 13, cats: true), TinyData.Examples(40, 14, cats: true), second, maxSteps: 60);

        Assert.Equal(a.BestScore, b.BestScore);
        Assert.Equal(a.BestStep, b.BestStep);
        foreach (var file in new[] { "tok2vec/model", "ner/model", "ner/moves", "textcat/model", "meta.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, "model-best", file)), File.ReadAllBytes(Path.Combine(second, "model-best", file)));
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, "model-last", file)), File.ReadAllBytes(Path.Combine(second, "model-last", file)));
        }
    }

    [Fact]
    public void A_cancelled_run_stops_and_writes_no_model_last()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var models = Path.Combine(_directory, "cancelled");

        var result = Train(["ner"], TinyData.Examples(50, 15), TinyData.Examples(10, 16), models, cancellationToken: cancellation.Token);

        Assert.True(result.Cancelled);
        Assert.Equal(0, result.Steps);
        Assert.False(Directory.Exists(Path.Combine(models, "model-last")));
    }

    [Fact]
    public void A_saved_model_loads_back_and_finds_entities_and_categories_in_text()
    {
        var models = Path.Combine(_directory, "saved");
        Train(["ner", "textcat"], TinyData.Examples(200, 17, cats: true), TinyData.Examples(60, 18, cats: true), models);
        var meta = File.ReadAllText(Path.Combine(models, "model-best", "meta.json"));
        Assert.Contains("\"ents_f\"", meta, StringComparison.Ordinal);

        using var pipeline = TrainedPipeline.Load(Path.Combine(models, "model-best"));
        var doc = pipeline.Process("My Gucci bag is perfect.");

        Assert.Equal(["My", "Gucci", "bag", "is", "perfect", "."], doc.Tokens.Select(t => t.Text));
        var entity = Assert.Single(doc.Entities);
        Assert.Equal(("Gucci", "BRAND", 3, 8), (entity.Text, entity.Label, entity.Start, entity.End));
        Assert.True(doc.Cats["textcat"]["POSITIVE"] > 0.5, $"POSITIVE {doc.Cats["textcat"]["POSITIVE"]}");
    }

    [Fact]
    public void Training_continues_from_a_base_model_with_the_same_labels()
    {
        var models = Path.Combine(_directory, "base");
        Train(["ner"], TinyData.Examples(120, 41), TinyData.Examples(30, 42), models, maxSteps: 60);
        var (settings, text) = TinyData.Config(["ner"], 40);

        var continued = PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, BaseModel = Path.Combine(models, "model-best"), Log = log.WriteLine }, TinyData.Examples(120, 43), TinyData.Examples(30, 44));

        // Starting from trained weights, the first evaluation (step 0) is already good.
        Assert.True(continued.BestScores.Values["ents_f"] >= 0.8, $"ents_f {continued.BestScores.Values["ents_f"]}");
    }

    [Fact]
    public void Continuing_with_added_labels_keeps_the_base_labels_first_and_their_weights()
    {
        // Base: NER with BRAND, a multilabel textcat with PRAISE. New data adds ITEM and FOOTWEAR.
        var models = Path.Combine(_directory, "base");
        var baseData = TinyData.Examples(120, 51, multilabel: true).Select(e => With(e, cats: new Dictionary<string, double> { ["PRAISE"] = e.Cats["PRAISE"] })).ToList();
        Train(["ner", "textcat_multilabel"], baseData, TinyData.Examples(30, 52, multilabel: true), models, maxSteps: 60);
        var baseModel = Path.Combine(models, "model-best");
        var more = TinyData.Examples(60, 53, multilabel: true, spans: true).Select(e => WithItems(e)).ToList();
        var (settings, text) = TinyData.Config(["ner", "textcat_multilabel"], 20);
        var messages = new List<string>();
        var run = new TrainingRun { Settings = settings, ConfigText = text, BaseModel = baseModel, OutputDirectory = Path.Combine(_directory, "continued"), Log = messages.Add };

        using var before = TrainableSpacyPipeline.Create(run, more);
        var written = Path.Combine(_directory, "step0");
        before.Write(written, new ScoreSet(), new Dictionary<string, double>());
        var baseline = SpacyPipeline.Load(baseModel);
        var continued = SpacyPipeline.Load(written);

        Assert.Equal(["BRAND", "ITEM"], continued.Components.Single(c => c.Name == "ner").Labels.Order(StringComparer.Ordinal));
        Assert.Equal(["PRAISE", "FOOTWEAR"], continued.Components.Single(c => c.Name == "textcat_multilabel").Labels);
        Assert.Contains("Base model: [ner] labels added: ITEM", messages);
        Assert.Contains("Base model: [textcat_multilabel] labels added: FOOTWEAR", messages);

        // The base's classes keep their places and the new label's moves follow them.
        var baseClasses = ((EntityRecognizerComponent)baseline.Components.Single(c => c.Name == "ner")).Classes;
        var classes = ((EntityRecognizerComponent)continued.Components.Single(c => c.Name == "ner")).Classes;
        Assert.Equal(baseClasses, classes.Take(baseClasses.Count));
        Assert.Equal(["B-ITEM", "I-ITEM", "L-ITEM", "U-ITEM"], classes.Skip(baseClasses.Count).Select(c => $"{"MBILUO"[c.Move]}-{c.Label}"));

        // Every base weight was carried over: the tok2vec equals the base's, and PRAISE (an independent
        // logistic output) scores as in the base model.
        Assert.True(Directory.Exists(Path.Combine(baseModel, "tok2vec")), "the base model has no shared tok2vec to compare");
        Assert.Equal(File.ReadAllBytes(Path.Combine(baseModel, "tok2vec", "model")), File.ReadAllBytes(Path.Combine(written, "tok2vec", "model")));

        var texts = TinyData.Examples(20, 54).Select(e => string.Join(' ', e.Words)).ToList();
        var baseOut = baseline.Process(texts);
        var continuedOut = continued.Process(texts);
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.Equal(baseOut[i].Cats["PRAISE"], continuedOut[i].Cats["PRAISE"]);
        }
    }

    [Fact]
    public void Every_output_layer_that_grows_keeps_the_base_values_for_the_old_labels()
    {
        // No training: a base pipeline of every head (the ensemble textcat has a linear layer too), saved,
        // then the pipeline a run with more labels starts from. "A" sorts before the base's "B" but comes after it.
        var (settings, text, baseModel, baseLabels) = SaveUntrainedAccuracyModel();

        var moreLabels = new Dictionary<string, IReadOnlyList<string>> { ["ner"] = ["A", "B"], ["textcat"] = ["MIXED", "NEG", "POS"], ["spancat"] = ["X", "Y"] };
        var run = new TrainingRun { Settings = settings, ConfigText = text, BaseModel = baseModel, LabelsFile = c => moreLabels.GetValueOrDefault(c), Log = log.WriteLine };

        using var continued = PipelineTrainer.CreatePipeline(run, []);
        using var reloaded = new Pipeline(settings, baseLabels, torch.CPU);
        reloaded.load(Path.Combine(baseModel, "weights.bin"));

        Assert.Equal(["B", "A"], continued.Labels.Ner);
        Assert.Equal(["NEG", "POS", "MIXED"], continued.Labels.Textcat["textcat"]);
        Assert.Equal(["X", "Y"], continued.Labels.Spancat);
        var baseWeights = reloaded.state_dict();
        var grown = new List<string>();
        foreach (var (name, weight) in continued.state_dict())
        {
            var old = baseWeights[name];
            var carried = Enumerable.Range(0, old.shape.Length).Aggregate(weight, (t, d) => t.narrow(d, 0, old.shape[d]));
            Assert.True(carried.eq(old).all().item<bool>(), $"{name} was not carried over");
            if (!old.shape.SequenceEqual(weight.shape))
            {
                grown.Add(name);
            }
        }

        Assert.Equal(9, grown.Count);
        Assert.Contains(grown, n => n.Contains("ner", StringComparison.Ordinal) && n.EndsWith("weight", StringComparison.Ordinal));
        Assert.Contains(grown, n => n.Contains("ner", StringComparison.Ordinal) && n.EndsWith("transitions", StringComparison.Ordinal)); // [tags, tags]: both dimensions
        Assert.Contains(grown, n => n.Contains("spancat", StringComparison.Ordinal) && n.EndsWith("bias", StringComparison.Ordinal));
        Assert.Equal(4, grown.Count(n => n.Contains("textcat", StringComparison.Ordinal))); // bag of words, bias, linear weight and bias
    }

    [Fact]
    public void A_base_model_whose_textcat_has_another_architecture_is_PRD2309()
    {
        var baseModel = SaveUntrainedAccuracyModel().Directory;

        var (bagOfWords, bagOfWordsText) = TinyData.Config(["ner", "textcat", "spancat"]);
        var error = Assert.Throws<TrainerInputException>(() => PipelineTrainer.CreatePipeline(new TrainingRun { Settings = bagOfWords, ConfigText = bagOfWordsText, BaseModel = baseModel, Log = log.WriteLine }, TinyData.Examples(10, 69, cats: true, spans: true)));

        Assert.Equal("PRD2309", error.Code);
        Assert.Contains("architecture differs", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An untrained ner, ensemble textcat and spancat pipeline (spaCy's accuracy config, shrunk) saved as a model folder.</summary>
    private (TrainingSettings Settings, string Text, string Directory, PipelineLabels Labels) SaveUntrainedAccuracyModel()
    {
        Assert.NotNull(fixture.Info);
        var document = SpacyConfigGenerator.GenerateDocument(new SpacyConfigRequest("en", ["ner", "textcat", "spancat"], SpacyOptimize.Accuracy));
        document.SetRaw("components.tok2vec.model.encode", "width", "32");
        document.SetRaw("components.tok2vec.model.embed", "rows", "[500,100,250,250]");
        document.SetRaw("components.tok2vec.model.embed", "include_static_vectors", "false");
        var text = document.ToString();
        var settings = TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(text), "accuracy.cfg"));
        var labels = new PipelineLabels { Ner = ["B"], Textcat = { ["textcat"] = ["NEG", "POS"] }, Spancat = ["X"] };
        var directory = Path.Combine(_directory, "untrained");
        using var pipeline = new Pipeline(settings, labels, torch.CPU);
        ModelDirectory.Save(directory, pipeline, text, null, new Dictionary<string, double?>(), 0, 0, 0);
        return (settings, text, directory, labels);
    }

    [Theory]
    [InlineData("components.tok2vec.model.encode", "width", "48")]
    [InlineData("components.ner.model", "hidden_width", "32")]
    public void A_base_model_of_another_shape_is_PRD2309_naming_the_parameter(string section, string key, string value)
    {
        var models = Path.Combine(_directory, "base");
        Train(["ner"], TinyData.Examples(60, 61), TinyData.Examples(10, 62), models, maxSteps: 10);
        var document = SpacyConfigDocument.Parse(TinyData.Config(["ner"], 10).Text);
        document.SetRaw(section, key, value);
        var settings = TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(document.ToString()), "wide.cfg"));

        var error = Assert.Throws<TrainerInputException>(() => PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = document.ToString(), BaseModel = Path.Combine(models, "model-best"), Log = log.WriteLine }, TinyData.Examples(60, 63), TinyData.Examples(10, 64)));

        Assert.Equal("PRD2309", error.Code);
        Assert.Contains("has the shape", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base_component_the_config_does_not_train_is_kept_as_it_is_sourced_and_frozen()
    {
        var models = Path.Combine(_directory, "base");
        Train(["ner", "textcat_multilabel"], TinyData.Examples(60, 65, multilabel: true), TinyData.Examples(10, 66, multilabel: true), models, maxSteps: 10);
        var baseFolder = Path.Combine(models, "model-best");
        var (settings, text) = TinyData.Config(["ner"], 10);
        var output = Path.Combine(_directory, "continued");
        var messages = new List<string>();

        PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, BaseModel = baseFolder, OutputDirectory = output, Log = m => { messages.Add(m); log.WriteLine(m); } }, TinyData.Examples(60, 67), TinyData.Examples(10, 68));

        Assert.Contains(messages, m => m.Contains("textcat_multilabel kept as they are, frozen", StringComparison.Ordinal));
        var continued = Path.Combine(output, "model-last");

        // The textcat is the base's, byte for byte, and config.cfg says it is in the pipeline and frozen.
        foreach (var file in new[] { "model", "cfg" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(baseFolder, "textcat_multilabel", file)), File.ReadAllBytes(Path.Combine(continued, "textcat_multilabel", file)));
        }

        var config = new ResolvedConfig(SpacyConfigDocument.Load(Path.Combine(continued, "config.cfg")), "config.cfg");
        Assert.Equal(["tok2vec", "ner", "textcat_multilabel"], config.StringList("nlp", "pipeline"));
        Assert.Contains("textcat_multilabel", config.StringList("training", "frozen_components"));
        Assert.Equal("textcat_multilabel", config.String("components.textcat_multilabel", "factory"));

        // The reader runs it: the same cats as the base pipeline gives.
        var texts = TinyData.Examples(5, 70, multilabel: true).Select(e => TrainingDoc.ToPipelineDoc(e.Words, e.Spaces, e.Norms)).ToList();
        var fromBase = texts.Select(d => new PipelineDoc(d.Text, d.Tokens)).ToList();
        var fromContinued = texts.Select(d => new PipelineDoc(d.Text, d.Tokens)).ToList();
        SpacyPipeline.Load(baseFolder).Annotate(fromBase);
        SpacyPipeline.Load(continued).Annotate(fromContinued);
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.Equal(fromBase[i].Cats, fromContinued[i].Cats);
        }
    }

    [Fact]
    public void A_base_component_this_trainer_cannot_carry_is_PRD2309_naming_it()
    {
        var models = Path.Combine(_directory, "base");
        Train(["ner"], TinyData.Examples(60, 71), TinyData.Examples(10, 72), models, maxSteps: 10);
        var baseFolder = Path.Combine(models, "model-best");

        // A tagger in the base (as en_core_web_sm has): no writer for it, so it could not be kept.
        var document = SpacyConfigDocument.Load(Path.Combine(baseFolder, "config.cfg"));
        document.SetRaw("nlp", "pipeline", "[\"tok2vec\",\"tagger\",\"ner\"]");
        document.SetRaw("components.tagger", "factory", "\"tagger\"");
        File.WriteAllText(Path.Combine(baseFolder, "config.cfg"), document.ToString());
        var (settings, text) = TinyData.Config(["ner"], 10);

        var error = Assert.Throws<TrainerInputException>(() => PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, BaseModel = baseFolder, Log = log.WriteLine }, TinyData.Examples(60, 73), TinyData.Examples(10, 74)));

        Assert.Equal("PRD2309", error.Code);
        Assert.Contains("'tagger' (factory 'tagger')", error.Message, StringComparison.Ordinal);
    }

    // The brand and the thing ("ITEM", taken from the spans) as entities, in order.
    private static Example WithItems(Example example) =>
        With(example, entities: [.. new[] { example.Entities![0], example.SpanGroups["sc"][1] }.OrderBy(e => e.Start)]);

    private static Example With(Example example, IReadOnlyList<LabeledSpan>? entities = null, Dictionary<string, double>? cats = null) => new()
    {
        Words = example.Words,
        Spaces = example.Spaces,
        Norms = example.Norms,
        Entities = entities ?? example.Entities,
        EntityMissing = example.EntityMissing,
        Cats = cats ?? example.Cats,
    };
}
