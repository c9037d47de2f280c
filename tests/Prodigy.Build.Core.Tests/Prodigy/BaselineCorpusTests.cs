using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>
/// The corpora spaCy's baselines trained on (../shared/spacy/baselines/corpus, converted with
/// Prodigy's semantics and written by spaCy's DocBin): ours must be the same bytes once
/// decompressed, splits included.
/// </summary>
public class BaselineCorpusTests
{
    private static string Dataset(string path) => Path.Combine(SharedData.Root, "datasets", path);

    public static TheoryData<string, CorpusComponent, string, string?> Corpora() => new()
    {
        { "fashion_brands", CorpusComponent.Ner, "fashion_brands/fashion_brands_training.jsonl", "fashion_brands/fashion_brands_eval.jsonl" },
        { "news_headlines_ner", CorpusComponent.Ner, "news_headlines_ner/annotated_news_headlines-ORG-PERSON-LOCATION-ner.jsonl", null },
        { "food_ingredients", CorpusComponent.Ner, "food_ingredients/food_data.jsonl", null },
        { "docs_issues", CorpusComponent.TextcatMultilabel, "docs_issues/docs_issues_training.jsonl", "docs_issues/docs_issues_eval.jsonl" },
        { "reddit_insult_textcat", CorpusComponent.TextcatMultilabel, "reddit_insult_textcat/annotated_reddit-INSULT-textcat.jsonl", null },
    };

    [Theory]
    [MemberData(nameof(Corpora))]
    public void OurCorpusEqualsSpacysBaselineCorpus(string name, CorpusComponent component, string train, string? eval)
    {
        var datasets = new List<DatasetInput> { new(component, Dataset(train)) };
        if (eval is not null)
        {
            datasets.Add(new DatasetInput(component, Dataset(eval), IsEval: true));
        }

        var result = new CorpusBuilder(new CorpusBuilderTests.RecordingLog()).Build(new CorpusRequest { Datasets = datasets, EvalSplit = 0.2, Seed = 0 });
        AssertSamePayload(name, "train", result.TrainDocs);
        AssertSamePayload(name, "dev", result.DevDocs);
    }

    [Fact]
    public void HealthseaDiffersFromTheBaselineOnlyWhereMajorityVotingDropsATie()
    {
        // The baseline resolves the one conflicting input (NEUTRAL, then POSITIVE) by "last answer wins";
        // Prodigy's rule here is a majority vote, and a 1-1 tie leaves those labels missing.
        var result = new CorpusBuilder(new CorpusBuilderTests.RecordingLog()).Build(new CorpusRequest
        {
            Datasets = [new DatasetInput(CorpusComponent.Textcat, Dataset("healthsea_clausecat/annotation.jsonl"))],
        });
        foreach (var (part, ours) in new[] { ("train", result.TrainDocs), ("dev", result.DevDocs) })
        {
            var theirs = DocBin.Read(Path.Combine(SharedData.Root, "spacy", "baselines", "corpus", "healthsea_clausecat", $"{part}.spacy"));
            Assert.Equal(theirs.Count, ours.Count);
            var differing = Enumerable.Range(0, ours.Count).Where(i => !ours[i].Cats.SequenceEqual(theirs[i].Cats)).ToList();
            Assert.True(differing.Count <= 1, $"{part}: {differing.Count} docs differ in cats");
            foreach (var i in differing)
            {
                Assert.StartsWith("Good bcaa source and", ours[i].Text);
                Assert.DoesNotContain(ours[i].Cats, c => c.Key is "NEUTRAL" or "POSITIVE");
            }

            Assert.Equal(theirs.Select(d => d.Words), ours.Select(d => d.Words));
        }
    }

