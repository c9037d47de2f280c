using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>The SDK with the real prodigy-build on real Prodigy exports from ../shared (first lines only).</summary>
public sealed class RealToolTests : IDisposable
{
    private readonly ProjectBuilder _project = ProjectBuilder.Create().UseRealTool();

    public void Dispose() => _project.Dispose();

    [Theory]
    [InlineData("NerDataset", "fashion_brands/fashion_brands_training.jsonl", "ner", "FASHION_BRAND")]
    [InlineData("TextcatDataset", "healthsea_clausecat/annotation.jsonl", "textcat", "POSITIVE")]
    [InlineData("TextcatMultilabelDataset", "docs_issues/docs_issues_training.jsonl", "textcat_multilabel", "DOCUMENTATION")]
    [InlineData("SpancatDataset", "rel_component/annotations.jsonl", "spancat", "GGP")]
    public void Each_item_type_builds_a_spaCy_corpus(string itemType, string dataset, string component, string label)
    {
        Head(dataset, "data/input.jsonl", 150).Item(itemType, "data/input.jsonl");

        var outcome = _project.Build().ShouldSucceed();

        Assert.Equal(1, outcome.DataToSpacyRuns);
        Assert.True(new FileInfo(Path.Combine(_project.CorpusDir, "train.spacy")).Length > 0, outcome.Log);
        Assert.True(File.Exists(Path.Combine(_project.CorpusDir, "dev.spacy")), outcome.Log);
        Assert.Contains($"\"{component}\"", File.ReadAllText(Path.Combine(_project.CorpusDir, "config.cfg")), StringComparison.Ordinal);
        Assert.Contains(label, File.ReadAllText(Path.Combine(_project.CorpusDir, "labels", component + ".json")), StringComparison.Ordinal);
        Assert.Equal(0, _project.Build().ShouldSucceed().DataToSpacyRuns);
    }

    [Fact]
    public void Ner_with_an_eval_dataset_and_textcat_make_one_pipeline()
    {
        Head("fashion_brands/fashion_brands_training.jsonl", "data/train.jsonl", 200)
            .Item("NerDataset", "data/train.jsonl");
        Head("fashion_brands/fashion_brands_eval.jsonl", "data/eval.jsonl", 100)
            .Item("NerDataset", "data/eval.jsonl", ("Eval", "true"));
        Head("healthsea_clausecat/annotation.jsonl", "data/clauses.jsonl", 100)
            .Item("TextcatDataset", "data/clauses.jsonl");

        var outcome = _project.Build().ShouldSucceed();

        var config = File.ReadAllText(Path.Combine(_project.CorpusDir, "config.cfg"));
        Assert.Contains("\"ner\"", config, StringComparison.Ordinal);
        Assert.Contains("\"textcat\"", config, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_project.CorpusDir, "labels", "textcat.json")), outcome.Log);
    }

    [Fact]
    public void A_broken_line_is_an_MSBuild_error_at_its_line_and_the_corpus_stays()
    {
        Head("fashion_brands/fashion_brands_training.jsonl", "data/train.jsonl", 50).Item("NerDataset", "data/train.jsonl");
        _project.Build().ShouldSucceed();
        var train = Path.Combine(_project.CorpusDir, "train.spacy");
        var before = File.ReadAllBytes(train);

        var path = Path.Combine(_project.Directory, "data", "train.jsonl");
        var lines = File.ReadAllLines(path).ToList();
        lines.Insert(2, "{\"text\": \"broken");
        File.WriteAllLines(path, lines);
        var outcome = _project.Build();

        Assert.False(outcome.Succeeded, outcome.Log);
        var error = Assert.Single(outcome.Errors);
        Assert.StartsWith("PRD2", error.Code, StringComparison.Ordinal);
        Assert.Equal(path, error.File);
        Assert.Equal(3, error.LineNumber);
        Assert.True(error.ColumnNumber > 0, outcome.Log);
        Assert.Equal(before, File.ReadAllBytes(train));
    }

    [Fact]
    public void SpacyConfig_runs_spacy_config()
    {
        _project.Property("ProdigyPipeline", "ner,textcat").Property("ProdigyOptimize", "accuracy");

        var outcome = _project.Build("SpacyConfig").ShouldSucceed();

        var config = File.ReadAllText(_project.SpacyConfigFile);
        Assert.Contains("\"ner\"", config, StringComparison.Ordinal);
        Assert.Contains("\"textcat\"", config, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_project.CorpusDir, "train.spacy")), outcome.Log);
    }

    private ProjectBuilder Head(string sharedDataset, string relativePath, int lines) =>
        _project.File(relativePath, string.Join("\n", File.ReadLines(Path.Combine(SharedData.Root, "datasets", sharedDataset)).Take(lines)) + "\n");
}
