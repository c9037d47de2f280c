using System.Text;
using Prodigy.Build.Core.Config;

namespace Prodigy.Build.Core.Tests.Config;

public class SpacyConfigGeneratorTests
{
    public static TheoryData<string> InitConfigFiles()
    {
        var data = new TheoryData<string>();
        foreach (var (file, _) in ConfigGolden.InitConfigCommands())
        {
            data.Add(file);
        }

        return data;
    }

    [Fact]
    public void CommandsTsvHasInitConfigRows()
    {
        // Guards the row parser: the shared set has 29 init-config rows (hidden sets may have more).
        Assert.True(ConfigGolden.InitConfigCommands().Count() >= 29);
    }

    [Theory]
    [MemberData(nameof(InitConfigFiles))]
    public void GeneratedConfigEqualsSpacyInitConfigByteForByte(string file)
    {
        var args = ConfigGolden.InitConfigCommands().Single(c => c.File == file).Args;
        var request = SpacyConfigRequest.FromArguments(args);
        var expected = ConfigGolden.ReadBytes(file);

        var generated = SpacyConfigGenerator.Generate(request);
        var bytes = new UTF8Encoding(false).GetBytes(generated);

        Assert.True(expected.AsSpan().SequenceEqual(bytes),
            ConfigGolden.Diff(Encoding.UTF8.GetString(expected), generated, file));
    }

    [Fact]
    public void FilledConfigsEqualInitConfigOutput()
    {
        var pairs = ConfigGolden.FillConfigPairs().ToList();
        Assert.NotEmpty(pairs);
        foreach (var (_, filled) in pairs)
        {
            // filled-X.cfg == X.cfg == what we generate for X's arguments.
            var initFile = filled["filled-".Length..];
            var args = ConfigGolden.InitConfigCommands().SingleOrDefault(c => c.File == initFile).Args;
            Assert.NotNull(args);
            var generated = SpacyConfigGenerator.Generate(SpacyConfigRequest.FromArguments(args));
            var expected = ConfigGolden.Read(filled);
            Assert.True(expected == generated, ConfigGolden.Diff(expected, generated, filled));
        }
    }

    [Fact]
    public void SameInputSameBytes()
    {
        var request = new SpacyConfigRequest("fr", ["ner", "textcat_multilabel", "spancat"], SpacyOptimize.Accuracy, Gpu: true);
        Assert.Equal(SpacyConfigGenerator.Generate(request), SpacyConfigGenerator.Generate(request with { Components = ["ner", "textcat_multilabel", "spancat"] }));
    }

    [Theory]
    [InlineData("fr", "fr_core_news_lg")]
    [InlineData("es", "es_core_news_lg")]
    [InlineData("it", "it_core_news_lg")]
    [InlineData("nl", "nl_core_news_lg")]
    [InlineData("pt", "pt_core_news_lg")]
    [InlineData("de", "de_core_news_lg")]
    [InlineData("xx", null)]
    [InlineData("sv", null)]
    public void OtherLanguagesDifferFromEnglishOnlyInLangAndVectors(string lang, string? vectors)
    {
        // The golden set only has en/de/xx; for any language the only differences from the English
        // file are [nlp] lang and (accuracy) [paths] vectors.
        foreach (var optimize in new[] { SpacyOptimize.Efficiency, SpacyOptimize.Accuracy })
        {
            var english = SpacyConfigGenerator.Generate(new SpacyConfigRequest("en", ["ner", "textcat"], optimize));
            var other = SpacyConfigGenerator.Generate(new SpacyConfigRequest(lang, ["ner", "textcat"], optimize));
            var expectedVectors = optimize == SpacyOptimize.Accuracy && vectors is not null ? $"\"{vectors}\"" : "null";
            var expected = english
                .Replace("lang = \"en\"", $"lang = \"{lang}\"", StringComparison.Ordinal)
                .Replace("vectors = \"en_core_web_lg\"", $"vectors = {expectedVectors}", StringComparison.Ordinal);
            Assert.Equal(expected, other);
        }
    }

    [Fact]
    public void ParsedDocumentOfGeneratedConfigHasTheRequestedPipeline()
    {
        var doc = SpacyConfigGenerator.GenerateDocument(new SpacyConfigRequest("pt", ["spancat", "textcat"], SpacyOptimize.Efficiency));
        Assert.Equal("[\"tok2vec\",\"spancat\",\"textcat\"]", doc.GetRaw("nlp", "pipeline"));
        Assert.Equal("\"pt\"", doc.GetRaw("nlp", "lang"));
        // spancat before textcat in pipeline order: its weights come first.
        var weights = doc.FindSection("training.score_weights")!.Keys.ToList();
        Assert.Equal("spans_sc_f", weights[0]);
        Assert.Equal("0.5", doc.GetRaw("training.score_weights", "cats_score"));
        Assert.Equal("0.5", doc.GetRaw("training.score_weights", "spans_sc_f"));
    }

    [Fact]
    public void BothTextClassifiersShareCatsScore()
    {
        var weights = SpacyConfigGenerator.ScoreWeights(["ner", "textcat", "textcat_multilabel", "spancat"]);
        Assert.Equal(0.33, weights.Single(w => w.Key == "cats_score").Value);
        Assert.Single(weights, w => w.Key == "cats_score");
        Assert.Equal(0.33, weights.Single(w => w.Key == "ents_f").Value);
    }

    [Fact]
    public void TextClassifiersOnlyWithEfficiencyHaveNoTok2Vec()
    {
        Assert.False(SpacyConfigGenerator.NeedsTok2Vec(["textcat", "textcat_multilabel"], SpacyOptimize.Efficiency));
        Assert.True(SpacyConfigGenerator.NeedsTok2Vec(["textcat"], SpacyOptimize.Accuracy));
        Assert.True(SpacyConfigGenerator.NeedsTok2Vec(["textcat", "spancat"], SpacyOptimize.Efficiency));
        var text = SpacyConfigGenerator.Generate(new SpacyConfigRequest("es", ["textcat", "textcat_multilabel"]));
        Assert.DoesNotContain("[components.tok2vec]", text, StringComparison.Ordinal);
        Assert.Contains("pipeline = [\"textcat\",\"textcat_multilabel\"]", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("parser")]
    [InlineData("tagger")]
    public void UnsupportedComponentsAreRefused(string component) =>
        Assert.Throws<NotSupportedException>(() => SpacyConfigGenerator.Generate(new SpacyConfigRequest("en", [component])));

    [Fact]
    public void UnknownLanguagesAndDuplicatesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => SpacyConfigGenerator.Generate(new SpacyConfigRequest("qq", ["ner"])));
        Assert.Throws<NotSupportedException>(() => SpacyConfigGenerator.Generate(new SpacyConfigRequest("zh", ["ner"])));
        Assert.Throws<ArgumentException>(() => SpacyConfigGenerator.Generate(new SpacyConfigRequest("en", ["ner", "ner"])));
    }
}