    [Theory]
    [InlineData("29-fashion-brands-first-100", "fashion_brands/fashion_brands_training.jsonl", 100, CorpusComponent.Ner)]
    [InlineData("30-docs-issues-first-100", "docs_issues/docs_issues_training.jsonl", 100, CorpusComponent.TextcatMultilabel)]
    public void DatasetCasesOfTheDocBinGoldenEqualOurConversion(string docbinCase, string dataset, int lines, CorpusComponent component)
    {
        var dir = Directory.CreateTempSubdirectory("prodigy-golden-").FullName;
        try
        {
            var train = Path.Combine(dir, "train.jsonl");
            File.WriteAllLines(train, File.ReadLines(Dataset(dataset)).Take(lines));
            var eval = Path.Combine(dir, "eval.jsonl");
            File.WriteAllText(eval, component == CorpusComponent.Ner
                ? "{\"text\": \"unrelated\", \"spans\": [{\"start\": 0, \"end\": 9, \"label\": \"PRODUCT\", \"answer\": \"accept\"}], \"_view_id\": \"ner\"}\n"
                : "{\"text\": \"unrelated\", \"label\": \"DOCUMENTATION\", \"answer\": \"accept\"}\n");
            var result = new CorpusBuilder(new CorpusBuilderTests.RecordingLog()).Build(new CorpusRequest
            {
                Datasets = [new DatasetInput(component, train), new DatasetInput(component, eval, IsEval: true)],
            });
            var expected = File.ReadAllBytes(Path.Combine(SharedData.Root, "spacy", "docbin", docbinCase + ".msgpack"));
            Assert.True(expected.AsSpan().SequenceEqual(DocBin.WritePayload(result.TrainDocs)), $"{docbinCase}: our conversion differs from spaCy's DocBin");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Binary NER (DocBin case 31, ner.teach lines 1-80): accepted spans are entities, every other token
    /// is missing, rejected spans are in incorrect_spans. The case keeps one doc per line where Prodigy
    /// merges lines of one input, and builds its docs from words (SENT_START on the first token), so
    /// the comparison is per input that occurs once, on words, entities and span groups.
    /// </summary>
    [Fact]
    public void BinaryNerMatchesTheDocBinGoldenCase()
    {
        var dir = Directory.CreateTempSubdirectory("prodigy-golden-").FullName;
        try
        {
            var lines = File.ReadLines(Dataset("reddit_product_ner/annotated_reddit-PRODUCT-ner.jsonl")).Take(80).ToList();
            var train = Path.Combine(dir, "train.jsonl");
            File.WriteAllLines(train, lines);
            var eval = Path.Combine(dir, "eval.jsonl");
            File.WriteAllText(eval, "{\"text\": \"unrelated\", \"spans\": [{\"start\": 0, \"end\": 9, \"label\": \"PRODUCT\", \"answer\": \"accept\"}], \"_view_id\": \"ner\"}\n");
            var ours = new CorpusBuilder(new CorpusBuilderTests.RecordingLog()).Build(new CorpusRequest
            {
                Datasets = [new DatasetInput(CorpusComponent.Ner, train), new DatasetInput(CorpusComponent.Ner, eval, IsEval: true)],
            }).TrainDocs.ToDictionary(d => d.Text);
            var theirs = DocBin.ReadPayload(File.ReadAllBytes(Path.Combine(SharedData.Root, "spacy", "docbin", "31-reddit-product-binary-ner.msgpack")));
            var once = theirs.GroupBy(d => d.Text).Where(g => g.Count() == 1).Select(g => g.Single()).ToList();
            Assert.True(once.Count > 60);
            foreach (var expected in once)
            {
                var actual = ours[expected.Text];
                Assert.Equal(expected.Words, actual.Words);
                Assert.Equal(SpacyEntities.ToIobTags(expected.Entities, expected.Length), SpacyEntities.ToIobTags(actual.Entities, actual.Length));
                Assert.Equal(expected.SpanGroups.Select(g => (g.Key, string.Join(",", g.Value.Spans))), actual.SpanGroups.Select(g => (g.Key, string.Join(",", g.Value.Spans))));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void AssertSamePayload(string corpus, string part, IReadOnlyList<SpacyDoc> docs)
    {
        var baselinePath = Path.Combine(SharedData.Root, "spacy", "baselines", "corpus", corpus, $"{part}.spacy");
        var expected = DocBin.Decompress(File.ReadAllBytes(baselinePath));
        var actual = DocBin.WritePayload(docs);
        if (expected.AsSpan().SequenceEqual(actual))
        {
            return;
        }

        var theirs = DocBin.ReadPayload(expected);
        var message = $"{corpus}/{part}: {docs.Count} docs vs spaCy's {theirs.Count}";
        for (var i = 0; i < Math.Min(docs.Count, theirs.Count); i++)
        {
            var a = docs[i];
            var b = theirs[i];
            if (!a.Words.SequenceEqual(b.Words) || !a.Spaces!.SequenceEqual(b.Spaces!) || !a.Norms.SequenceEqual(b.Norms)
                || !SpacyEntities.ToIobTags(a.Entities, a.Length).SequenceEqual(SpacyEntities.ToIobTags(b.Entities, b.Length))
                || !a.Cats.SequenceEqual(b.Cats))
            {
                message += $"\nfirst differing doc {i}: ours {string.Join(" ", a.Words.Select((w, t) => $"{w}/{SpacyEntities.ToIobTags(a.Entities, a.Length)[t]}"))} cats {string.Join(",", a.Cats)}" +
                           $"\n  spaCy's {string.Join(" ", b.Words.Select((w, t) => $"{w}/{SpacyEntities.ToIobTags(b.Entities, b.Length)[t]}"))} cats {string.Join(",", b.Cats)}";
                break;
            }
        }

        Assert.Fail(message);
    }
}
