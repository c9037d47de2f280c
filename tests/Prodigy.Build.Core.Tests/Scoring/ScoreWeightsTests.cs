using System.Text.Json;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Scoring;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Scoring;

public sealed class ScoreWeightsTests
{
    private static string Runs => Path.Combine(SharedData.Root, "spacy", "baselines", "runs");

    public static IEnumerable<object[]> BaselineRuns() =>
        Directory.EnumerateDirectories(Runs).Order(StringComparer.Ordinal).Select(d => new object[] { Path.GetFileName(d) });

    /// <summary>spaCy's training logs: every evaluation's main score is the weighted sum of its other scores.</summary>
    [Theory]
    [MemberData(nameof(BaselineRuns))]
    public void WeightedScore_IsTheScoreSpacysTrainingLogged(string run)
    {
        var config = SpacyConfigDocument.Load(Path.Combine(Runs, run, "model-best.config.cfg"));
        var weights = ScoreWeights.FromConfig(config);
        Assert.NotEmpty(weights.Weights);
        var evaluations = 0;
        foreach (var line in File.ReadLines(Path.Combine(Runs, run, "timing.jsonl")))
        {
            var record = JsonDocument.Parse(line).RootElement;
            if (record.GetProperty("event").GetString() != "eval")
            {
                continue;
            }

            var scores = record.GetProperty("other_scores").EnumerateObject().ToDictionary(p => p.Name, p => Value(p.Value));
            var step = record.GetProperty("step").GetInt32();
            Assert.True(
                record.GetProperty("score").GetDouble() == weights.WeightedScore(scores),
                $"{run}, step {step}: spaCy's score {record.GetProperty("score")}, ours {weights.WeightedScore(scores)}");
            evaluations++;
        }

        Assert.True(evaluations > 0, run + " has no evaluations");
    }

    [Fact]
    public void WeightedScore_ANoneScoreCountsZeroAndDropsItsWeightForLaterEvaluations()
    {
        var weights = new ScoreWeights([
            KeyValuePair.Create("ents_f", (double?)0.5),
            KeyValuePair.Create("ents_per_type", (double?)null),
            KeyValuePair.Create("cats_score", (double?)0.5),
        ]);
        Assert.Equal(["ents_f", "cats_score"], weights.Weights.Select(w => w.Key));

        var first = weights.WeightedScore(new Dictionary<string, object?> { ["ents_f"] = null, ["cats_score"] = 0.8 });
        Assert.Equal(0.8 * 0.5, first);
        Assert.Equal(["cats_score"], weights.Weights.Select(w => w.Key));

        var second = weights.WeightedScore(new Dictionary<string, object?> { ["ents_f"] = 0.9, ["cats_score"] = 0.6 });
        Assert.Equal(0.6 * 0.5, second);
    }

    [Fact]
    public void WeightedScore_RefusesAWeightedScoreThatIsNotANumber()
    {
        var weights = new ScoreWeights([KeyValuePair.Create("ents_per_type", (double?)1.0)]);
        var perType = new Dictionary<string, object?> { ["ents_per_type"] = new Dictionary<string, Prf> { ["ORG"] = new(1, 1, 1) } };
        Assert.Throws<ArgumentException>(() => weights.WeightedScore(perType));
    }

    private static object? Value(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Null => null,
        _ => element,
    };
}
