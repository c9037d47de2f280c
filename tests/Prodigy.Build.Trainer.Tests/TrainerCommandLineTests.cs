using System.Text.Json.Nodes;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Core.Tokenization;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Trainer.Inference;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>prodigy-build-train as the SDK runs it: a corpus and config on disk, train, then evaluate.</summary>
[Collection(TorchCollection.Name)]
public sealed class TrainerCommandLineTests(TorchRuntimeFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-trainer-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static SpacyDoc ToDoc(Example example)
    {
        var doc = new SpacyDoc(example.Words, example.Spaces, example.Norms);
        var tags = Enumerable.Repeat(EntityTag.Outside, example.Length).ToArray();
        foreach (var entity in example.Entities ?? [])
        {
            for (var i = entity.Start; i < entity.End; i++)
            {
                tags[i] = new EntityTag(i == entity.Start ? EntityIob.Begin : EntityIob.Inside, entity.Label);
            }
        }

        doc.Entities = tags;
        doc.Cats.AddRange(example.Cats.Select(c => new KeyValuePair<string, object>(c.Key, c.Value)));
        return doc;
    }

    /// <summary>
    /// The example as Prodigy exports it: a ner_manual line (with its tokens, or without them for the
    /// model's tokenizer to split the text) and a choice line with the categories, for the same input.
    /// </summary>
    private static IEnumerable<string> ProdigyLines(Example example, bool withTokens)
    {
        var starts = new List<int>();
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < example.Length; i++)
        {
            starts.Add(text.Length);
            text.Append(example.Words[i]).Append(example.Spaces[i] ? " " : "");
        }

        var ner = new JsonObject
        {
            ["text"] = text.ToString(),
            ["spans"] = new JsonArray([.. (example.Entities ?? []).Select(e => new JsonObject { ["start"] = starts[e.Start], ["end"] = starts[e.End - 1] + example.Words[e.End - 1].Length, ["label"] = e.Label, ["token_start"] = e.Start, ["token_end"] = e.End - 1 })]),
            ["answer"] = "accept",
            ["_view_id"] = "ner_manual",
        };
        if (withTokens)
        {
            ner["tokens"] = new JsonArray([.. example.Words.Select((w, i) => new JsonObject { ["text"] = w, ["start"] = starts[i], ["end"] = starts[i] + w.Length, ["id"] = i, ["ws"] = example.Spaces[i] })]);
        }

        yield return ner.ToJsonString();
        if (example.Cats.Count > 0)
        {
            yield return new JsonObject
            {
                ["text"] = text.ToString(),
                ["options"] = new JsonArray([.. example.Cats.Keys.Select(k => new JsonObject { ["id"] = k, ["text"] = k })]),
                ["accept"] = new JsonArray([.. example.Cats.Where(c => c.Value > 0).Select(c => JsonValue.Create(c.Key))]),
                ["answer"] = "accept",
                ["_view_id"] = "choice",
            }.ToJsonString();
        }
    }

    [Fact]
    public void Train_writes_models_and_metrics_and_evaluate_prints_spacys_scores()
    {
        Assert.NotNull(fixture.Info);
        var train = Path.Combine(_directory, "train.spacy");
        var dev = Path.Combine(_directory, "dev.spacy");
        DocBin.Write(train, TinyData.Examples(150, 21).Select(ToDoc).ToList());
        DocBin.Write(dev, TinyData.Examples(40, 22).Select(ToDoc).ToList());
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"], maxSteps: 80).Text);
        var output = new StringWriter();

        var code = TrainerCommandLine.Run([
            "train", "--config", config, "--train", train, "--dev", dev, "--output", Path.Combine(_directory, "model"), "--label-stats",
            "--name", "tiny_ner", "--version", "2.1.0"],
            output, CancellationToken.None);

        Assert.True(code == 0, output.ToString());
        foreach (var folder in new[] { "model-best", "model-last" })
        {
            var meta = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "model", folder, "meta.json")))!;
            Assert.Equal("tiny_ner", (string?)meta["name"]);
            Assert.Equal("2.1.0", (string?)meta["version"]);
        }

        Assert.Contains("E    #       LOSS TOK2VEC  LOSS NER  ENTS_F  ENTS_P  ENTS_R   SCORE", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("ents_per_type", output.ToString(), StringComparison.Ordinal);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "model", "metrics.json")))!;
        var best = (double)metrics["score"]!;
        Assert.Equal(best, (double)metrics["scores"]!["ents_f"]!, 9);
        // The run reports its memory: the peak, at least what the process held with the corpus read.
        Assert.Matches(@"Memory: peak \d+ MB \(\d+ MB before the corpus, \d+ MB with it read; TorchSharp's native libraries (not )?loaded", output.ToString());
        Assert.True((double)metrics["peak_memory_mb"]! > 100, metrics.ToJsonString());

        var evaluation = new StringWriter();
        code = TrainerCommandLine.Run(["evaluate", "--model", Path.Combine(_directory, "model", "model-best"), "--data", dev, "--metrics", Path.Combine(_directory, "eval.json")], evaluation, CancellationToken.None);

        Assert.True(code == 0, evaluation.ToString());
        Assert.Contains("ents_f", evaluation.ToString(), StringComparison.Ordinal);
        var evaluated = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "eval.json")))!;
        // The best model scores on the dev set what training reported for it.
        Assert.Equal(best, (double)evaluated["scores"]!["ents_f"]!, 9);
    }

    [Theory]
    [InlineData("spacy.TransitionBasedParser.v2", "spacy.Tagger.v9", "PRD2301")]
    [InlineData("Adam.v1", "SGD.v1", "PRD2301")]
    public void A_config_the_trainer_cannot_train_is_an_error_that_names_what(string from, string to, string code)
    {
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"]).Text.Replace(from, to, StringComparison.Ordinal));
        var output = new StringWriter();

        var exit = TrainerCommandLine.Run(["train", "--config", config, "--train", "x.spacy", "--dev", "y.spacy", "--output", _directory], output, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains($"{config}: error {code}:", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(to, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_corpus_is_PRD2304_naming_the_file()
    {
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"]).Text);
        var output = new StringWriter();

        var exit = TrainerCommandLine.Run(["train", "--config", config, "--train", Path.Combine(_directory, "none.spacy"), "--dev", "y.spacy", "--output", _directory], output, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains(Path.Combine(_directory, "none.spacy") + ": error PRD2304:", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_scores_a_Prodigy_export_as_the_corpus_built_from_it()
    {
        Assert.NotNull(fixture.Info);
        var train = Path.Combine(_directory, "train.spacy");
        DocBin.Write(train, TinyData.Examples(150, 71, multilabel: true).Select(ToDoc).ToList());
        // One doc per text: the export merges annotations of the same text into one example.
        var dev = TinyData.Examples(60, 72, multilabel: true).DistinctBy(e => string.Join(" ", e.Words)).ToList();
        var devCorpus = Path.Combine(_directory, "dev.spacy");
        DocBin.Write(devCorpus, dev.Select(ToDoc).ToList());
        var export = Path.Combine(_directory, "dev.jsonl");
        var ignoredAndRejected = new[]
        {
            """{"text": "My Gucci bag is awful.", "spans": [{"start": 3, "end": 8, "label": "BRAND"}], "answer": "ignore", "_view_id": "ner_manual"}""",
            """{"text": "My Prada bag is awful.", "spans": [{"start": 9, "end": 12, "label": "BRAND"}], "answer": "reject", "_view_id": "ner_manual"}""",
        };
        File.WriteAllLines(export, dev.SelectMany((e, i) => ProdigyLines(e, withTokens: i % 2 == 0)).Concat(ignoredAndRejected));
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner", "textcat_multilabel"], maxSteps: 40).Text);
        var model = Path.Combine(_directory, "model", "model-best");
        var output = new StringWriter();
        Assert.True(TrainerCommandLine.Run(["train", "--config", config, "--train", train, "--dev", devCorpus, "--output", Path.Combine(_directory, "model")], output, CancellationToken.None) == 0, output.ToString());

        var fromCorpus = Evaluate(model, devCorpus);
        var fromExport = Evaluate(model, export);

        Assert.Equal(dev.Count, (int)fromExport.Output.Split('\n').Where(l => l.StartsWith("Training: ", StringComparison.Ordinal)).Select(l => int.Parse(l.Split("Evaluation: ")[1], System.Globalization.CultureInfo.InvariantCulture)).Single());
        foreach (var key in new[] { "ents_f", "ents_p", "ents_r", "cats_score", "cats_macro_auc", "cats_micro_f" })
        {
            Assert.Equal((double)fromCorpus.Scores["scores"]![key]!, (double)fromExport.Scores["scores"]![key]!, 12);
        }

        Assert.Equal(fromCorpus.Scores["score"]!.ToJsonString(), fromExport.Scores["score"]!.ToJsonString());
        Assert.Equal(fromCorpus.Scores["scores"]!["ents_per_type"]!.ToJsonString(), fromExport.Scores["scores"]!["ents_per_type"]!.ToJsonString());
    }

    [Fact]
    public void Evaluate_on_a_malformed_export_names_the_file_and_line()
    {
        Assert.NotNull(fixture.Info);
        var train = Path.Combine(_directory, "train.spacy");
        DocBin.Write(train, TinyData.Examples(40, 73).Select(ToDoc).ToList());
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"], maxSteps: 2, evalFrequency: 1).Text);
        var output = new StringWriter();
        Assert.True(TrainerCommandLine.Run(["train", "--config", config, "--train", train, "--dev", train, "--output", Path.Combine(_directory, "model")], output, CancellationToken.None) == 0, output.ToString());
        var export = Path.Combine(_directory, "bad.jsonl");
        File.WriteAllLines(export, [.. ProdigyLines(TinyData.Examples(1, 74)[0], withTokens: true), """{"text": "broken", "answer": """]);

        var evaluation = new StringWriter();
        var exit = TrainerCommandLine.Run(["evaluate", "--model", Path.Combine(_directory, "model", "model-best"), "--data", export], evaluation, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains($"{export}(2,", evaluation.ToString(), StringComparison.Ordinal);
        Assert.Contains("error PRD2011:", evaluation.ToString(), StringComparison.Ordinal);
    }

    private (string Output, JsonNode Scores) Evaluate(string model, string data)
    {
        var metrics = Path.Combine(_directory, Path.GetFileName(data) + ".metrics.json");
        var output = new StringWriter();
        var exit = TrainerCommandLine.Run(["evaluate", "--model", model, "--data", data, "--metrics", metrics], output, CancellationToken.None);
        Assert.True(exit == 0, output.ToString());
        return (output.ToString(), JsonNode.Parse(File.ReadAllText(metrics))!);
    }

    [Fact]
    public void A_spaCy_pipeline_as_base_model_gives_its_tokenizer_to_the_trained_model()
    {
        Assert.NotNull(fixture.Info);
        // spaCy's English rules plus a special case that splits "Gucci": visible in every token list.
        var spacyPipeline = Directory.CreateDirectory(Path.Combine(_directory, "en_pipeline")).FullName;
        var rules = (List<KeyValuePair<object?, object?>>)Core.Serialization.MsgPackReader.Decode(File.ReadAllBytes(Path.Combine(SharedData.Tokenizers, "en.tokenizer.msgpack")))!;
        var exceptions = (List<KeyValuePair<object?, object?>>)rules.Single(r => (string?)r.Key == "exceptions").Value!;
        exceptions.Add(new("Gucci", new List<object?> { new List<KeyValuePair<object?, object?>> { new(65L, "Guc") }, new List<KeyValuePair<object?, object?>> { new(65L, "ci") } }));
        var writer = new Core.Serialization.MsgPackWriter();
        writer.WriteValue(rules);
        File.WriteAllBytes(Path.Combine(spacyPipeline, "tokenizer"), writer.ToArray());
        File.WriteAllText(Path.Combine(spacyPipeline, "meta.json"), """{"lang":"en","name":"x","version":"0.0.0","pipeline":[]}""");
        // The corpus tokenized with those rules, as the SDK builds it when ProdigyBaseModel is a spaCy pipeline.
        var export = Path.Combine(_directory, "brands.jsonl");
        File.WriteAllLines(export, TinyData.Examples(200, 81).SelectMany(e => ProdigyLines(e, withTokens: false)));
        var corpus = new CorpusBuilder(new SilentLog()).Build(new CorpusRequest { Datasets = [new DatasetInput(CorpusComponent.Ner, export)], TokenizerRules = spacyPipeline });
        var train = Path.Combine(_directory, "train.spacy");
        var dev = Path.Combine(_directory, "dev.spacy");
        DocBin.Write(train, corpus.TrainDocs);
        DocBin.Write(dev, corpus.DevDocs);
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"], maxSteps: 80).Text);
        var output = new StringWriter();

        var code = TrainerCommandLine.Run(["train", "--config", config, "--train", train, "--dev", dev, "--output", Path.Combine(_directory, "model"), "--base-model", spacyPipeline], output, CancellationToken.None);

        Assert.True(code == 0, output.ToString());
        Assert.Contains("the weights start fresh", output.ToString(), StringComparison.Ordinal);
        var model = Path.Combine(_directory, "model", "model-best");
        var shipped = Core.Pipelines.SpacyPipeline.Load(model).Tokenizer.Rules;
        Assert.Equal(["Guc", "ci"], shipped.SpecialCases["Gucci"].Select(t => t.Orth));
        using var pipeline = TrainedPipeline.Load(model);
        var doc = pipeline.Process("My Gucci bag is perfect.");
        Assert.Equal(["My", "Guc", "ci", "bag", "is", "perfect", "."], doc.Tokens.Select(t => t.Text));
        var entity = Assert.Single(doc.Entities);
        Assert.Equal(("Gucci", "BRAND", 1, 3), (entity.Text, entity.Label, entity.TokenStart, entity.TokenEnd));
    }

    [Fact]
    public void A_base_model_folder_that_is_neither_kind_is_PRD2309_naming_both()
    {
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"]).Text);
        var train = Path.Combine(_directory, "train.spacy");
        DocBin.Write(train, TinyData.Examples(20, 82).Select(ToDoc).ToList());
        var empty = Directory.CreateDirectory(Path.Combine(_directory, "not_a_model")).FullName;
        var output = new StringWriter();

        var exit = TrainerCommandLine.Run(["train", "--config", config, "--train", train, "--dev", train, "--output", _directory, "--base-model", empty], output, CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains($"{empty}: error PRD2309:", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("weights.bin", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("'tokenizer' file", output.ToString(), StringComparison.Ordinal);
    }

    private sealed class SilentLog : ICorpusLog
    {
        public void Message(string text)
        {
        }

        public void Warning(string code, string message, string? file = null, int line = 0, int column = 0) =>
            throw new InvalidOperationException($"{code}: {message}");
    }

    [Theory]
    [InlineData("--name", "fashion-ner")]
    [InlineData("--name", "1st")]
    [InlineData("--version", "next")]
    public void A_name_or_version_spaCy_cannot_package_is_PRD2311(string option, string value)
    {
        var train = Path.Combine(_directory, "train.spacy");
        DocBin.Write(train, TinyData.Examples(10, 3).Select(ToDoc).ToList());
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"], maxSteps: 5).Text);
        var output = new StringWriter();
        var code = TrainerCommandLine.Run(["train", "--config", config, "--train", train, "--dev", train, "--output", Path.Combine(_directory, "model"), option, value], output, CancellationToken.None);
        Assert.NotEqual(0, code);
        Assert.Contains("error PRD2311", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"'{value}'", output.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "model", "model-best")));
    }

    [Theory]
    [InlineData("train", "--gpu-id", "O")]
    [InlineData("train", "--gpu-id", "-2")]
    [InlineData("train", "--threads", "two")]
    [InlineData("train", "--threads", "0")]
    [InlineData("train-curve", "--samples", "4x")]
    [InlineData("train-curve", "--samples", "0")]
    [InlineData("train-curve", "--seeds", "1.5")]
    [InlineData("evaluate", "--gpu-id", "")]
    public void A_number_option_that_is_not_a_usable_whole_number_is_a_usage_error_naming_option_and_value(string command, string option, string value)
    {
        var corpus = Path.Combine(_directory, "train.spacy");
        DocBin.Write(corpus, TinyData.Examples(10, 3).Select(ToDoc).ToList());
        var config = Path.Combine(_directory, "config.cfg");
        File.WriteAllText(config, TinyData.Config(["ner"], maxSteps: 5).Text);
        string[] inputs = command == "evaluate"
            ? ["--model", _directory, "--data", corpus]
            : ["--config", config, "--train", corpus, "--dev", corpus, "--output", Path.Combine(_directory, "model")];
        var output = new StringWriter();

        var code = TrainerCommandLine.Run([command, .. inputs, option, value], output, CancellationToken.None);

        Assert.Equal(2, code);
        var text = output.ToString();
        Assert.Contains("prodigy-build-train: error PRD2300:", text, StringComparison.Ordinal);
        Assert.Contains($"{option} ", text, StringComparison.Ordinal);
        Assert.Contains(value.Length == 0 ? "''" : value, text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_directory, "model")));
    }

    [Fact]
    public void An_unknown_command_is_a_usage_error_listing_every_command()
    {
        var output = new StringWriter();
        var code = TrainerCommandLine.Run(["trian"], output, CancellationToken.None);
        Assert.Equal(2, code);
        Assert.Contains("error PRD2300: unknown command 'trian'; the commands are train, evaluate, train-curve", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_response_file_is_a_usage_error_as_in_the_corpus_tool()
    {
        var missing = Path.Combine(_directory, "missing.rsp");
        var output = new StringWriter();
        var code = TrainerCommandLine.Run(["train", "@" + missing], output, CancellationToken.None);
        Assert.Equal(2, code);
        Assert.Contains($"prodigy-build-train: error PRD2300: response file '{missing}' not found", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_response_file_gives_one_argument_per_line()
    {
        var rsp = Path.Combine(_directory, "args.rsp");
        File.WriteAllLines(rsp, ["--gpu-id", "", "not a number"]);
        var output = new StringWriter();
        var code = TrainerCommandLine.Run(["evaluate", "--model", _directory, "--data", "x.spacy", "@" + rsp], output, CancellationToken.None);
        Assert.Equal(2, code);
        Assert.Contains("--gpu-id 'not a number' is not a whole number", output.ToString(), StringComparison.Ordinal);
    }
}
