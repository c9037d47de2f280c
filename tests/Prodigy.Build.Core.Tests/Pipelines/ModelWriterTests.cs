using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>
/// Model files written from the layer trees the architectures build (dims, refs and attrs from the
/// builders, params from the weights): for the shared pipelines they equal, byte for byte, what
/// spaCy wrote. A trained model's weights put into such a tree therefore give a file spaCy loads.
/// </summary>
public sealed class ModelWriterTests
{
    public static TheoryData<string, string> Components => new()
    {
        { "ner", "tok2vec" }, { "ner", "ner" }, { "spancat", "tok2vec" }, { "spancat", "spancat" },
        { "textcat", "textcat" }, { "textcat_multilabel", "textcat_multilabel" },
    };

    [Theory]
    [MemberData(nameof(Components))]
    public void Tree_writes_the_model_file_spaCy_wrote(string pipeline, string name)
    {
        var component = SpacyPipeline.Load(SharedPipelines.Folder(pipeline)).Components.Single(c => c.Name == name);
        var path = Path.Combine(SharedPipelines.Folder(pipeline), name, "model");
        var written = component.Tree.ToModelData();
        var read = ThincModelData.Read(path);
        for (var i = 0; i < read.Nodes.Count; i++)
        {
            var (expected, actual) = (read.Nodes[i], written.Nodes[i]);
            Assert.Equal((i, expected.Name), (i, actual.Name));
            Assert.Equal(expected.Dims, actual.Dims);
            Assert.Equal(expected.Refs, actual.Refs);
            Assert.Equal(expected.Attrs.Select(a => (a.Key, Convert.ToHexString(a.Value))), actual.Attrs.Select(a => (a.Key, Convert.ToHexString(a.Value))));
        }

        Assert.Equal(File.ReadAllBytes(path), written.ToBytes());
    }

    [Fact]
    public void Weights_set_on_the_tree_are_the_ones_written()
    {
        var tok2vec = SpacyPipeline.Load(SharedPipelines.Folder("ner")).Components.OfType<Tok2VecComponent>().Single();
        var layer = tok2vec.Tree.Walk().First(l => l.Name == "layernorm");
        var gain = NdArray.FromFloats(Enumerable.Repeat(2f, 96).ToArray(), 96);
        layer.Weights["G"] = gain;
        var written = tok2vec.Tree.ToModelData();
        var index = tok2vec.Tree.Walk().ToList().IndexOf(layer);
        Assert.Same(gain, written.Nodes[index].Param("G"));
    }
}
