using System.Text;
using Prodigy.Build.Core.Config;

namespace Prodigy.Build.Core.Tests.Config;

public class SpacyConfigDocumentTests
{
    public static TheoryData<string> AllGoldenFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in ConfigGolden.AllCfgFiles())
        {
            data.Add(file);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllGoldenFiles))]
    public void ParseThenSerializeIsByteIdentical(string file)
    {
        var bytes = ConfigGolden.ReadBytes(file);
        var text = new UTF8Encoding(false).GetString(bytes);
        var doc = SpacyConfigDocument.Parse(text);
        Assert.True(bytes.AsSpan().SequenceEqual(doc.ToBytes()), ConfigGolden.Diff(text, doc.ToString(), file));
        Assert.Contains(doc.Sections, s => s.Name == "paths");
    }

    [Theory]
    [MemberData(nameof(AllGoldenFiles))]
    public void EditingPathsChangesOnlyThoseLines(string file)
    {
        var text = ConfigGolden.Read(file);
        var doc = SpacyConfigDocument.Parse(text);
        doc.SetRaw("paths", "train", ConfigValues.String("corpus/train.spacy"));
        doc.SetRaw("paths", "dev", ConfigValues.String("corpus/dev.spacy"));

        var before = text.Split('\n');
        var after = doc.ToString().Split('\n');
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.Equal(2, changed.Count);
        Assert.Equal("train = \"corpus/train.spacy\"", after[changed[0]]);
        Assert.Equal("dev = \"corpus/dev.spacy\"", after[changed[1]]);
        Assert.Equal(text.EndsWith('\n'), doc.ToString().EndsWith('\n'));
    }

    [Fact]
    public void GoldenSectionsAreInThincSortOrder()
    {
        foreach (var file in ConfigGolden.AllCfgFiles().Where(f => !f.StartsWith("base-", StringComparison.Ordinal)))
        {
            var names = SpacyConfigDocument.Parse(ConfigGolden.Read(file)).Sections.Select(s => s.Name).ToList();
            var sorted = names.Order(Comparer<string>.Create(SpacyConfigDocument.CompareSectionNames)).ToList();
            Assert.Equal(sorted, names);
        }
    }

    private const string UserConfig =
        "\uFEFF# my own config\r\n" +
        "[paths]\r\n" +
        "train = null\r\n" +
        "dev=null   \r\n" +
        "; a comment\r\n" +
        "vectors: \"my_vectors\"\r\n" +
        "\r\n" +
        "[nlp]\r\n" +
        "lang = \"fr\"\r\n" +
        "pipeline = [\"tok2vec\", \"ner\"]\r\n" +
        "long = [\r\n" +
        "    1,\r\n" +
        "    2]\r\n" +
        "\r\n" +
        "[components]\r\n" +
        "\r\n" +
        "[components.ner]\r\n" +
        "factory = \"ner\"\r\n" +
        "\r\n" +
        "[initialize]\r\n" +
        "vectors = ${paths.vectors}\r\n" +
        "# trailing comment\r\n";

    [Fact]
    public void UserConfigRoundTripsWithCommentsCrlfContinuationsAndBom()
    {
        var path = Path.Combine(Path.GetTempPath(), "cfgtest-" + Guid.NewGuid().ToString("N") + ".cfg");
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(UserConfig));
        try
        {
            var doc = SpacyConfigDocument.Load(path);
            Assert.True(doc.HasByteOrderMark);
            Assert.Equal(File.ReadAllBytes(path), doc.ToBytes());
            Assert.Equal("null", doc.GetRaw("paths", "dev"));
            Assert.Equal("\"my_vectors\"", doc.GetRaw("paths", "vectors"));
            Assert.Equal("[\n1,\n2]", doc.GetRaw("nlp", "long"));
            Assert.Equal("${paths.vectors}", doc.GetRaw("initialize", "vectors"));
            Assert.Equal("\r\n", doc.NewLine);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EditsKeepTheRestOfAUserConfig()
    {
        var doc = SpacyConfigDocument.Parse(UserConfig[1..]);
        doc.SetRaw("paths", "dev", ConfigValues.String("c/dev.spacy"));
        doc.SetRaw("paths", "init_tok2vec", ConfigValues.Null);
        doc.SetRaw("initialize.components.ner.labels", "path", ConfigValues.String("c/labels/ner.json"));
        var expected = UserConfig[1..]
            .Replace("dev=null   \r\n", "dev=\"c/dev.spacy\"\r\n", StringComparison.Ordinal)
            .Replace("vectors: \"my_vectors\"\r\n", "vectors: \"my_vectors\"\r\ninit_tok2vec = null\r\n", StringComparison.Ordinal)
            + "\r\n[initialize.components]\r\n\r\n[initialize.components.ner]\r\n\r\n[initialize.components.ner.labels]\r\npath = \"c/labels/ner.json\"\r\n";
        Assert.Equal(expected, doc.ToString());
    }

    [Fact]
    public void SectionsAreInsertedInSortedPositionsWithThincLayout()
    {
        var doc = SpacyConfigDocument.Parse("[paths]\ntrain = null\n\n[training]\nseed = 0\n\n[initialize]\nvectors = null");
        doc.SetRaw("nlp", "lang", "\"en\"");
        doc.SetRaw("training.score_weights", "ents_f", "1.0");
        doc.GetOrAddSection("variables");
        doc.GetOrAddSection("zzz");
        Assert.Equal(
            "[paths]\ntrain = null\n\n[variables]\n\n[nlp]\nlang = \"en\"\n\n[training]\nseed = 0\n\n[training.score_weights]\nents_f = 1.0\n\n[initialize]\nvectors = null\n\n[zzz]",
            doc.ToString());
        Assert.True(doc.RemoveSection("zzz"));
        Assert.EndsWith("[initialize]\nvectors = null", doc.ToString(), StringComparison.Ordinal);
        Assert.True(doc.FindSection("training")!.RenameKey("seed", "dropout"));
        Assert.Contains("\ndropout = 0\n", doc.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[a]\nx = 1\n[a]\ny = 2")]
    [InlineData("[a]\nx = 1\nx = 2")]
    [InlineData("x = 1\n[a]")]
    [InlineData("[a]\njust text")]
    public void InvalidConfigsAreRefused(string text) =>
        Assert.Throws<FormatException>(() => SpacyConfigDocument.Parse(text));

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.0, "0.0")]
    [InlineData(0.33, "0.33")]
    [InlineData(1e-8, "0.00000001")]
    [InlineData(1.001, "1.001")]
    [InlineData(-0.5, "-0.5")]
    [InlineData(1e-10, "0.0")]
    public void FloatsAreWrittenLikeThinc(double value, string expected) =>
        Assert.Equal(expected, ConfigValues.Float(value));

    [Theory]
    [InlineData("corpus/train.spacy", "\"corpus/train.spacy\"")]
    [InlineData("${paths.train}", "${paths.train}")]
    [InlineData("caf\u00e9 \"x\"\\", "\"caf\\u00e9 \\\"x\\\"\\\\\"")]
    [InlineData("a$b", "\"a$$b\"")]
    [InlineData("1.5", "\"\\\"1.5\\\"\"")]
    public void StringsAreWrittenLikeThinc(string value, string expected) =>
        Assert.Equal(expected, ConfigValues.String(value));
}
