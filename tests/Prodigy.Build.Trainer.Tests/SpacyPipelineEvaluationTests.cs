using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Trainer.Inference;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// spaCy pipeline folders through the trainer's inference API and <c>evaluate</c>: the scores equal
/// what <c>spacy evaluate</c> wrote for the same pipeline and corpus (shared/spacy/pipelines/NAME/scores.json).
/// </summary>
public sealed class SpacyPipelineEvaluationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-spacy-eval-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Pipelines => Path.Combine(SharedData.Root, "spacy", "pipelines");

    public static TheoryData<string, string> PipelinesAndCorpora => new()
    {
        { "ner", "spacy/baselines/corpus/fashion_brands/dev.spacy" },
        { "spancat", "spacy/pipelines/spancat/corpus/dev.spacy" },
        { "textcat", "spacy/baselines/corpus/docs_issues_exclusive/dev.spacy" },
        { "textcat_multilabel", "spacy/baselines/corpus/docs_issues/dev.spacy" },
    };

    [Theory]
    [MemberData(nameof(PipelinesAndCorpora))]
    public void Evaluate_scores_a_spaCy_pipeline_as_spacy_evaluate_does(string name, string corpus)
    {
        var metrics = Path.Combine(_directory, "metrics.json");
        var output = new StringWriter();
        var exit = TrainerCommandLine.Run(
            ["evaluate", "--model", Path.Combine(Pipelines, name, "pipeline"), "--data", Path.Combine(SharedData.Root, corpus), "--metrics", metrics],
            output,
            CancellationToken.None);
        Assert.True(exit == 0, output.ToString());

        var ours = JsonNode.Parse(File.ReadAllText(metrics))!["scores"]!.AsObject();
        using var spacy = JsonDocument.Parse(File.ReadAllText(Path.Combine(Pipelines, name, "scores.json")));
        foreach (var score in spacy.RootElement.EnumerateObject().Where(s => s.Name != "speed"))
        {
            Assert.True(ours.ContainsKey(score.Name), $"{score.Name} missing from {ours.ToJsonString()}");
            AssertSameScore(score.Name, score.Value, ours[score.Name]);
        }
    }

    [Fact]
    public void Empty_documents_count_in_no_score_as_spaCys_Corpus_skips_them()
    {
        // The dev corpus plus empty documents labelled DOCUMENTATION: had they been scored (as an empty text
        // the model cannot call DOCUMENTATION), the macro F would move; spaCy's Corpus never yields them.
        var docs = Core.Spacy.DocBin.Read(Path.Combine(SharedData.Root, "spacy/baselines/corpus/docs_issues_exclusive/dev.spacy")).ToList();
        for (var i = 0; i < 20; i++)
        {
            var empty = new Core.Spacy.SpacyDoc([], [], []);
            empty.Cats.Add(new KeyValuePair<string, object>("DOCUMENTATION", 1.0));
            empty.Cats.Add(new KeyValuePair<string, object>("NOT_DOCUMENTATION", 0.0));
            docs.Insert(i * 7, empty);
        }

        var withEmpty = Path.Combine(_directory, "with-empty.spacy");
        Core.Spacy.DocBin.Write(withEmpty, docs);
        var metrics = Path.Combine(_directory, "metrics.json");
        var output = new StringWriter();
        var exit = TrainerCommandLine.Run(["evaluate", "--model", Path.Combine(Pipelines, "textcat", "pipeline"), "--data", withEmpty, "--metrics", metrics], output, CancellationToken.None);
        Assert.True(exit == 0, output.ToString());

        var ours = JsonNode.Parse(File.ReadAllText(metrics))!["scores"]!["cats_score"]!.GetValue<double>();
        using var spacy = JsonDocument.Parse(File.ReadAllText(Path.Combine(Pipelines, "textcat", "scores.json")));
        Assert.Equal(spacy.RootElement.GetProperty("cats_score").GetDouble(), ours, 9);
    }

    private static void AssertSameScore(string key, JsonElement expected, JsonNode? actual)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Number:
                // scores.json has ujson's 10 decimals.
                Assert.True(actual is not null, key);
                Assert.True(Math.Abs(expected.GetDouble() - actual!.GetValue<double>()) < 1e-9, $"{key}: spaCy {expected.GetDouble()}, ours {actual.GetValue<double>()}");
                break;
            case JsonValueKind.Object:
                foreach (var inner in expected.EnumerateObject())
                {
                    AssertSameScore($"{key}.{inner.Name}", inner.Value, actual?[inner.Name]);
                }

                break;
            case JsonValueKind.String:
                Assert.Equal(expected.GetString(), actual?.GetValue<string>());
                break;
            case JsonValueKind.Null:
                Assert.Null(actual);
                break;
        }
    }

    [Fact]
    public void A_spaCy_pipeline_answers_concurrent_calls_as_it_answers_one_at_a_time()
    {
        using var pipeline = TrainedPipeline.Load(Path.Combine(Pipelines, "ner", "pipeline"));
        Assert.NotNull(pipeline.SpacyPipeline);
        var texts = File.ReadLines(Path.Combine(Pipelines, "ner", "predictions.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!)
            .ToList();
        var sequential = texts.Select(t => Describe(pipeline.Process(t))).ToList();

        var concurrent = new string[texts.Count];
        Parallel.For(0, texts.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var described = Describe(pipeline.Process(texts[i % texts.Count]));
            Assert.Equal(sequential[i % texts.Count], described);
            concurrent[i % texts.Count] = described;
        });
        Assert.Equal(sequential, concurrent);
        Assert.Contains(sequential, s => s.Contains("FASHION_BRAND", StringComparison.Ordinal));
    }

    [Fact]
    public void Entities_of_a_spaCy_pipeline_equal_spaCys_with_character_offsets()
    {
        using var pipeline = TrainedPipeline.Load(Path.Combine(Pipelines, "ner", "pipeline"));
        foreach (var line in File.ReadLines(Path.Combine(Pipelines, "ner", "predictions.jsonl")))
        {
            var expected = JsonDocument.Parse(line).RootElement;
            var processed = pipeline.Process(expected.GetProperty("text").GetString()!);
            Assert.Equal(
                expected.GetProperty("ents").EnumerateArray().Select(e => (e[0].GetInt32(), e[1].GetInt32(), e[2].GetString())),
                processed.Entities.Select(e => (e.Start, e.End, (string?)e.Label)));
            Assert.Equal(expected.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()), processed.Tokens.Select(t => t.Text));
        }
    }

    private static string Describe(ProcessedText text) =>
        string.Join(";", text.Entities.Select(e => $"{e.Start}-{e.End}:{e.Label}"));
}
