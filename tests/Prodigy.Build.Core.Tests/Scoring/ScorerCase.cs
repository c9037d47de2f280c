using System.Text.Json;
using Prodigy.Build.Core.Scoring;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Scoring;

/// <summary>A ground-truth case of <c>shared/spacy/scorer</c>: the docs as ScoreDocs, the options, and spaCy's result.</summary>
internal sealed class ScorerCase
{
    public required string Name { get; init; }

    public required string Scorer { get; init; }

    public required JsonElement Options { get; init; }

    public required IReadOnlyList<(ScoreDoc Pred, ScoreDoc Gold)> Examples { get; init; }

    public required JsonElement Expected { get; init; }

    /// <summary>Every <c>NN-*.json</c> case in the shared folder, and in a holdout folder when present.</summary>
    public static IEnumerable<object[]> Cases()
    {
        string[] folders = [Path.Combine("spacy", "scorer"), Path.Combine("spacy", "holdout", "scorer"), Path.Combine("holdout", "scorer")];
        var cases = folders
            .Select(folder => Path.Combine(SharedData.Root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
            .Where(file => char.IsAsciiDigit(Path.GetFileName(file)[0]))
            .Select(file => new object[] { Path.GetRelativePath(SharedData.Root, file) })
            .ToList();
        return cases.Count > 0 ? cases : throw new InvalidOperationException("No scorer cases found under " + Path.Combine(SharedData.Root, folders[0]));
    }

    public static ScorerCase Load(string relativePath)
    {
        var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SharedData.Root, relativePath))).RootElement.Clone();
        var gold = json.GetProperty("gold").EnumerateArray().Select(BuildDoc).ToList();
        var pred = json.GetProperty("pred").EnumerateArray().Select(BuildDoc).ToList();
        Assert.Equal(gold.Count, pred.Count);
        return new ScorerCase
        {
            Name = JsonStrings.GetString(json.GetProperty("case")),
            Scorer = JsonStrings.GetString(json.GetProperty("scorer")),
            Options = json.GetProperty("options"),
            Examples = [.. pred.Zip(gold)],
            Expected = json.GetProperty("expected"),
        };
    }

    /// <summary>Builds the doc as a DocBin would hold it, then converts it, so the conversion is tested as well.</summary>
    private static ScoreDoc BuildDoc(JsonElement d)
    {
        var words = d.GetProperty("words").EnumerateArray().Select(JsonStrings.GetString).ToArray();
        var spacesJson = d.GetProperty("spaces");
        bool[]? spaces = spacesJson.ValueKind == JsonValueKind.Null ? null : [.. spacesJson.EnumerateArray().Select(s => s.GetBoolean())];
        var doc = new SpacyDoc(words, spaces, words);
        if (d.TryGetProperty("ents", out var ents))
        {
            doc.Entities = SpacyEntities.FromIobTags([.. ents.EnumerateArray().Select(JsonStrings.GetString)]);
        }

        if (d.TryGetProperty("cats", out var cats))
        {
            foreach (var cat in cats.EnumerateObject())
            {
                doc.Cats.Add(KeyValuePair.Create(cat.Name, (object)cat.Value.GetDouble()));
            }
        }

        if (d.TryGetProperty("spans", out var spans))
        {
            foreach (var group in spans.EnumerateObject())
            {
                var groupSpans = group.Value.EnumerateArray().Select(s => new SpacySpan(s[0].GetInt32(), s[1].GetInt32(), JsonStrings.GetString(s[2])));
                doc.SpanGroups.Add(KeyValuePair.Create(group.Name, new SpacySpanGroup(group.Name, groupSpans)));
            }
        }

        return ScoreDoc.FromSpacyDoc(doc);
    }
}
