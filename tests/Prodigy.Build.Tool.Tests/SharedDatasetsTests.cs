using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Tool;

namespace Prodigy.Build.Tool.Tests;

/// <summary>Every real Prodigy export in ../shared/datasets builds into a corpus without an error.</summary>
public class SharedDatasetsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-datasets-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Which component each export feeds (what its tasks annotate).
    private static readonly Dictionary<string, string> Components = new(StringComparer.Ordinal)
    {
        ["docs_issues/docs_issues_eval.jsonl"] = "textcat_multilabel",
        ["docs_issues/docs_issues_training.jsonl"] = "textcat_multilabel",
        ["fashion_brands/fashion_brands_eval.jsonl"] = "ner",
        ["fashion_brands/fashion_brands_training.jsonl"] = "ner",
        ["food_ingredients/food_data.jsonl"] = "ner",
        ["github_issues_textcat/annotated_github-issues-DOCUMENTATION-textcat.jsonl"] = "textcat_multilabel",
        ["healthsea_clausecat/annotation.jsonl"] = "textcat",
        ["nel_emerson/emerson_annotated_text.jsonl"] = "textcat",
        ["ner_tweets/test_annotated.jsonl"] = "ner",
        ["news_headlines_ner/annotated_news_headlines-ORG-PERSON-LOCATION-ner.jsonl"] = "ner",
        ["prodigy_hf_fixtures/fashion-train.jsonl"] = "ner",
        ["prodigy_hf_fixtures/fashion-valid.jsonl"] = "ner",
        ["prodigy_hf_fixtures/textcat-binary.jsonl"] = "textcat_multilabel",
        ["prodigy_hf_fixtures/textcat-multi.jsonl"] = "textcat_multilabel",
        ["pydata_ams_2023/pydata-ams-2023.jsonl"] = "textcat_multilabel",
        ["reddit_insult_textcat/annotated_reddit-INSULT-textcat.jsonl"] = "textcat_multilabel",
        ["reddit_product_ner/annotated_reddit-PRODUCT-ner.jsonl"] = "ner",
        ["rel_component/annotations.jsonl"] = "spancat",
        ["restaurant_reviews/test_review.jsonl"] = "ner",
    };

    // ner.manual --patterns files: match patterns, not annotations.
    private static readonly string[] PatternFiles = ["fashion_brands/fashion_brands_patterns.jsonl", "food_ingredients/food_patterns.jsonl"];

    private static string DatasetsRoot => Path.Combine(SharedData.Root, "datasets");

    public static TheoryData<string> Exports() => new(Components.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void EveryExportIsCovered()
    {
        var files = Directory.EnumerateFiles(DatasetsRoot, "*.jsonl", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(DatasetsRoot, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, Components.Keys.Concat(PatternFiles).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Exports))]
    public async Task BuildsWithoutAnError(string file)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var output = Path.Combine(_dir, Path.GetFileNameWithoutExtension(file));
        var code = await CommandLine.RunAsync(
            ["data-to-spacy", "--output", output, "--dataset", $"{Components[file]}:{Path.Combine(DatasetsRoot, file)}"],
            new StringReader(""), stdout, stderr);
        Assert.True(code == 0, $"{file}:\n{stdout}\n{stderr}");
        Assert.DoesNotContain(": error ", stdout.ToString());
        Assert.True(new FileInfo(Path.Combine(output, "train.spacy")).Length > 0);
        Assert.True(File.Exists(Path.Combine(output, "dev.spacy")));
        Assert.True(File.Exists(Path.Combine(output, "config.cfg")));
    }

    [Fact]
    public async Task APatternsFileIsNotADatasetAndSaysSo()
    {
        var stderr = new StringWriter();
        var code = await CommandLine.RunAsync(
            ["data-to-spacy", "--output", Path.Combine(_dir, "patterns"), "--dataset", "ner:" + Path.Combine(DatasetsRoot, PatternFiles[0])],
            new StringReader(""), new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("(1,1): error PRD2012:", stderr.ToString());
        Assert.Contains("patterns", stderr.ToString());
    }
}
