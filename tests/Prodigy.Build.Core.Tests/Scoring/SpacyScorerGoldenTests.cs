using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Prodigy.Build.Core.Scoring;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Tests.Scoring;

/// <summary>Every case of <c>shared/spacy/scorer</c>: our scorers must return what spaCy 3.5.4 returned.</summary>
public sealed class SpacyScorerGoldenTests
{
    private const double Tolerance = 1e-6;

    // The case files write float NaN as the string "NaN", as this option does.
    private static readonly JsonSerializerOptions AsCaseFiles = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static IEnumerable<object[]> Cases() => ScorerCase.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Score_MatchesSpacy(string casePath)
    {
        var scorerCase = ScorerCase.Load(casePath);
        if (scorerCase.Expected.TryGetProperty("error", out var error))
        {
            var thrown = Assert.ThrowsAny<ArgumentException>(() => Score(scorerCase));
            Assert.False(string.IsNullOrEmpty(thrown.Message), $"{scorerCase.Name}: spaCy raised {error}; we threw without a message");
            return;
        }

        var actual = JsonSerializer.SerializeToElement(Score(scorerCase), AsCaseFiles);
        var differences = new List<string>();
        Compare(scorerCase.Expected, actual, "", differences);
        Assert.True(differences.Count == 0, $"{scorerCase.Name}: {differences.Count} keys differ from spaCy:\n" + string.Join("\n", differences));
    }

    private static OrderedDictionary<string, object?> Score(ScorerCase scorerCase)
    {
        var options = scorerCase.Options;
        return scorerCase.Scorer switch
        {
            "ner" => SpacyScorer.ScoreNer(scorerCase.Examples).ToSpacyDictionary(),
            "score_spans" when Str(options, "attr") == "ents" =>
                SpacyScorer.ScoreEntitySpans(scorerCase.Examples, options.GetProperty("allow_overlap").GetBoolean()).ToSpacyDictionary(),
            "spancat" => SpancatScores(scorerCase.Examples, options).ToSpacyDictionary(),
            "textcat" or "textcat_multilabel" => SpacyScorer.ScoreCats(scorerCase.Examples, CatsOptions(options)).ToSpacyDictionary(),
            _ => throw new NotSupportedException($"{scorerCase.Name}: scorer '{scorerCase.Scorer}' with options {options}"),
        };
    }

    private static SpanScores SpancatScores(IReadOnlyList<(ScoreDoc Pred, ScoreDoc Gold)> examples, JsonElement options)
    {
        var key = Str(options, "spans_key")!;
        // The spancat scorer always allows overlap and names its keys after the span key.
        Assert.True(options.GetProperty("allow_overlap").GetBoolean());
        Assert.Equal("spans_" + key, Str(options, "attr"));
        return SpacyScorer.ScoreSpancat(examples, key);
    }

    private static CatsScoringOptions CatsOptions(JsonElement options) => new()
    {
        Labels = [.. options.GetProperty("labels").EnumerateArray().Select(JsonStrings.GetString)],
        MultiLabel = options.GetProperty("multi_label").GetBoolean(),
        PositiveLabel = Str(options, "positive_label"),
        Threshold = options.GetProperty("threshold") is { ValueKind: JsonValueKind.Number } threshold ? threshold.GetDouble() : null,
    };

    private static string? Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? JsonStrings.GetString(value) : null;

    /// <summary>Collects every key path where <paramref name="actual"/> differs; maps are compared as maps (spaCy's per-type order is hash order).</summary>
    private static void Compare(JsonElement expected, JsonElement actual, string path, List<string> differences)
    {
        if (expected.ValueKind == JsonValueKind.Object && actual.ValueKind == JsonValueKind.Object)
        {
            var actualKeys = actual.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var property in expected.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : path + "." + property.Name;
                if (actual.TryGetProperty(property.Name, out var actualValue))
                {
                    Compare(property.Value, actualValue, childPath, differences);
                }
                else
                {
                    differences.Add($"{childPath}: missing (spaCy: {property.Value.GetRawText()})");
                }

                actualKeys.Remove(property.Name);
            }

            differences.AddRange(actualKeys.Select(k => $"{(path.Length == 0 ? k : path + "." + k)}: not in spaCy's result"));
            return;
        }

        var same = (expected.ValueKind, actual.ValueKind) switch
        {
            (JsonValueKind.Number, JsonValueKind.Number) => Math.Abs(expected.GetDouble() - actual.GetDouble()) <= Tolerance,
            (JsonValueKind.String, JsonValueKind.String) => expected.GetString() == actual.GetString(),
            (JsonValueKind.Null, JsonValueKind.Null) => true,
            _ => false,
        };
        if (!same)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: spaCy {expected.GetRawText()}, ours {actual.GetRawText()}"));
        }
    }
}
