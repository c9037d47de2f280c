using System.Text.Json.Nodes;
using Prodigy.Build.Core.Spacy;
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
        return doc;
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
            "train", "--config", config, "--train", train, "--dev", dev, "--output", Path.Combine(_directory, "model"), "--label-stats"],
            output, CancellationToken.None);

        Assert.True(code == 0, output.ToString());
        Assert.Contains("E    #       LOSS TOK2VEC  LOSS NER  ENTS_F  ENTS_P  ENTS_R   SCORE", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("ents_per_type", output.ToString(), StringComparison.Ordinal);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory, "model", "metrics.json")))!;
        var best = (double)metrics["score"]!;
        Assert.Equal(best, (double)metrics["scores"]!["ents_f"]!, 9);

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
}
