using System.Text;
using Prodigy.Build.Core.Config;

namespace Prodigy.Build.Core.Tests.Config;

public class CorpusConfigTests
{
    private static string Golden(string file) => ConfigGolden.Read(file);

    private static string LabelsBlock(string component, string dir = "corpus") =>
        $"[initialize.components.{component}]\n\n[initialize.components.{component}.labels]\n@readers = \"spacy.read_labels.v1\"\npath = \"{dir}/labels/{component}.json\"\n\n";

    [SkippableFact]
    public void NerWithBinaryDataGetsPathsLabelsAndIncorrectSpansKey()
    {
        Skip.If(OperatingSystem.IsWindows(), "the expected text uses '/' (Python's str(PosixPath))");

        var request = new CorpusConfigRequest
        {
            Components = ["ner"],
            Labels = new Dictionary<string, IReadOnlyList<string>> { ["ner"] = ["PRODUCT"] },
            OutputDirectory = "./corpus/",
            HasBinaryNer = true,
        };
        var text = CorpusConfig.Create(new SpacyConfigRequest("en", ["ner"]), request);

        var expected = Golden("en-ner-efficiency-cpu.cfg")
            .Replace("train = null\ndev = null", "train = \"corpus/train.spacy\"\ndev = \"corpus/dev.spacy\"", StringComparison.Ordinal)
            .Replace("incorrect_spans_key = null", "incorrect_spans_key = \"incorrect_spans\"", StringComparison.Ordinal)
            .Replace("[initialize.tokenizer]", LabelsBlock("ner") + "[initialize.tokenizer]", StringComparison.Ordinal);
        Assert.True(expected == text, ConfigGolden.Diff(expected, text, "corpus config"));
    }

