using System.Text;
using Prodigy.Build.Core.Tokenization;

using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests;

/// <summary>Loading rules: built-in, rules JSON, a spaCy pipeline's tokenizer file or directory; errors.</summary>
public class TokenizerRulesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-rules-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PipelineDirectoryBringsItsTokenizerFile()
    {
        var pipeline = Directory.CreateDirectory(Path.Combine(_dir, "my_pipeline")).FullName;
        File.Copy(Path.Combine(SharedData.Tokenizers, "de.tokenizer.msgpack"), Path.Combine(pipeline, "tokenizer"));
        var rules = TokenizerRules.Load(pipeline);
        var tokens = new Tokenizer(rules).Tokenize("Wir gehen zum Bahnhof.");
        Assert.Equal(["Wir", "gehen", "zum", "Bahnhof", "."], tokens.Select(t => t.Text));
        Assert.Equal(417, rules.SpecialCases.Count);
    }

    [Theory]
    [InlineData("en")]
    [InlineData("de")]
    public void RulesWrittenAsJsonReadBackToTheSameRulesAndTokens(string language)
    {
        var fromSpacy = TokenizerRules.Load(Path.Combine(SharedData.Tokenizers, $"{language}.tokenizer.msgpack"));
        using var json = new MemoryStream();

        fromSpacy.WriteJson(json);
        json.Position = 0;
        var readBack = TokenizerRules.FromJson(json, "written");

        Assert.Equal(
            (fromSpacy.PrefixSearch, fromSpacy.SuffixSearch, fromSpacy.InfixFinditer, fromSpacy.TokenMatch, fromSpacy.UrlMatch, fromSpacy.FasterHeuristics),
            (readBack.PrefixSearch, readBack.SuffixSearch, readBack.InfixFinditer, readBack.TokenMatch, readBack.UrlMatch, readBack.FasterHeuristics));
        Assert.Equal(fromSpacy.SpecialCases.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, string.Join("|", c.Value))),
            readBack.SpecialCases.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, string.Join("|", c.Value))));
        var texts = File.ReadLines(Path.Combine(SharedData.Tokenizers, $"{language}.cases.jsonl")).Take(400)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToList();
        var expected = new Tokenizer(fromSpacy);
        var actual = new Tokenizer(readBack);
        Assert.All(texts, text => Assert.Equal(expected.Tokenize(text).Select(t => (t.Text, t.Norm)), actual.Tokenize(text).Select(t => (t.Text, t.Norm))));
    }

    [Fact]
    public void CustomRulesJsonIsHonoured()
    {
        var path = Path.Combine(_dir, "custom.rules.json");
        File.WriteAllText(path, """
            {"prefix_search": "^\\$", "suffix_search": "!$", "infix_finditer": "~", "token_match": null, "url_match": null,
             "faster_heuristics": true, "special_cases": {"gonna": [{"ORTH": "gon", "NORM": "going"}, {"ORTH": "na", "NORM": "to"}]}}
            """);
        var tokens = new Tokenizer(TokenizerRules.Load(path)).Tokenize("$5! a~b gonna");
        Assert.Equal(["$", "5", "!", "a", "~", "b", "gon", "na"], tokens.Select(t => t.Text));
        Assert.Equal(["$", "5", "!", "a", "~", "b", "going", "to"], tokens.Select(t => t.Norm));
    }

    [Fact]
    public void SpecialCaseThatDoesNotSpellItsKeyIsRejected()
    {
        var path = Path.Combine(_dir, "bad.rules.json");
        File.WriteAllText(path, """{"special_cases": {"can't": [{"ORTH": "ca"}, {"ORTH": "not"}]}}""");
        var error = Assert.Throws<TokenizerRulesException>(() => TokenizerRules.Load(path));
        Assert.Contains("can't", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void BadPatternNamesTheRuleAndPosition()
    {
        var path = Path.Combine(_dir, "badpattern.rules.json");
        File.WriteAllText(path, """{"prefix_search": "^(a", "special_cases": {}}""");
        var error = Assert.Throws<TokenizerRulesException>(() => new Tokenizer(TokenizerRules.Load(path)));
        Assert.Contains("prefix_search", error.Message);
        Assert.Contains("position", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x93, 0x01 })]          // truncated array
    [InlineData(new byte[] { 0xC1 })]                // reserved type byte
    [InlineData(new byte[] { 0x81, 0xA1, 0x61 })]    // map with a key and no value
    public void CorruptTokenizerFileIsAClearError(byte[] data)
    {
        var path = Path.Combine(_dir, "tokenizer");
        File.WriteAllBytes(path, data);
        var error = Assert.Throws<TokenizerRulesException>(() => TokenizerRules.Load(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void MissingFilesAndLanguagesAreClearErrors()
    {
        Assert.Contains("not found", Assert.Throws<TokenizerRulesException>(() => TokenizerRules.Load(Path.Combine(_dir, "nope.json"))).Message);
        Assert.Contains("no 'tokenizer' file", Assert.Throws<TokenizerRulesException>(() => TokenizerRules.Load(_dir)).Message);
        Assert.Contains("Built-in languages", Assert.Throws<TokenizerRulesException>(() => TokenizerRules.BuiltIn("zz")).Message);
        File.WriteAllText(Path.Combine(_dir, "broken.json"), "{\"prefix_search\": ");
        Assert.Contains("invalid JSON", Assert.Throws<TokenizerRulesException>(() => TokenizerRules.Load(Path.Combine(_dir, "broken.json"))).Message);
    }

    [Fact]
    public void BuiltInRulesCarryTheirLicenceNotice()
    {
        var notice = Path.Combine(AppContext.BaseDirectory, "THIRD-PARTY-NOTICES.md");
        Assert.True(File.Exists(notice), "THIRD-PARTY-NOTICES.md must ship beside the core library");
        Assert.Contains("ExplosionAI GmbH", File.ReadAllText(notice, Encoding.UTF8));
    }
}
