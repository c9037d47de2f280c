using System.Text.Json;
using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>The ner pipeline (tok2vec + TransitionBasedParser) against what spaCy 3.5.4 predicted for its 50 dev texts.</summary>
public sealed class EntityRecognizerComponentTests
{
    private static readonly Lazy<SpacyPipeline> Ner = new(() => SpacyPipeline.Load(SharedPipelines.Folder("ner")));

    private static EntityRecognizerComponent Component => Ner.Value.Components.OfType<EntityRecognizerComponent>().Single();

    [Fact]
    public void Tokens_and_entities_of_the_dev_texts_equal_spaCys()
    {
        var predictions = SharedPipelines.Predictions("ner");
        var entities = 0;
        foreach (var expected in predictions)
        {
            var doc = Ner.Value.Process(expected.GetProperty("text").GetString()!);
            Assert.Equal(expected.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()), doc.Tokens.Select(t => t.Text));
            var want = expected.GetProperty("ents_tok").EnumerateArray().Select(e => (e[0].GetInt32(), e[1].GetInt32(), e[2].GetString()!)).ToList();
            Assert.Equal(want, doc.Entities.Select(e => (e.Start, e.End, e.Label)));
            entities += want.Count;
        }

        // The check means something only if spaCy found entities in these texts.
        Assert.True(entities >= 10, $"only {entities} entities in the ground truth");
    }

    [Fact]
    public void A_batch_predicts_what_each_text_gets_alone()
    {
        var texts = SharedPipelines.Predictions("ner").Select(p => p.GetProperty("text").GetString()!).ToList();
        var batch = Ner.Value.Process(texts);
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.Equal(Ner.Value.Process(texts[i]).Entities, batch[i].Entities);
        }
    }

    [Fact]
    public void Classes_follow_the_moves_file_in_spaCys_order()
    {
        var layout = SharedPipelines.Json("ner", "model-layout.json").GetProperty("components").GetProperty("ner");
        Assert.Equal(layout.GetProperty("moves_parsed").EnumerateArray().Select(m => m.GetString()), Component.MoveNames);
        Assert.Equal(["FASHION_BRAND"], Component.Labels);
        TextCategorizerComponentTests.AssertWalk(layout.GetProperty("walk"), Component.Tree);
    }

    [Fact]
    public void Empty_text_gets_no_entities()
    {
        Assert.Empty(Ner.Value.Process("").Entities);
        Assert.Empty(Ner.Value.Process(["", " "])[0].Entities);
    }

    [Fact]
    public void Moves_file_that_is_not_spaCys_is_PRD2428_and_a_missing_one_PRD2411()
    {
        var copy = PipelineTestContexts.CopyOf("ner");
        try
        {
            var moves = Path.Combine(copy, "ner", "moves");
            File.WriteAllBytes(moves, File.ReadAllBytes(moves)[..20]);
            var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(copy));
            Assert.Equal("PRD2428", error.Code);
            Assert.Equal(moves, error.Path);

            File.Delete(moves);
            error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(copy));
            Assert.Equal("PRD2411", error.Code);
            Assert.Equal(moves, error.Path);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void Parser_state_type_is_PRD2424_naming_it()
    {
        var copy = PipelineTestContexts.CopyOf("ner");
        try
        {
            var config = Path.Combine(copy, "config.cfg");
            File.WriteAllText(config, File.ReadAllText(config).Replace("state_type = \"ner\"", "state_type = \"parser\"", StringComparison.Ordinal));
            var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(copy));
            Assert.Equal("PRD2424", error.Code);
            Assert.Contains("\"parser\"", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void Listener_width_that_does_not_match_its_tok2vec_is_PRD2425()
    {
        var copy = PipelineTestContexts.CopyOf("ner");
        try
        {
            var config = Path.Combine(copy, "config.cfg");
            File.WriteAllText(config, File.ReadAllText(config).Replace("width = ${components.tok2vec.model.encode.width}\nupstream", "width = 128\nupstream", StringComparison.Ordinal));
            var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(copy));
            Assert.Equal("PRD2425", error.Code);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }
}