    [SkippableFact]
    public void EveryComponentGetsItsLabelsBlockAndOnlyThat()
    {
        Skip.If(OperatingSystem.IsWindows(), "the expected text uses '/' (Python's str(PosixPath))");

        var components = new[] { "ner", "textcat_multilabel", "spancat" };
        var request = new CorpusConfigRequest
        {
            Components = components,
            Labels = components.ToDictionary(c => c, IReadOnlyList<string> (_) => ["A"]),
            OutputDirectory = "out",
        };
        var text = CorpusConfig.Create(new SpacyConfigRequest("en", components, SpacyOptimize.Accuracy), request);
        var expected = Golden("en-ner,textcat_multilabel,spancat-accuracy-cpu.cfg")
            .Replace("train = null\ndev = null", "train = \"out/train.spacy\"\ndev = \"out/dev.spacy\"", StringComparison.Ordinal)
            .Replace("[initialize.tokenizer]", LabelsBlock("ner", "out") + LabelsBlock("spancat", "out") + LabelsBlock("textcat_multilabel", "out") + "[initialize.tokenizer]", StringComparison.Ordinal);
        Assert.True(expected == text, ConfigGolden.Diff(expected, text, "corpus config"));
        Assert.Contains("incorrect_spans_key = null", text, StringComparison.Ordinal);
        Assert.Contains("spans_key = \"sc\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void CustomSpansKeyIsSetAndScoreWeightsFollowIt()
    {
        var request = new CorpusConfigRequest { Components = ["ner", "spancat"], OutputDirectory = "corpus", SpansKey = "skills" };
        var golden = Golden("en-ner,spancat-efficiency-cpu.cfg");
        var doc = SpacyConfigDocument.Parse(golden);
        CorpusConfig.Apply(doc, request);
        var text = doc.ToString();
        Assert.Equal("\"skills\"", doc.GetRaw("components.spancat", "spans_key"));
        Assert.Equal("0.5", doc.GetRaw("training.score_weights", "spans_skills_f"));
        Assert.Equal("0.0", doc.GetRaw("training.score_weights", "spans_skills_p"));
        Assert.Null(doc.GetRaw("training.score_weights", "spans_sc_f"));
        // Same positions: only the value/keys changed, no line added or removed besides the paths.
        Assert.Equal(golden.Split('\n').Length, text.Split('\n').Length);
        Assert.DoesNotContain("[initialize.components.", text, StringComparison.Ordinal);
        Assert.Contains("incorrect_spans_key = null", text, StringComparison.Ordinal);
    }

    [Fact]
    public void UserConfigIsKeptExceptTheFilledValues()
    {
        const string user =
            "# tuned by hand\n[paths]\ntrain = \"old/train.spacy\"\ndev = null\nvectors = null\n\n" +
            "[nlp]\nlang = \"nl\"\npipeline = [\"tok2vec\", \"ner\", \"textcat\"]\n\n" +
            "[components]\n\n[components.ner]\nfactory = \"ner\"\n; my comment\nincorrect_spans_key = null\n\n" +
            "[components.textcat]\nfactory = \"textcat\"\n\n" +
            "[training]\ndropout = 0.3\n\n[initialize]\nvectors = ${paths.vectors}\n\n" +
            "[initialize.components]\n\n[initialize.components.textcat]\npositive_label = \"POS\"\n";
        var doc = SpacyConfigDocument.Parse(user);
        var request = new CorpusConfigRequest
        {
            Components = ["ner", "textcat"],
            Labels = new Dictionary<string, IReadOnlyList<string>> { ["ner"] = ["PER"], ["textcat"] = ["POS", "NEG"] },
            OutputDirectory = "/data/export",
            HasBinaryNer = true,
        };
        var text = CorpusConfig.Create(doc, request);
        string P(string rest) => OperatingSystem.IsWindows() ? "\\\\data\\\\export\\\\" + rest.Replace("/", "\\\\", StringComparison.Ordinal) : "/data/export/" + rest;
        var expected = user
            .Replace("train = \"old/train.spacy\"\ndev = null", $"train = \"{P("train.spacy")}\"\ndev = \"{P("dev.spacy")}\"", StringComparison.Ordinal)
            .Replace("incorrect_spans_key = null", "incorrect_spans_key = \"incorrect_spans\"", StringComparison.Ordinal)
            .Replace("[initialize.components]\n\n", $"[initialize.components]\n\n[initialize.components.ner]\n\n[initialize.components.ner.labels]\n@readers = \"spacy.read_labels.v1\"\npath = \"{P("labels/ner.json")}\"\n\n", StringComparison.Ordinal)
            + $"\n[initialize.components.textcat.labels]\n@readers = \"spacy.read_labels.v1\"\npath = \"{P("labels/textcat.json")}\"\n";
        Assert.True(expected == text, ConfigGolden.Diff(expected, text, "user config"));
        Assert.Equal(user, doc.ToString()); // Create works on a copy.
    }

    [Fact]
    public void AbsolutePathStyleWritesFullPaths()
    {
        var request = new CorpusConfigRequest { Components = ["textcat"], OutputDirectory = "corpus", PathStyle = CorpusPathStyle.Absolute };
        var doc = SpacyConfigGenerator.GenerateDocument(new SpacyConfigRequest("en", ["textcat"]));
        CorpusConfig.Apply(doc, request);
        var train = Path.GetFullPath(Path.Combine("corpus", "train.spacy"));
        Assert.Equal(ConfigValues.String(train), doc.GetRaw("paths", "train"));
    }

    [Fact]
    public void MissingComponentOrStrayLabelsAreRefused()
    {
        var doc = SpacyConfigGenerator.GenerateDocument(new SpacyConfigRequest("en", ["textcat"]));
        Assert.Throws<ArgumentException>(() => CorpusConfig.Apply(doc.Clone(), new CorpusConfigRequest { Components = ["ner"], OutputDirectory = "c" }));
        Assert.Throws<ArgumentException>(() => CorpusConfig.Apply(doc.Clone(), new CorpusConfigRequest
        {
            Components = ["textcat"],
            OutputDirectory = "c",
            Labels = new Dictionary<string, IReadOnlyList<string>> { ["spancat"] = ["X"] },
        }));
    }

    [SkippableTheory]
    [InlineData("corpus", "corpus/train.spacy")]
    [InlineData("./corpus/", "corpus/train.spacy")]
    [InlineData("a//b/./c", "a/b/c/train.spacy")]
    [InlineData("../x", "../x/train.spacy")]
    [InlineData("/abs/dir/", "/abs/dir/train.spacy")]
    [InlineData(".", "train.spacy")]
    public void PathsAreJoinedLikePathlib(string output, string expected)
    {
        Skip.If(OperatingSystem.IsWindows(), "the expected paths use '/' (Python's str(PosixPath))");

        Assert.Equal(expected, CorpusConfig.JoinPath(CorpusPathStyle.AsGiven, output, "train.spacy"));
    }

    [Fact]
    public void LabelFilesAreWrittenLikeSpacyInitLabels()
    {
        Assert.Equal("[\n  \"LOC\",\n  \"ORG\",\n  \"PER\"\n]", LabelFiles.ToJson("ner", ["PER", "ORG", "PER", "LOC"]));
        Assert.Equal("[\n  \"POS\",\n  \"NEG\"\n]", LabelFiles.ToJson("textcat", ["POS", "NEG", "POS"]));
        Assert.Equal("[\n  \"b\",\n  \"a\"\n]", LabelFiles.ToJson("spancat", ["b", "a"]));
        Assert.Equal("[\n  \"Z\",\n  \"a\",\n  \"caf\\u00e9\"\n]", LabelFiles.ToJson("ner", ["caf\u00e9", "a", "Z"]));
        Assert.Equal("[]", LabelFiles.ToJson("textcat_multilabel", []));
        // Python sorts by code point: an astral label sorts after U+FFxx (UTF-16 ordinal would not).
        Assert.Equal(["\uFF21", "\U0001F600"], LabelFiles.Order("ner", ["\U0001F600", "\uFF21"]));
    }

    [Fact]
    public void LabelFilesAreWrittenAtomicallyAndDeterministically()
    {
        var dir = Path.Combine(Path.GetTempPath(), "labels-" + Guid.NewGuid().ToString("N"));
        try
        {
            var labels = new Dictionary<string, IReadOnlyList<string>> { ["ner"] = ["B", "A"], ["textcat"] = ["Y", "X"] };
            var paths = LabelFiles.WriteAll(dir, labels);
            var first = paths.ToDictionary(p => p.Key, p => File.ReadAllBytes(p.Value));
            LabelFiles.WriteAll(dir, labels);
            Assert.Equal(["ner.json", "textcat.json"], Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal("[\n  \"A\",\n  \"B\"\n]", Encoding.UTF8.GetString(first["ner"]));
            Assert.Equal("[\n  \"Y\",\n  \"X\"\n]", Encoding.UTF8.GetString(first["textcat"]));
            Assert.Equal(first["ner"], File.ReadAllBytes(paths["ner"]));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
