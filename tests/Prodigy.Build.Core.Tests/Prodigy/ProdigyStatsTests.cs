using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>Statistics (prodigy stats -l) on the shared exports, whose counts their README gives; Prodigy's JSON.</summary>
public sealed class ProdigyStatsTests
{
    private static ProdigyDatasetStats Stats(string file) =>
        ProdigyDatasetStats.Compute(Path.GetFileNameWithoutExtension(file), file,
            ProdigyDatasets.Read(ProdigyDatasetSource.FromFile(Path.Combine(SharedData.Root, "datasets", file))));

    [Theory]
    [InlineData("reddit_product_ner/annotated_reddit-PRODUCT-ner.jsonl", 1800, 438, 1276, 86)]
    [InlineData("healthsea_clausecat/annotation.jsonl", 5003, 4979, 0, 24)]
    [InlineData("pydata_ams_2023/pydata-ams-2023.jsonl", 3372, 1705, 1388, 279)]
    [InlineData("docs_issues/docs_issues_training.jsonl", 661, 201, 460, 0)]
    public void Answers_are_counted_as_the_datasets_README_says(string file, int examples, int accept, int reject, int ignore)
    {
        var stats = Stats(file);
        Assert.Equal(examples, stats.Examples);
        Assert.Equal(accept, stats.Answers.Accept + stats.Answers.None);
        Assert.Equal(reject, stats.Answers.Reject);
        Assert.Equal(ignore, stats.Answers.Ignore);
    }

    [Fact]
    public void Labels_inputs_and_annotators_are_counted()
    {
        var fashion = Stats("fashion_brands/fashion_brands_training.jsonl");
        Assert.Equal(527, fashion.Labels["FASHION_BRAND"].Accept + fashion.Labels["FASHION_BRAND"].None);
        var pydata = Stats("pydata_ams_2023/pydata-ams-2023.jsonl");
        Assert.Equal(117, pydata.Inputs);
        Assert.Equal(42, pydata.Annotators);
        Assert.Equal(pydata.Examples, pydata.Labels["new-dataset"].Total);
        var clauses = Stats("healthsea_clausecat/annotation.jsonl");
        Assert.Equal(["ANAMNESIS", "NEGATIVE", "NEUTRAL", "POSITIVE"], clauses.Labels.Keys);

        var text = fashion.ToText();
        Assert.Contains("Annotations   1235", text);
        Assert.Matches(@"FASHION_BRAND\s+527\s+0\s+0\s+527", text);
        using var json = JsonDocument.Parse(ProdigyDatasetStats.ToJson([fashion, pydata]));
        var first = json.RootElement.GetProperty("datasets")[0];
        Assert.Equal(1235, first.GetProperty("examples").GetInt32());
        Assert.Equal(527, first.GetProperty("labels").GetProperty("FASHION_BRAND").GetProperty("total").GetInt32());
    }

    [Fact]
    public void Prodigy_json_is_compact_ascii_with_keys_and_numbers_as_stored()
    {
        const string stored = """{"text":"caf\u00e9 \ud83d\ude00 a/b \"q\" \\ \t\u0001\u007f","score":0.9525150387,"big":1e-05,"n":[1,2.50,{"z":null,"a":true}],"answer":"accept"}""";
        using var document = JsonDocument.Parse(stored);
        Assert.Equal(stored, ProdigyJson.Serialize(document.RootElement));

        using var spaced = JsonDocument.Parse("""{"b": 1, "a": ["é", {"c": 0.10}]}""");
        Assert.Equal("""{"b":1,"a":["\u00e9",{"c":0.10}]}""", ProdigyJson.Serialize(spaced.RootElement));
        Assert.Equal("{}", ProdigyJson.Serialize(JsonDocument.Parse(Encoding.UTF8.GetBytes("{ }")).RootElement));
    }
}
