using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>
/// A component with its own inline <c>spacy.Tok2Vec.v2</c> instead of a listener. No shared pipeline
/// has one, so the tests make one from the ner pipeline: the tok2vec component's weights moved into
/// the ner model (in the walk order of the inline tree) and the tok2vec component dropped. It must
/// predict exactly what the listener pipeline predicts.
/// </summary>
public sealed class InlineTok2VecTests : IDisposable
{
    private readonly string _folder = PipelineTestContexts.CopyOf("ner");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string InlineSection = """
        [components.ner.model.tok2vec]
        @architectures = "spacy.Tok2Vec.v2"

        [components.ner.model.tok2vec.embed]
        @architectures = "spacy.MultiHashEmbed.v2"
        width = 96
        attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]
        rows = [5000,1000,2500,2500]
        include_static_vectors = false

        [components.ner.model.tok2vec.encode]
        @architectures = "spacy.MaxoutWindowEncoder.v2"
        width = 96
        depth = 4
        window_size = 1
        maxout_pieces = 3

        """;

    private void MakeInline()
    {
        var original = SharedPipelines.Folder("ner");
        var configPath = Path.Combine(_folder, "config.cfg");
        var text = File.ReadAllText(configPath);
        var start = text.IndexOf("[components.ner.model.tok2vec]", StringComparison.Ordinal);
        var end = text.IndexOf("[components.tok2vec]", StringComparison.Ordinal);
        text = text[..start] + InlineSection + text[end..];
        text = text.Replace("pipeline = [\"tok2vec\",\"ner\"]", "pipeline = [\"ner\"]", StringComparison.Ordinal);
        File.WriteAllText(configPath, text);

        // The standalone tok2vec tree, bound to the tok2vec component's file, gives the inline nodes their data.
        var originalTok2Vec = Tok2VecModel.Build(PipelineTestContexts.After(original, "tok2vec"), "components.tok2vec.model");
        originalTok2Vec.Tree.Bind(ThincModelData.Read(Path.Combine(original, "tok2vec", "model")), "tok2vec");
        var nerData = ThincModelData.Read(Path.Combine(original, "ner", "model"));

        var context = PipelineTestContexts.After(_folder, "ner");
        var inline = TransitionParserModel.Build(context, "components.ner.model", classCount: 6, featureCount: 3);
        var sources = new Dictionary<ThincLayer, ThincNodeData>(ReferenceEqualityComparer.Instance);
        var chain = inline.Tree.Layers[0];
        foreach (var (layer, data) in chain.Layers[0].Walk().Zip(originalTok2Vec.Tree.Walk().Select(l => l.Node)))
        {
            sources[layer] = data;
        }

        // parser_model, its tok2vec chain, lower, upper, list2array and linear: the ner file's nodes 0-3, 5 and 6.
        sources[inline.Tree] = nerData.Nodes[0];
        sources[chain] = nerData.Nodes[1];
        sources[inline.Tree.Layers[1]] = nerData.Nodes[2];
        sources[inline.Tree.Layers[2]] = nerData.Nodes[3];
        sources[chain.Layers[1]] = nerData.Nodes[5];
        sources[chain.Layers[2]] = nerData.Nodes[6];

        var walk = inline.Tree.Walk().ToList();
        var model = new ThincModelData();
        for (var i = 0; i < walk.Count; i++)
        {
            var source = sources[walk[i]];
            model.Nodes.Add(new ThincNodeData { Index = i, Name = walk[i].Name, Dims = source.Dims, Attrs = source.Attrs, Params = source.Params });
        }

        File.WriteAllBytes(Path.Combine(_folder, "ner", "model"), model.ToBytes());
        Directory.Delete(Path.Combine(_folder, "tok2vec"), recursive: true);
    }

    [Fact]
    public void Ner_with_an_inline_tok2vec_predicts_what_it_predicts_with_a_listener()
    {
        MakeInline();
        var inline = SpacyPipeline.Load(_folder);
        Assert.Equal(["ner"], inline.Components.Select(c => c.Name));
        var listener = SpacyPipeline.Load(SharedPipelines.Folder("ner"));
        var texts = SharedPipelines.Predictions("ner").Select(p => p.GetProperty("text").GetString()!).ToList();
        var expected = listener.Process(texts);
        var actual = inline.Process(texts);
        Assert.Equal(expected.Sum(d => d.Entities.Count), actual.Sum(d => d.Entities.Count));
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.Equal(expected[i].Entities, actual[i].Entities);
        }

        Assert.True(expected.Sum(d => d.Entities.Count) > 0);
    }
}
