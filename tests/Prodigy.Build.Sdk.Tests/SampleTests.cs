namespace Prodigy.Build.Sdk.Tests;

/// <summary>The samples build with the real tool (outputs go to a temp folder, not into the repository).</summary>
public sealed class SampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-sdk-samples-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Outputs in the temp folder; the repository's freshly built tasks, tool and trainer.
    private Dictionary<string, string> SampleProperties() => new()
    {
        ["BaseOutputPath"] = Path.Combine(_dir, "bin") + Path.DirectorySeparatorChar,
        ["BaseIntermediateOutputPath"] = Path.Combine(_dir, "obj") + Path.DirectorySeparatorChar,
        ["ProdigySamplesBuildRepo"] = "false",
        ["ProdigyTasksAssembly"] = TestPaths.TasksAssembly,
        ["ProdigyToolPath"] = TestPaths.Tool,
        ["ProdigyTrainerPath"] = TestPaths.Trainer,
    };

    [Theory]
    [InlineData("ner-fashion/NerFashion.csproj", "ner")]
    [InlineData("ner-textcat/NerTextcat.csproj", "ner,textcat")]
    public void A_sample_builds_its_corpus(string project, string components)
    {
        var outcome = ProjectBuilder.BuildProject(
            Path.Combine(TestPaths.RepoRoot, "samples", project),
            globalProperties: SampleProperties()).ShouldSucceed();

        var corpus = Path.Combine(_dir, "bin", "Debug", "corpus");
        Assert.True(new FileInfo(Path.Combine(corpus, "train.spacy")).Length > 0, outcome.Log);
        Assert.True(new FileInfo(Path.Combine(corpus, "dev.spacy")).Length > 0, outcome.Log);
        foreach (var component in components.Split(','))
        {
            Assert.True(File.Exists(Path.Combine(corpus, "labels", component + ".json")), outcome.Log);
        }

        Assert.Empty(outcome.Warnings);
    }

    [Fact]
    public void The_ner_textcat_sample_trains_on_build_and_then_is_up_to_date()
    {
        var properties = SampleProperties();
        var project = Path.Combine(TestPaths.RepoRoot, "samples", "ner-textcat", "NerTextcat.csproj");

        var first = ProjectBuilder.BuildProject(project, globalProperties: properties).ShouldSucceed();

        Assert.Contains("train: rebuilding, it has not been built yet", first.Messages);
        Assert.Contains(first.Messages, m => m.StartsWith("E    #       LOSS TOK2VEC  LOSS NER  LOSS TEXTCAT  ENTS_F", StringComparison.Ordinal));
        var models = Path.Combine(_dir, "bin", "Debug", "model");
        foreach (var file in new[] { "model-best/meta.json", "model-best/config.cfg", "model-best/tokenizer", "model-best/vocab/strings.json", "model-best/tok2vec/model", "model-best/ner/model", "model-best/ner/moves", "model-best/textcat/model", "model-last/ner/model", "metrics.json" })
        {
            Assert.True(File.Exists(Path.Combine(models, file)), file + " is missing.\n" + first.Log);
        }

        var meta = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(models, "model-best", "meta.json")))!;
        Assert.Equal("en", (string?)meta["lang"]);
        // ProdigyModelName / ProdigyModelVersion default to the project's name and Version.
        Assert.Equal("nertextcat", (string?)meta["name"]);
        Assert.Equal("1.0.0", (string?)meta["version"]);
        Assert.True((double)meta["performance"]!["ents_f"]! > 0.5, first.Log);

        var second = ProjectBuilder.BuildProject(project, globalProperties: properties).ShouldSucceed();
        Assert.Contains("train: up to date", second.Messages);
        Assert.DoesNotContain(second.Messages, m => m.StartsWith("prodigy-build train", StringComparison.Ordinal));
    }

    [Fact]
    public void TrainCurve_trains_growing_shares_saves_the_curve_and_reuses_points()
    {
        var properties = SampleProperties();
        properties["ProdigyCurveSamples"] = "2";
        properties["ProdigyShowPlot"] = "true";
        var project = Path.Combine(TestPaths.RepoRoot, "samples", "ner-textcat", "NerTextcat.csproj");

        var first = ProjectBuilder.BuildProject(project, "TrainCurve", properties).ShouldSucceed();

        Assert.Contains("Training 2 times with 50%, 100% of the data", first.Messages);
        Assert.Contains(first.Messages, m => m.StartsWith("%      Score", StringComparison.Ordinal));
        Assert.Contains(first.Messages, m => m.StartsWith("  0%   0.00", StringComparison.Ordinal));
        Assert.Contains(first.Messages, m => m.Contains("Accuracy", StringComparison.Ordinal) && m.Contains("in the last sample", StringComparison.Ordinal));
        var curve = Path.Combine(_dir, "bin", "Debug", "curve");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(curve, "curve.json")))!;
        Assert.Equal(2, json["rows"]!.AsArray().Count);
        Assert.True(File.Exists(Path.Combine(curve, "curve.csv")) && File.Exists(Path.Combine(curve, "curve.svg")), first.Log);

        Assert.Contains("curve: up to date", ProjectBuilder.BuildProject(project, "TrainCurve", properties).ShouldSucceed().Messages);

        properties["ProdigyCurveSamples"] = "4";
        var finer = ProjectBuilder.BuildProject(project, "TrainCurve", properties).ShouldSucceed();
        Assert.Contains("curve: rebuilding, ProdigyCurveSamples changed ('2' -> '4')", finer.Messages);
        Assert.Equal(2, finer.Messages.Count(m => m.Contains("reused an earlier point", StringComparison.Ordinal)));
        Assert.Equal(2, finer.Messages.Count(m => m.Contains(": training on ", StringComparison.Ordinal)));
    }
}
