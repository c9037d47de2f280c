using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Tokenization;

using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests;

/// <summary>
/// Every case spaCy 3.5.4 tokenized (../shared/spacy/tokenizers/&lt;lang&gt;.cases.jsonl and
/// .specials.jsonl) must give the same tokens, whitespace flags, offsets and norms.
/// </summary>
public class SpacyTokenizerGoldenTests
{
    public static TheoryData<string, string> CaseFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (var lang in TokenizerRules.BuiltInLanguages)
        {
            data.Add(lang, "cases");
            data.Add(lang, "specials");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseFiles))]
    public void BuiltInRulesMatchSpacy(string lang, string kind)
    {
        var tokenizer = Tokenizer.ForLanguage(lang);
        AssertFileMatches(tokenizer, Path.Combine(SharedData.Tokenizers, $"{lang}.{kind}.jsonl"));
    }

    [Theory]
    [InlineData("en")]
    [InlineData("fr")]
    [InlineData("nl")]
    public void SpacyTokenizerFileGivesTheSameTokensAsTheRulesJson(string lang)
    {
        var fromMsgPack = new Tokenizer(TokenizerRules.Load(Path.Combine(SharedData.Tokenizers, $"{lang}.tokenizer.msgpack")));
        var fromJson = TokenizerRules.BuiltIn(lang);
        Assert.Equal(fromJson.PrefixSearch, fromMsgPack.Rules.PrefixSearch);
        Assert.Equal(fromJson.SuffixSearch, fromMsgPack.Rules.SuffixSearch);
        Assert.Equal(fromJson.InfixFinditer, fromMsgPack.Rules.InfixFinditer);
        Assert.Equal(fromJson.TokenMatch, fromMsgPack.Rules.TokenMatch);
        Assert.Equal(fromJson.UrlMatch, fromMsgPack.Rules.UrlMatch);
        Assert.Equal(fromJson.FasterHeuristics, fromMsgPack.Rules.FasterHeuristics);
        Assert.Equal(fromJson.SpecialCases.Count, fromMsgPack.Rules.SpecialCases.Count);
        foreach (var (key, tokens) in fromJson.SpecialCases)
        {
            Assert.Equal(tokens, fromMsgPack.Rules.SpecialCases[key]);
        }

        AssertFileMatches(fromMsgPack, Path.Combine(SharedData.Tokenizers, $"{lang}.specials.jsonl"));
    }

    internal static void AssertFileMatches(Tokenizer tokenizer, string path)
    {
        var failures = new StringBuilder();
        var failed = 0;
        var total = 0;
        foreach (var (line, lineNumber) in File.ReadLines(path).Select((l, i) => (l, i + 1)))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            total++;
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var text = root.GetProperty("text").GetString()!;
            var expected = Describe(
                root.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray(),
                root.GetProperty("ws").EnumerateArray().Select(e => e.GetBoolean()).ToArray(),
                root.GetProperty("idx").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                root.GetProperty("norms").EnumerateArray().Select(e => e.GetString()!).ToArray());
            string actual;
            try
            {
                var tokens = tokenizer.Tokenize(text);
                actual = Describe(tokens.Select(t => t.Text).ToArray(), tokens.Select(t => t.Whitespace).ToArray(),
                    tokens.Select(t => t.Idx).ToArray(), tokens.Select(t => t.Norm).ToArray());
            }
            catch (Exception e)
            {
                actual = "threw " + e;
            }

            if (actual != expected)
            {
                failed++;
                if (failed <= 25)
                {
                    failures.AppendLine($"{Path.GetFileName(path)}:{lineNumber}: text {JsonSerializer.Serialize(text)}");
                    failures.AppendLine($"  spaCy: {expected}");
                    failures.AppendLine($"  ours:  {actual}");
                }
            }
        }

        Assert.True(total > 0, $"{path} has no cases");
        Assert.True(failed == 0, $"{failed} of {total} cases differ from spaCy:\n{failures}");
    }

    private static string Describe(string[] tokens, bool[] ws, int[] idx, string[] norms) =>
        string.Join(" ", tokens.Select((t, i) =>
            $"{JsonSerializer.Serialize(t)}@{idx[i]}{(ws[i] ? "+ws" : "")}" + (norms[i] != t ? $"(norm {JsonSerializer.Serialize(norms[i])})" : "")));
}
