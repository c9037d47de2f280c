using System.Text.Json;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Spacy;

/// <summary>A ground-truth case of <c>shared/spacy/docbin</c>: the spec JSON turned into SpacyDocs.</summary>
internal sealed class DocBinSpec
{
    public required string Name { get; init; }

    public required string Folder { get; init; }

    public required DocBinOptions Options { get; init; }

    public required IReadOnlyList<SpacyDoc> Docs { get; init; }

    public required JsonElement Json { get; init; }

    public string PathOf(string extension) => Path.Combine(Folder, Name + extension);

    /// <summary>Every <c>NN-*.json</c> spec in the shared folder (and a holdout folder, when present).</summary>
    public static IEnumerable<object[]> Cases()
    {
        var folders = new[]
        {
            Path.Combine(SharedData.Root, "spacy", "docbin"),
            Path.Combine(SharedData.Root, "spacy", "holdout", "docbin"),
            Path.Combine(SharedData.Root, "holdout", "docbin"),
        };
        var any = false;
        foreach (var folder in folders.Where(Directory.Exists))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (name.EndsWith(".decoded", StringComparison.Ordinal) || !char.IsAsciiDigit(name[0]))
                {
                    continue;
                }

                any = true;
                yield return [Path.GetRelativePath(SharedData.Root, file)];
            }
        }

        if (!any)
        {
            throw new InvalidOperationException("No DocBin cases found under " + folders[0]);
        }
    }

    public static DocBinSpec Load(string relativePath)
    {
        var path = Path.Combine(SharedData.Root, relativePath);
        var json = JsonDocument.Parse(File.ReadAllBytes(path)).RootElement.Clone();
        var docbin = json.GetProperty("docbin");
        var attrs = docbin.GetProperty("attrs");
        var options = new DocBinOptions
        {
            Attrs = attrs.ValueKind == JsonValueKind.String ? DocBinOptions.AllAttrs : [.. attrs.EnumerateArray().Select(Str)],
            StoreUserData = docbin.GetProperty("store_user_data").GetBoolean(),
        };
        var docs = json.GetProperty("docs").EnumerateArray().Select(BuildDoc).ToList();
        return new DocBinSpec
        {
            Name = Path.GetFileNameWithoutExtension(path),
            Folder = Path.GetDirectoryName(path)!,
            Options = options,
            Docs = docs,
            Json = json,
        };
    }

    public static string Str(JsonElement e) => JsonStrings.GetString(e);

    public static string[] Strings(JsonElement e) => [.. e.EnumerateArray().Select(Str)];

    public static bool Has(JsonElement doc, string name, out JsonElement value) =>
        doc.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static SpacyDoc BuildDoc(JsonElement d)
    {
        var words = Strings(d.GetProperty("words"));
        var spacesJson = d.GetProperty("spaces");
        bool[]? spaces = spacesJson.ValueKind == JsonValueKind.Null ? null : [.. spacesJson.EnumerateArray().Select(x => x.GetBoolean())];
        var doc = new SpacyDoc(words, spaces, Strings(d.GetProperty("norms")));
        var hasKb = Has(d, "ent_kb_ids", out var kbIds);
        var hasIds = Has(d, "ent_ids", out var entIds);
        if (Has(d, "ents", out var ents) || hasKb || hasIds)
        {
            var tags = ents.ValueKind == JsonValueKind.Array ? Strings(ents) : Enumerable.Repeat("-", words.Length).ToArray();
            var entities = SpacyEntities.FromIobTags(tags);
            for (var i = 0; i < entities.Length; i++)
            {
                entities[i] = entities[i] with
                {
                    KbId = hasKb ? Str(kbIds[i]) : "",
                    Id = hasIds ? Str(entIds[i]) : "",
                };
            }

            doc.Entities = entities;
        }

        if (Has(d, "tags", out var t)) doc.Tags = Strings(t);
        if (Has(d, "pos", out var p)) doc.Pos = Strings(p);
        if (Has(d, "morphs", out var m)) doc.Morphs = Strings(m);
        if (Has(d, "lemmas", out var l)) doc.Lemmas = Strings(l);
        if (Has(d, "deps", out var dp)) doc.Deps = Strings(dp);
        if (Has(d, "heads", out var h)) doc.Heads = [.. h.EnumerateArray().Select(x => x.GetInt32())];
        if (Has(d, "sent_starts", out var ss)) doc.SentStarts = [.. ss.EnumerateArray().Select(x => x.GetInt32())];
        if (Has(d, "cats", out var cats))
        {
            foreach (var cat in cats.EnumerateObject())
            {
                doc.Cats.Add(new KeyValuePair<string, object>(cat.Name, Value(cat.Value)!));
            }
        }

        if (Has(d, "spans", out var spans))
        {
            Has(d, "span_group_names", out var names);
            Has(d, "span_group_attrs", out var groupAttrs);
            foreach (var key in spans.EnumerateObject())
            {
                var name = names.ValueKind == JsonValueKind.Object && names.TryGetProperty(key.Name, out var n) ? Str(n) : key.Name;
                var group = new SpacySpanGroup(name, key.Value.EnumerateArray().Select(s => new SpacySpan(
                    s[0].GetInt32(),
                    s[1].GetInt32(),
                    Str(s[2]),
                    s.GetArrayLength() > 3 ? Str(s[3]) : "",
                    s.GetArrayLength() > 4 ? Str(s[4]) : "")));
                if (groupAttrs.ValueKind == JsonValueKind.Object && groupAttrs.TryGetProperty(key.Name, out var a))
                {
                    foreach (var attr in a.EnumerateObject())
                    {
                        group.Attrs.Add(new KeyValuePair<string, object?>(attr.Name, Value(attr.Value)));
                    }
                }

                doc.SpanGroups.Add(new KeyValuePair<string, SpacySpanGroup>(key.Name, group));
            }

            if (Has(d, "span_group_aliases", out var aliases))
            {
                foreach (var alias in aliases.EnumerateArray())
                {
                    var source = doc.SpanGroups.Single(g => g.Key == Str(alias[1])).Value;
                    doc.SpanGroups.Add(new KeyValuePair<string, SpacySpanGroup>(Str(alias[0]), source));
                }
            }
        }

        if (Has(d, "user_data", out var userData))
        {
            foreach (var pair in userData.EnumerateArray())
            {
                var key = pair[0].ValueKind == JsonValueKind.Array ? (object)pair[0].EnumerateArray().Select(Value).ToArray() : Value(pair[0])!;
                doc.UserData.Add(new KeyValuePair<object, object?>(key, Value(pair[1])));
            }
        }

        return doc;
    }

    /// <summary>A JSON value as the generator's Python value: 1 is an int, 1.0 a float, lists, dicts (order kept).</summary>
    public static object? Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => Str(e),
        JsonValueKind.Number => e.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0 ? (object)e.GetDouble() : e.GetInt64(),
        JsonValueKind.Array => e.EnumerateArray().Select(Value).ToList(),
        JsonValueKind.Object => e.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, Value(p.Value))).ToList(),
        _ => throw new InvalidDataException("Unexpected JSON " + e.ValueKind),
    };
}
