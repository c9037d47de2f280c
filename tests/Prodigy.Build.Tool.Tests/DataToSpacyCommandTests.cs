using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Tool;

namespace Prodigy.Build.Tool.Tests;

/// <summary><c>prodigy-build data-to-spacy</c> and <c>spacy-config</c>, run in-process.</summary>
public class DataToSpacyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-d2s-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CommandLine.RunAsync(args, new StringReader(""), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Dataset(string path) => Path.Combine(SharedData.Root, "datasets", path);

    [Fact]
    public async Task WritesCorpusConfigAndLabelsLikeProdigy()
    {
        var output = Path.Combine(_dir, "corpus");
        var (code, stdout, stderr) = await Run("data-to-spacy", "--output", output,
            "--dataset", "ner:" + Dataset("fashion_brands/fashion_brands_training.jsonl"),
            "--eval-dataset", "ner:" + Dataset("fashion_brands/fashion_brands_eval.jsonl"),
            "--dataset", "textcat_multilabel:" + Dataset("docs_issues/docs_issues_training.jsonl"));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("  - [ner] Training: 1235 | Evaluation: 500 (from datasets)", stdout);
        Assert.Contains("  - [textcat_multilabel] Training: 529 | Evaluation: 132 (20% split)", stdout);
        Assert.Equal(1235 + 529, DocBin.Read(Path.Combine(output, "train.spacy")).Count);
        Assert.Equal(500 + 132, DocBin.Read(Path.Combine(output, "dev.spacy")).Count);
        Assert.Equal("[\n  \"FASHION_BRAND\"\n]", File.ReadAllText(Path.Combine(output, "labels", "ner.json")));
        Assert.Equal("[\n  \"DOCUMENTATION\"\n]", File.ReadAllText(Path.Combine(output, "labels", "textcat_multilabel.json")));
        var config = SpacyConfigDocument.Load(Path.Combine(output, "config.cfg"));
        Assert.Equal("[\"tok2vec\",\"ner\",\"textcat_multilabel\"]", config.GetRaw("nlp", "pipeline"));
        Assert.Contains("train.spacy", config.GetRaw("paths", "train"));
        Assert.Contains("labels/ner.json", config.GetRaw("initialize.components.ner.labels", "path"));
    }

    [Fact]
    public async Task AUserConfigWithRenamedComponentsGetsTheLabelsAndKeysUnderItsNames()
    {
        // The user's config names its ner "brands" and its multilabel textcat "topics" (spaCy allows any name).
        var generated = SpacyConfigGenerator.GenerateDocument(new SpacyConfigRequest("en", ["ner", "textcat_multilabel"], SpacyOptimize.Efficiency)).ToString();
        var renamed = System.Text.RegularExpressions.Regex.Replace(generated, @"^\[components\.ner([.\]])", "[components.brands$1", System.Text.RegularExpressions.RegexOptions.Multiline);
        renamed = System.Text.RegularExpressions.Regex.Replace(renamed, @"^\[components\.textcat_multilabel([.\]])", "[components.topics$1", System.Text.RegularExpressions.RegexOptions.Multiline);
        renamed = renamed.Replace("pipeline = [\"tok2vec\",\"ner\",\"textcat_multilabel\"]", "pipeline = [\"tok2vec\",\"brands\",\"topics\"]", StringComparison.Ordinal);
        Assert.Contains("\"brands\"", renamed, StringComparison.Ordinal);
        var userConfig = Path.Combine(_dir, "user.cfg");
        File.WriteAllText(userConfig, renamed);
        var output = Path.Combine(_dir, "corpus");

        var (code, stdout, stderr) = await Run("data-to-spacy", "--output", output, "--config", userConfig,
            "--dataset", "ner:" + Dataset("fashion_brands/fashion_brands_training.jsonl"),
            "--dataset", "textcat_multilabel:" + Dataset("docs_issues/docs_issues_training.jsonl"));

        Assert.True(code == 0, stdout + stderr);
        var config = SpacyConfigDocument.Load(Path.Combine(output, "config.cfg"));
        Assert.Contains("labels/ner.json", config.GetRaw("initialize.components.brands.labels", "path"));
        Assert.Contains("labels/textcat_multilabel.json", config.GetRaw("initialize.components.topics.labels", "path"));
        Assert.Null(config.FindSection("initialize.components.ner.labels"));
        Assert.Null(config.FindSection("components.ner"));

        // A config without a component for the data: a coded error naming the config, not a crash.
        File.WriteAllText(userConfig, renamed.Replace("[\"tok2vec\",\"brands\",\"topics\"]", "[\"tok2vec\",\"topics\"]", StringComparison.Ordinal));
        (code, stdout, stderr) = await Run("data-to-spacy", "--output", Path.Combine(_dir, "other"), "--config", userConfig,
            "--dataset", "ner:" + Dataset("fashion_brands/fashion_brands_training.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains($"{userConfig}: error PRD2023: the config's [nlp] pipeline (tok2vec, topics) has no ner component for the ner data", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SameInputsGiveByteIdenticalOutputs()
    {
        async Task<Dictionary<string, byte[]>> Once(string name)
        {
            var output = Path.Combine(_dir, name);
            var (code, stdout, _) = await Run("data-to-spacy", "--output", "corpus", "--seed", "3",
                "--dataset", "ner:" + Dataset("news_headlines_ner/annotated_news_headlines-ORG-PERSON-LOCATION-ner.jsonl"));
            Assert.True(code == 0, stdout);
            Directory.Move("corpus", output);
            return Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(output, f), File.ReadAllBytes);
        }

        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(_dir);
        try
        {
            var first = await Once("a");
            var second = await Once("b");
            Assert.Equal(first.Keys.Order(), second.Keys.Order());
            foreach (var (file, bytes) in first)
            {
                Assert.True(bytes.AsSpan().SequenceEqual(second[file]), $"{file} differs between two runs");
            }
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public async Task BinaryNerSetsIncorrectSpansKey()
    {
        var output = Path.Combine(_dir, "binary");
        var (code, stdout, stderr) = await Run("data-to-spacy", "--output", output, "--dataset", "ner:" + Dataset("reddit_product_ner/annotated_reddit-PRODUCT-ner.jsonl"));
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal("\"incorrect_spans\"", SpacyConfigDocument.Load(Path.Combine(output, "config.cfg")).GetRaw("components.ner", "incorrect_spans_key"));
        var docs = DocBin.Read(Path.Combine(output, "train.spacy"));
        Assert.Contains(docs, d => d.SpanGroups.Any(g => g.Key == "incorrect_spans" && g.Value.Spans.Count > 0));
        Assert.Contains(docs, d => d.Entities is null || d.Entities.Any(e => e.Iob == EntityIob.Missing));
    }

    [Fact]
    public async Task ErrorsAreCanonicalAndLeaveEarlierOutputsIntact()
    {
        var output = Path.Combine(_dir, "keep");
        var good = Path.Combine(_dir, "good.jsonl");
        File.WriteAllText(good, "{\"text\": \"Gucci bags\", \"spans\": [{\"start\": 0, \"end\": 5, \"label\": \"BRAND\"}]}\n{\"text\": \"Prada shoes\", \"spans\": []}\n");
        var (code, stdout, _) = await Run("data-to-spacy", "--output", output, "--dataset", "ner:" + good, "--eval-split", "0.5");
        Assert.True(code == 0, stdout);
        var before = File.ReadAllBytes(Path.Combine(output, "train.spacy"));

        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"text\": \"fine\"}\n{\"text\": \"broken\", }\n");
        (code, stdout, var stderr) = await Run("data-to-spacy", "--output", output, "--dataset", "ner:" + bad);
        Assert.Equal(1, code);
        Assert.Matches($@"^{System.Text.RegularExpressions.Regex.Escape(bad)}\(2,\d+\): error PRD2011: malformed JSON", stderr);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(output, "train.spacy")));
    }

    [Fact]
    public async Task ResponseFilesCarryOneArgumentPerLine()
    {
        var output = Path.Combine(_dir, "rsp output");
        var rsp = Path.Combine(_dir, "args.rsp");
        File.WriteAllLines(rsp, ["data-to-spacy", "--output", output, "--dataset", "textcat:" + Dataset("healthsea_clausecat/annotation.jsonl"), "--eval-split", "0.25"]);
        var (code, stdout, stderr) = await Run("@" + rsp);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("(25% split)", stdout);
        Assert.True(File.Exists(Path.Combine(output, "train.spacy")));
    }

    [Theory]
    [InlineData("--dataset", "nerx:a.jsonl", 2, "unknown component 'nerx'")]
    [InlineData("--dataset", "a.jsonl", 2, "must look like COMPONENT:PATH")]
    [InlineData("--eval-split", "x", 1, "PRD2017")]
    [InlineData("--optimize", "fast", 1, "PRD2021")]
    public async Task BadArgumentsAreExplained(string option, string value, int exitCode, string expected)
    {
        var args = new List<string> { "data-to-spacy", "--output", Path.Combine(_dir, "o"), option, value };
        if (option != "--dataset")
        {
            args.AddRange(["--dataset", "ner:" + Dataset("fashion_brands/fashion_brands_eval.jsonl")]);
        }

        var (code, _, stderr) = await Run([.. args]);
        Assert.Equal(exitCode, code);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public async Task SpacyConfigWritesSpacysInitConfig()
    {
        var output = Path.Combine(_dir, "config.cfg");
        var (code, stdout, stderr) = await Run("spacy-config", "--output", output, "--lang", "en", "--pipeline", "ner,textcat", "--optimize", "efficiency");
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(SharedData.Root, "spacy", "configs", "en-ner,textcat-efficiency-cpu.cfg")), File.ReadAllBytes(output));
    }
}
