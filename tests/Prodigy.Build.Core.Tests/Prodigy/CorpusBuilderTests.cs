using System.Text.Json;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>Prodigy's data-to-spacy semantics: what goes into the docs of each split.</summary>
public class CorpusBuilderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-corpus-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal sealed class RecordingLog : ICorpusLog
    {
        public List<string> Messages { get; } = [];

        public List<(string Code, string Message, string? File, int Line)> Warnings { get; } = [];

        public void Message(string text) => Messages.Add(text);

        public void Warning(string code, string message, string? file = null, int line = 0, int column = 0) => Warnings.Add((code, message, file, line));
    }

    private string Write(string name, params object[] tasks)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, tasks.Select(t => t as string ?? JsonSerializer.Serialize(t)));
        return path;
    }

    private static (CorpusResult Result, RecordingLog Log) Build(params DatasetInput[] datasets) => Build(0.2, datasets);

    /// <summary>Every task of <paramref name="path"/> as training data (a separate one-line eval set keeps the split out of the way).</summary>
    private (IReadOnlyList<SpacyDoc> Docs, CorpusResult Result, RecordingLog Log) Train(CorpusComponent component, string path, string spansKey = "sc")
    {
        var eval = Write($"eval-{component}.jsonl", component switch
        {
            CorpusComponent.Ner or CorpusComponent.Spancat => Manual("unrelated evaluation text"),
            _ => new { text = "unrelated evaluation text", label = "POSITIVE", answer = "accept" },
        });
        var (result, log) = Build(new DatasetInput(component, path, SpansKey: spansKey), new DatasetInput(component, eval, IsEval: true, SpansKey: spansKey));
        return (result.TrainDocs, result, log);
    }

    private static (CorpusResult Result, RecordingLog Log) Build(double split, params DatasetInput[] datasets)
    {
        var log = new RecordingLog();
        var result = new CorpusBuilder(log).Build(new CorpusRequest { Datasets = datasets, EvalSplit = split });
        return (result, log);
    }

    private static object Manual(string text, params (int Start, int End, string Label)[] spans) => new Dictionary<string, object>
    {
        ["text"] = text,
        ["spans"] = spans.Select(s => new { start = s.Start, end = s.End, label = s.Label }).ToArray(),
        ["answer"] = "accept",
        ["_view_id"] = "ner_manual",
    };

    private static string[] Iob(SpacyDoc doc) => doc.Entities!.Select(e => e.Iob switch
    {
        EntityIob.Begin => "B-" + e.Label,
        EntityIob.Inside => "I-" + e.Label,
        EntityIob.Outside => "O",
        _ => "-",
    }).ToArray();

    [Fact]
    public void EvaluationDataFromOneMixedFileGivesEachComponentItsOwnTasksAndNeedsNoTrainingData()
    {
        // The NER line of a text, then a choice line and a binary label for it; one rejected
        // manual NER line (nothing) and one ignored line (dropped).
        var path = Write("mixed.jsonl",
            Manual("I love Gucci bags.", (7, 12, "BRAND")),
            new { text = "I love Gucci bags.", options = new[] { new { id = "POSITIVE" }, new { id = "NEGATIVE" } }, accept = new[] { "POSITIVE" }, answer = "accept", _view_id = "choice" },
            new { text = "Prada is awful.", label = "NEGATIVE", answer = "accept", _view_id = "classification" },
            new Dictionary<string, object> { ["text"] = "Zara shirts.", ["spans"] = new[] { new { start = 0, end = 4, label = "BRAND" } }, ["answer"] = "reject", ["_view_id"] = "ner_manual" },
            new Dictionary<string, object> { ["text"] = "Puma shoes.", ["spans"] = new[] { new { start = 0, end = 4, label = "BRAND" } }, ["answer"] = "ignore", ["_view_id"] = "ner_manual" });
        var log = new RecordingLog();

        var result = new CorpusBuilder(log).Build(new CorpusRequest
        {
            Datasets = [new DatasetInput(CorpusComponent.Ner, path, IsEval: true), new DatasetInput(CorpusComponent.Textcat, path, IsEval: true)],
            EvaluationOnly = true,
        });

        Assert.Empty(result.TrainDocs);
        Assert.Empty(log.Warnings);
        var docs = result.DevDocs.ToDictionary(d => string.Concat(d.Words.Select((w, i) => w + (d.Spaces![i] ? " " : ""))));
        Assert.Equal(["I love Gucci bags.", "Prada is awful."], docs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["O", "O", "B-BRAND", "O", "O"], Iob(docs["I love Gucci bags."]));
        Assert.Equal([new KeyValuePair<string, object>("POSITIVE", 1.0), new("NEGATIVE", 0.0)], docs["I love Gucci bags."].Cats);
        Assert.Null(docs["Prada is awful."].Entities);
        Assert.Equal(1.0, docs["Prada is awful."].Cats.Single(c => c.Key == "NEGATIVE").Value);
    }

    [Fact]
    public void InputHashIsProdigys()
    {
        Assert.Equal(-784135307, ProdigyHashes.InputHash("hi my name is 0"));
    }

    [Theory]
    [InlineData("fashion_brands/fashion_brands_training.jsonl")]
    [InlineData("healthsea_clausecat/annotation.jsonl")]
    public void ComputedInputHashesEqualTheExportedOnes(string file)
    {
        var checkedLines = 0;
        foreach (var line in File.ReadLines(Path.Combine(SharedData.Root, "datasets", file)).Take(300))
        {
            using var json = JsonDocument.Parse(line);
            var text = json.RootElement.GetProperty("text").GetString()!;
            Assert.Equal(json.RootElement.GetProperty("_input_hash").GetInt32(), ProdigyHashes.InputHash(text));
            checkedLines++;
        }

        Assert.True(checkedLines > 0);
    }

    [Fact]
    public void ManualNerIsCompleteAndUsesTheTasksTokens()
    {
        var path = Write("ner.jsonl", new
        {
            text = "I love Gucci bags.",
            tokens = new object[]
            {
                new { text = "I", start = 0, end = 1, id = 0 }, new { text = "love", start = 2, end = 6, id = 1 },
                new { text = "Gucci", start = 7, end = 12, id = 2 }, new { text = "bags", start = 13, end = 17, id = 3 },
                new { text = ".", start = 17, end = 18, id = 4 },
            },
            spans = new[] { new { start = 7, end = 12, label = "BRAND", token_start = 2, token_end = 2 } },
            answer = "accept",
            _view_id = "ner_manual",
        });
        var (docs, result, _) = Train(CorpusComponent.Ner, path);
        var doc = docs.Single();
        Assert.Equal(["I", "love", "Gucci", "bags", "."], doc.Words);
        Assert.Equal([true, true, true, false, false], doc.Spaces);
        Assert.Equal(["O", "O", "B-BRAND", "O", "O"], Iob(doc));
        Assert.Equal(["i", "love", "gucci", "bags", "."], doc.Norms);
    }

    [Fact]
    public void TextWithoutTokensIsTokenizedAndOffsetsCountCodePoints()
    {
        var path = Write("ner.jsonl", Manual("😀😀 Visit New York now", (9, 17, "GPE")));
        var (docs, result, _) = Train(CorpusComponent.Ner, path);
        var doc = docs.Single();
        Assert.Equal(["😀", "😀", "Visit", "New", "York", "now"], doc.Words);
        Assert.Equal(["O", "O", "O", "B-GPE", "I-GPE", "O"], Iob(doc));
    }

    [Fact]
    public void BinaryNerIsPartialWithRejectedSpansAsIncorrectSpans()
    {
        var path = Write("teach.jsonl",
            new { text = "Apple makes the iPhone", spans = new[] { new { start = 16, end = 22, label = "PRODUCT" } }, answer = "accept", _view_id = "ner" },
            new { text = "Apple makes the iPhone", spans = new[] { new { start = 0, end = 5, label = "PRODUCT" } }, answer = "reject", _view_id = "ner" });
        var (docs, result, _) = Train(CorpusComponent.Ner, path);
        var doc = docs.Single();
        Assert.Equal(["-", "-", "-", "B-PRODUCT"], Iob(doc));
        var group = Assert.Single(doc.SpanGroups);
        Assert.Equal(CorpusBuilder.IncorrectSpansKey, group.Key);
        Assert.Equal([new SpacySpan(0, 1, "PRODUCT")], group.Value.Spans);
        Assert.True(result.Components.Single().HasBinaryAnnotations);
    }

    [Fact]
    public void MisalignedAndOverlappingSpansAreSkippedWithWarnings()
    {
        var path = Write("ner.jsonl",
            Manual("Gucci bags", (0, 3, "BRAND")),
            Manual("New York City", (0, 8, "GPE"), (4, 13, "GPE")));
        var (docs, result, log) = Train(CorpusComponent.Ner, path);
        Assert.Equal(["O", "O"], Iob(docs[0]));
        Assert.Equal(["B-GPE", "I-GPE", "O"], Iob(docs[1]));
        Assert.Contains(log.Warnings, w => w.Code == "PRD2101" && w.File == path && w.Line == 1);
        Assert.Contains(log.Warnings, w => w.Code == "PRD2102" && w.File == path && w.Line == 2);
        Assert.Equal(1, result.WarningCounts["PRD2101"]);
    }

    [Fact]
    public void AnswersMissingMeanAcceptIgnoredAreDropped()
    {
        var path = Write("ner.jsonl",
            new { text = "no answer here", spans = Array.Empty<object>() },
            new { text = "ignored line", spans = Array.Empty<object>(), answer = "ignore" });
        var (docs, result, _) = Train(CorpusComponent.Ner, path);
        Assert.Equal("no answer here ", docs.Single().Text + " ");
    }

    [Fact]
    public void AnnotationsOfOneInputMergeAcrossDatasetsAndComponents()
    {
        var ner = Write("ner.jsonl", Manual("Gucci is great", (0, 5, "BRAND")), Manual("Prada is fine", (0, 5, "BRAND")));
        var cats = Write("cats.jsonl",
            new { text = "Gucci is great", label = "POSITIVE", answer = "accept" },
            new { text = "Prada is fine", label = "POSITIVE", answer = "reject" });
        var (result, log) = Build(
            new DatasetInput(CorpusComponent.Ner, ner), new DatasetInput(CorpusComponent.Ner, Write("evalner.jsonl", Manual("other")), IsEval: true),
            new DatasetInput(CorpusComponent.TextcatMultilabel, cats), new DatasetInput(CorpusComponent.TextcatMultilabel, Write("evalcats.jsonl", new { text = "other", label = "POSITIVE" }), IsEval: true));
        var docs = result.TrainDocs;
        Assert.Equal(2, docs.Count);
        Assert.Equal(["B-BRAND", "O", "O"], Iob(docs[0]));
        Assert.Equal([new KeyValuePair<string, object>("POSITIVE", 1.0)], docs[0].Cats);
        Assert.Equal([new KeyValuePair<string, object>("POSITIVE", 0.0)], docs[1].Cats);
        Assert.Contains("  - [textcat_multilabel] Training: 2 | Evaluation: 1 (from datasets)", log.Messages);
    }

    [Fact]
    public void ExclusiveTextcatAcceptSetsOtherLabelsToZeroRejectOnlyItsOwn()
    {
        var path = Write("cats.jsonl",
            new { text = "great product", label = "POSITIVE", answer = "accept" },
            new { text = "awful", label = "POSITIVE", answer = "reject" },
            new { text = "meh", label = "NEGATIVE", answer = "reject" });
        var (docs, result, _) = Train(CorpusComponent.Textcat, path);
        Assert.Equal([new("POSITIVE", 1.0), new KeyValuePair<string, object>("NEGATIVE", 0.0)], docs[0].Cats);
        Assert.Equal([new KeyValuePair<string, object>("POSITIVE", 0.0)], docs[1].Cats);
        Assert.Equal([new KeyValuePair<string, object>("NEGATIVE", 0.0)], docs[2].Cats);
    }

    [Fact]
    public void ChoiceTasksGiveOneToAcceptedOptionsAndZeroToTheOthers()
    {
        var path = Write("choice.jsonl",
            new { text = "it helped my sleep", options = new[] { new { id = "POSITIVE", text = "+" }, new { id = "NEGATIVE", text = "-" }, new { id = "NEUTRAL", text = "0" } }, accept = new[] { "POSITIVE" }, answer = "accept" },
            new { text = "skip this", options = new[] { new { id = "POSITIVE", text = "+" } }, accept = new[] { "POSITIVE" }, answer = "reject" });
        var (docs, result, _) = Train(CorpusComponent.Textcat, path);
        var doc = Assert.Single(docs);
        Assert.Equal([new("POSITIVE", 1.0), new("NEGATIVE", 0.0), new KeyValuePair<string, object>("NEUTRAL", 0.0)], doc.Cats);
    }

    [Fact]
    public void ConflictingAnswersAreResolvedByMajorityAndTiesDropped()
    {
        var path = Write("votes.jsonl",
            new { text = "a", label = "X", answer = "accept" }, new { text = "a", label = "X", answer = "accept" }, new { text = "a", label = "X", answer = "reject" },
            new { text = "b", label = "X", answer = "accept" }, new { text = "b", label = "X", answer = "reject" },
            new { text = "b", label = "Y", answer = "accept" });
        var (docs, result, log) = Train(CorpusComponent.TextcatMultilabel, path);
        Assert.Equal([new KeyValuePair<string, object>("X", 1.0)], docs[0].Cats);
        Assert.Equal([new KeyValuePair<string, object>("Y", 1.0)], docs[1].Cats);
        Assert.Contains(log.Warnings, w => w.Code == "PRD2104" && w.Message.Contains("2 label answer(s)") && w.Message.Contains("1 tie(s)"));
    }

    [Fact]
    public void ExclusiveTextcatNeedsTwoLabels()
    {
        var path = Write("one.jsonl", new { text = "a", label = "DOCUMENTATION", answer = "accept" }, new { text = "b", label = "DOCUMENTATION", answer = "reject" });
        var error = Assert.Throws<ProdigyDataException>(() => Build(new DatasetInput(CorpusComponent.Textcat, path)));
        Assert.Equal("PRD2015", error.Code);
        Assert.Contains("TextcatMultilabelDataset", error.Message);
    }

    [Fact]
    public void SplitIsSeededByInputAndMatchesPythonsShuffle()
    {
        // spaCy's baseline split of news_headlines_ner: random.Random(0).shuffle(range(n)), first int(n*0.2) to dev.
        var source = Path.Combine(SharedData.Root, "datasets", "news_headlines_ner", "annotated_news_headlines-ORG-PERSON-LOCATION-ner.jsonl");
        var (result, log) = Build(new DatasetInput(CorpusComponent.Ner, source));
        var devIds = File.ReadAllLines(Path.Combine(SharedData.Root, "spacy", "baselines", "corpus", "news_headlines_ner", "dev.ids"));
        var trainIds = File.ReadAllLines(Path.Combine(SharedData.Root, "spacy", "baselines", "corpus", "news_headlines_ner", "train.ids"));
        Assert.Equal(devIds.Length, result.DevDocs.Count);
        Assert.Equal(trainIds.Length, result.TrainDocs.Count);
        var texts = File.ReadLines(source).Select(l => JsonDocument.Parse(l).RootElement)
            .GroupBy(e => e.GetProperty("_input_hash").GetInt32()).ToDictionary(g => g.Key.ToString(), g => g.First().GetProperty("text").GetString()!);
        Assert.Equal(devIds.Select(id => texts[id]), result.DevDocs.Select(d => TextOf(d)));
        Assert.Contains("  - [ner] Training: 298 | Evaluation: 74 (20% split)", log.Messages);
    }

    private static string TextOf(SpacyDoc doc) => doc.Text.TrimEnd(' ') is var t && doc.Spaces![^1] ? doc.Text[..^0] : doc.Text;

    [Fact]
    public void SameInputsAndSeedGiveTheSameSplit()
    {
        var path = Write("many.jsonl", Enumerable.Range(0, 50).Select(i => (object)new { text = $"text {i}", label = "X", answer = i % 2 == 0 ? "accept" : "reject" }).ToArray());
        var first = Build(new DatasetInput(CorpusComponent.TextcatMultilabel, path)).Result;
        var second = Build(new DatasetInput(CorpusComponent.TextcatMultilabel, path)).Result;
        Assert.Equal(first.DevDocs.Select(d => d.Text), second.DevDocs.Select(d => d.Text));
        Assert.Equal(10, first.DevDocs.Count);
        Assert.Empty(first.DevDocs.Select(d => d.Text).Intersect(first.TrainDocs.Select(d => d.Text)));
    }

    [Theory]
    [InlineData("{\"text\": \"ok\"}\n{\"text\": \"broken\" \"x\"}", "PRD2011", 2)]
    [InlineData("{\"label\": \"X\", \"pattern\": \"gucci\"}", "PRD2012", 1)]
    [InlineData("{\"text\": \"short\", \"spans\": [{\"start\": 2, \"end\": 40, \"label\": \"X\"}]}", "PRD2013", 1)]
    [InlineData("{\"text\": \"ok\", \"answer\": \"maybe\"}", "PRD2014", 1)]
    public void BadLinesAreErrorsWithFileAndLine(string content, string code, int line)
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(path, content);
        var error = Assert.Throws<ProdigyDataException>(() => Build(new DatasetInput(CorpusComponent.Ner, path)));
        Assert.Equal(code, error.Code);
        Assert.Equal(path, error.File);
        Assert.Equal(line, error.Line);
        Assert.True(error.Column >= 1);
    }

    [Fact]
    public void MissingEmptyAndUndeclaredInputsAreErrors()
    {
        Assert.Equal("PRD2010", Assert.Throws<ProdigyDataException>(() => Build(new DatasetInput(CorpusComponent.Ner, Path.Combine(_dir, "missing.jsonl")))).Code);
        var empty = Path.Combine(_dir, "empty.jsonl");
        File.WriteAllText(empty, "\n\n");
        Assert.Equal("PRD2010", Assert.Throws<ProdigyDataException>(() => Build(new DatasetInput(CorpusComponent.Ner, empty))).Code);
        Assert.Equal("PRD2016", Assert.Throws<ProdigyDataException>(() => Build()).Code);
        var ok = Write("ok.jsonl", Manual("x"));
        Assert.Equal("PRD2017", Assert.Throws<ProdigyDataException>(() => Build(1.5, new DatasetInput(CorpusComponent.Ner, ok))).Code);
        Assert.Equal("PRD2017", Assert.Throws<ProdigyDataException>(() => Build(0, new DatasetInput(CorpusComponent.Ner, ok))).Code);
    }

    [Fact]
    public void SpancatSpansMayOverlap()
    {
        var path = Write("spans.jsonl", new { text = "fresh basil leaves", spans = new[] { new { start = 0, end = 11, label = "INGRED" }, new { start = 6, end = 18, label = "INGRED" } }, answer = "accept" });
        var (docs, _, _) = Train(CorpusComponent.Spancat, path);
        var group = Assert.Single(docs.Single().SpanGroups);
        Assert.Equal("sc", group.Key);
        Assert.Equal([new SpacySpan(0, 2, "INGRED"), new SpacySpan(1, 3, "INGRED")], group.Value.Spans);
        Assert.Null(docs.Single().Entities);
    }
}
