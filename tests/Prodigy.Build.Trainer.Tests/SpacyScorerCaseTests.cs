using System.Text.Json;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Trainer.Scoring;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>Every case of ../shared/spacy/scorer: spaCy 3.5.4's own results, matched to 1e-6 (numbers), exactly (nulls, descriptions).</summary>
public sealed class SpacyScorerCaseTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(ScorerDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    private static string ScorerDirectory => Path.Combine(SharedData.Root, "spacy", "scorer");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_spacy(string name)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(ScorerDirectory, name + ".json")));
        var root = json.RootElement;
        var scorer = root.GetProperty("scorer").GetString();
        var options = root.GetProperty("options");
        var gold = root.GetProperty("gold").EnumerateArray().Select(ReadDoc).ToList();
        var pred = root.GetProperty("pred").EnumerateArray().Select(ReadDoc).ToList();
        var pairs = pred.Zip(gold).ToList();
        var expected = root.GetProperty("expected");
        if (expected.TryGetProperty("error", out _))
        {
            Assert.ThrowsAny<InvalidOperationException>(() => Score(scorer!, options, pairs));
            return;
        }

        var actual = Score(scorer!, options, pairs);
        var differences = new List<string>();
        foreach (var property in expected.EnumerateObject())
        {
            Compare(property.Name, property.Value, actual, differences);
        }

        Assert.True(differences.Count == 0, $"{name}:\n" + string.Join("\n", differences));
    }

    private static ScoreSet Score(string scorer, JsonElement options, List<(ScoredDoc Pred, ScoredDoc Gold)> pairs) => scorer switch
    {
        "ner" => SpacyScorer.Ner(pairs),
        "score_spans" => SpacyScorer.Spans(pairs.Select(p => (AsSpans(p.Pred), AsSpans(p.Gold))), "ents", attr: "ents"),
        "spancat" => SpacyScorer.Spans(pairs, options.GetProperty("spans_key").GetString()!),
        "textcat" or "textcat_multilabel" => SpacyScorer.Cats(
            pairs,
            options.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList(),
            options.GetProperty("multi_label").GetBoolean(),
            options.TryGetProperty("positive_label", out var positive) && positive.ValueKind == JsonValueKind.String ? positive.GetString() : null,
            options.TryGetProperty("threshold", out var threshold) && threshold.ValueKind == JsonValueKind.Number ? threshold.GetDouble() : null),
        _ => throw new InvalidOperationException("unknown scorer " + scorer),
    };

    // score_spans on doc.ents: the entities as a span group, without the missing-token rule.
    private static ScoredDoc AsSpans(ScoredDoc doc) => new()
    {
        Length = doc.Length,
        Spans = new Dictionary<string, IReadOnlyList<(string, int, int)>> { ["ents"] = doc.Entities ?? [] },
    };

    private static ScoredDoc ReadDoc(JsonElement doc)
    {
        var wordList = doc.GetProperty("words").EnumerateArray().Select(w => w.GetString()!).ToList();
        var words = wordList.Count;
        List<(string, int, int)>? entities = null;
        bool[]? missing = null;
        if (doc.TryGetProperty("ents", out var ents))
        {
            entities = [];
            missing = new bool[words];
            var tags = ents.EnumerateArray().Select(e => e.GetString()!).ToList();
            var start = -1;
            var label = "";
            for (var i = 0; i <= tags.Count; i++)
            {
                var tag = i < tags.Count ? tags[i] : "O";
                if (start >= 0 && !tag.StartsWith("I-", StringComparison.Ordinal))
                {
                    entities.Add((label, start, i));
                    start = -1;
                }

                if (i == tags.Count)
                {
                    break;
                }

                missing[i] = tag == "-";
                if (tag.StartsWith("B-", StringComparison.Ordinal))
                {
                    start = i;
                    label = tag[2..];
                }
            }

            // A doc whose tokens are all missing has no entity annotation.
            if (words > 0 && missing.All(m => m))
            {
                entities = null;
            }
        }

        var cats = doc.TryGetProperty("cats", out var catsElement)
            ? catsElement.EnumerateObject().Select(c => new KeyValuePair<string, double>(c.Name, c.Value.GetDouble())).ToList()
            : [];
        var spans = new Dictionary<string, IReadOnlyList<(string, int, int)>>(StringComparer.Ordinal);
        if (doc.TryGetProperty("spans", out var spansElement))
        {
            foreach (var group in spansElement.EnumerateObject())
            {
                spans[group.Name] = group.Value.EnumerateArray().Select(s => (s[2].GetString()!, s[0].GetInt32(), s[1].GetInt32())).ToList();
            }
        }

        return new ScoredDoc { Length = words, Words = wordList, Entities = entities, EntityMissing = missing, Cats = cats, Spans = spans };
    }

    private static void Compare(string key, JsonElement expected, ScoreSet actual, List<string> differences)
    {
        if (key.EndsWith("_desc", StringComparison.Ordinal))
        {
            var value = actual.Descriptions.GetValueOrDefault(key);
            if (value != (expected.ValueKind == JsonValueKind.Null ? null : expected.GetString()))
            {
                differences.Add($"{key}: expected {expected}, got {value ?? "null"}");
            }

            return;
        }

        if (key.EndsWith("_auc_per_type", StringComparison.Ordinal))
        {
            var table = actual.AucPerType.GetValueOrDefault(key);
            foreach (var label in expected.EnumerateObject())
            {
                var got = table?.GetValueOrDefault(label.Name);
                Number($"{key}[{label.Name}]", label.Value, got, differences);
            }

            return;
        }

        if (key.EndsWith("_per_type", StringComparison.Ordinal))
        {
            var table = actual.PerType.GetValueOrDefault(key);
            if (expected.ValueKind == JsonValueKind.Null)
            {
                if (table is not null)
                {
                    differences.Add($"{key}: expected null, got {table.Count} labels");
                }

                return;
            }

            if (table is null)
            {
                differences.Add($"{key}: expected a table, got null");
                return;
            }

            var labels = expected.EnumerateObject().Select(p => p.Name).ToHashSet();
            if (!labels.SetEquals(table.Keys))
            {
                differences.Add($"{key}: labels {string.Join(",", labels.Order())} vs {string.Join(",", table.Keys.Order())}");
            }

            foreach (var label in expected.EnumerateObject())
            {
                if (table.TryGetValue(label.Name, out var prf))
                {
                    Number($"{key}[{label.Name}].p", label.Value.GetProperty("p"), prf.P, differences);
                    Number($"{key}[{label.Name}].r", label.Value.GetProperty("r"), prf.R, differences);
                    Number($"{key}[{label.Name}].f", label.Value.GetProperty("f"), prf.F, differences);
                }
            }

            return;
        }

        Number(key, expected, actual.Values.TryGetValue(key, out var v) ? v : double.NegativeInfinity, differences);
    }

    private static void Number(string key, JsonElement expected, double? actual, List<string> differences)
    {
        if (expected.ValueKind == JsonValueKind.Null)
        {
            if (actual is not null)
            {
                differences.Add($"{key}: expected null, got {actual}");
            }

            return;
        }

        var value = expected.ValueKind == JsonValueKind.String && expected.GetString() == "NaN" ? double.NaN : expected.GetDouble();
        if (actual is not { } got || (double.IsNaN(value) ? !double.IsNaN(got) : Math.Abs(got - value) > 1e-6))
        {
            differences.Add($"{key}: expected {value:R}, got {(actual is { } a ? a.ToString("R") : "null")}");
        }
    }
}
