using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Tests.Pipelines;

public sealed class ThincModelDataTests
{
    public static TheoryData<string, string> ModelFiles => new()
    {
        { "ner", "tok2vec" }, { "ner", "ner" }, { "spancat", "tok2vec" }, { "spancat", "spancat" },
        { "textcat", "textcat" }, { "textcat_multilabel", "textcat_multilabel" },
    };

    [Theory]
    [MemberData(nameof(ModelFiles))]
    public void Model_file_reads_as_spaCy_walked_it_and_writes_back_byte_identical(string pipeline, string component)
    {
        var path = Path.Combine(SharedPipelines.Folder(pipeline), component, "model");
        var bytes = File.ReadAllBytes(path);
        var data = ThincModelData.Parse(bytes, path);

        var walk = SharedPipelines.Json(pipeline, "model-layout.json").GetProperty("components").GetProperty(component).GetProperty("walk");
        Assert.Equal(walk.GetArrayLength(), data.Nodes.Count);
        foreach (var node in walk.EnumerateArray())
        {
            var read = data.Nodes[node.GetProperty("index").GetInt32()];
            Assert.Equal(node.GetProperty("name").GetString(), read.Name);
            foreach (var param in node.GetProperty("params").EnumerateObject())
            {
                var shape = param.Value.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64());
                Assert.Equal(shape, read.Param(param.Name)!.Shape);
            }
        }

        Assert.Equal(bytes, data.ToBytes());
    }

    [Fact]
    public void Truncated_model_file_is_PRD2401_with_the_path()
    {
        var path = Path.Combine(SharedPipelines.Folder("ner"), "ner", "model");
        var bytes = File.ReadAllBytes(path);
        var error = Assert.Throws<SpacyPipelineException>(() => ThincModelData.Parse(bytes[..(bytes.Length / 2)], path));
        Assert.Equal("PRD2401", error.Code);
        Assert.Equal(path, error.Path);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Node_count_that_does_not_match_the_architecture_is_PRD2402()
    {
        var path = Path.Combine(SharedPipelines.Folder("textcat"), "textcat", "model");
        var data = ThincModelData.Read(path);
        var tree = ThincLayer.Chain(ThincLayer.Leaf("extract_ngrams"), ThincLayer.Leaf("sparse_linear", "W", "b"));
        var error = Assert.Throws<SpacyPipelineException>(() => tree.Bind(data, path));
        Assert.Equal("PRD2402", error.Code);
        Assert.Contains("8 nodes", error.Message);
        Assert.Contains("builds 3", error.Message);
    }

    [Fact]
    public void Attrs_decode_to_the_values_thinc_serialized()
    {
        var data = ThincModelData.Read(Path.Combine(SharedPipelines.Folder("ner"), "tok2vec", "model"));
        var hashembed = data.Nodes.First(n => n.Name == "hashembed");
        Assert.Equal(8L, hashembed.Attr("seed"));
        Assert.Equal(0L, hashembed.Attr("column"));
        Assert.Equal(0.1, hashembed.Attr("dropout_rate"));
    }
}
