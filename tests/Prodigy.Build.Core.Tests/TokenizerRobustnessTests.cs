using System.Diagnostics;
using System.Text;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Core.Tokenization;
using Xunit.Abstractions;

using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests;

/// <summary>Any input is safe: the tokenizer never throws, and its tokens always rebuild the text.</summary>
public class TokenizerRobustnessTests(ITestOutputHelper output)
{
    /// <summary>Tokens, each followed by one space where <c>ws</c> is set, rebuild the text; offsets agree.</summary>
    internal static void AssertConsistent(string text, IReadOnlyList<Token> tokens)
    {
        var rebuilt = new StringBuilder();
        foreach (var token in tokens)
        {
            Assert.Equal(rebuilt.Length, token.Start);
            Assert.Equal(PythonText.CodePointCount(text.AsSpan(0, token.Start)), token.Idx);
            Assert.NotEmpty(token.Text);
            Assert.NotNull(token.Norm);
            rebuilt.Append(token.Text);
            if (token.Whitespace)
            {
                rebuilt.Append(' ');
            }
        }

        Assert.Equal(text, rebuilt.ToString());
    }

    public static TheoryData<string> Languages() => new(TokenizerRules.BuiltInLanguages);

    [Theory]
    [MemberData(nameof(Languages))]
    public void EdgeCaseInputs(string lang)
    {
        var tokenizer = Tokenizer.ForLanguage(lang);
        Assert.Empty(tokenizer.Tokenize(""));
        string[] inputs =
        [
            " ", "   ", "\t\n\r\u000B\f\u001C\u001D\u001E\u001F\u0085\u00A0\u1680\u2000\u2028\u2029\u202F\u205F\u3000",
            "\uD800", "\uDC00", "a\uD800b", "\uDC00\uD800", "x\uD83D", "\uDE00x", "😀\uD83D", "(\uD800)",
            "\0\u0001\u0002\u007F", "a\u0000b c\u0007d", "\uFEFF\u200B\u200D", "\u0301\u0301", "İΣ ΟΔΟΣ",
            new string('(', 2000), new string(')', 2000), new string('.', 5000), new string('-', 3000),
            string.Concat(Enumerable.Repeat("😀", 2000)), string.Concat(Enumerable.Repeat("a-", 3000)),
        ];
        foreach (var text in inputs)
        {
            AssertConsistent(text, tokenizer.Tokenize(text));
        }
    }

    [Fact]
    public void OneMegabyteWithoutASpace()
    {
        var random = new Random(1234);
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?-'\"()[]{}/@#$%&*+=<>_~éüßñ😀";
        var builder = new StringBuilder(1 << 20);
        while (builder.Length < 1 << 20)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }

        var text = builder.ToString();
        if (char.IsHighSurrogate(text[^1]))
        {
            text = text[..^1];
        }

        foreach (var lang in new[] { "en", "fr" })
        {
            var stopwatch = Stopwatch.StartNew();
            var tokens = Tokenizer.ForLanguage(lang).Tokenize(text);
            output.WriteLine($"{lang}: {tokens.Count} tokens from 1 MB without a space in {stopwatch.ElapsedMilliseconds} ms");
            AssertConsistent(text, tokens);
        }

        var letters = new string('a', 1 << 20);
        AssertConsistent(letters, Tokenizer.ForLanguage("en").Tokenize(letters));
    }

    /// <summary>
    /// Random texts from characters that stress every rule (affixes, infixes, special-case keys,
    /// whitespace of every kind, astral characters, lone surrogates, controls), for a bounded time.
    /// Every 50th text is tokenized again by a cold tokenizer (a new one, its cache emptied before
    /// each such text), which must agree with the warm one. The seed is printed on failure.
    /// </summary>
    [Fact]
    public void FuzzForABoundedTime()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PRODIGY_FUZZ_SEED"), out var s) ? s : Environment.TickCount;
        var budget = TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("PRODIGY_FUZZ_SECONDS"), out var secs) ? secs : 8);
        var random = new Random(seed);
        string[] fragments =
        [
            "a", "Z", "é", "ß", "İ", "Σ", "ς", "1", "42", "3.14", "'", "’", "\"", "«", "»", "(", ")", "[", "]", ".", "..", "…", ",", ";", ":",
            "!", "?", "-", "–", "—", "/", "\\", "@", "#", "$", "€", "%", "&", "*", "+", "=", "<", ">", "_", "~", "^", "`", "|",
            " ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u202F", "\u3000", "\u001C", "\u0085", "\u2028",
            "😀", "🙏🏽", "𝐀", "𝟎", "\uD800", "\uDC00", "\u0000", "\u0007", "\u0301", "\u200B", "\uFEFF",
            "can't", "don't", "U.S.", "e.g.", ":)", ":-)", "<3", "l'", "d'", "qu'", "-t-il", "aujourd'hui", "zum", "del", "'s",
            "http://example.com/a?b=c", "user@example.org", "www.spacy.io", "EE. UU.", "km", "kg", "5km", "$5", "US$", "10%",
            "porte-monnaie", "PORTE-MONNAIE", "dá-me", "R$", "'90", "°C", "Dr.", "Mr.", "Jan.", "etc.", "a.m.",
        ];
        var stopwatch = Stopwatch.StartNew();
        var cases = 0;
        var warm = TokenizerRules.BuiltInLanguages.ToDictionary(l => l, Tokenizer.ForLanguage);
        var cold = TokenizerRules.BuiltInLanguages.ToDictionary(l => l, l => new Tokenizer(TokenizerRules.BuiltIn(l)));
        var coldChecks = 0;
        while (stopwatch.Elapsed < budget)
        {
            var builder = new StringBuilder();
            var pieces = random.Next(1, 40);
            for (var i = 0; i < pieces; i++)
            {
                builder.Append(fragments[random.Next(fragments.Length)]);
            }

            var text = builder.ToString();
            var lang = TokenizerRules.BuiltInLanguages[random.Next(TokenizerRules.BuiltInLanguages.Count)];
            try
            {
                var tokens = warm[lang].Tokenize(text);
                AssertConsistent(text, tokens);
                if (cases % 50 == 0)
                {
                    // Same answer again from the warm tokenizer, after its cache has seen the text, and
                    // from a cold one that computes every piece afresh.
                    Assert.Equal(tokens, warm[lang].Tokenize(text));
                    cold[lang].ClearCache();
                    Assert.Equal(tokens, cold[lang].Tokenize(text));
                    coldChecks++;
                }
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed}, case {cases}, lang {lang}, text {System.Text.Json.JsonSerializer.Serialize(text)}: {e}");
            }

            cases++;
        }

        output.WriteLine($"fuzz: {cases} texts in {stopwatch.Elapsed.TotalSeconds:F1} s (seed {seed})");
        Assert.True(cases > 100, $"only {cases} fuzz cases ran (seed {seed})");
        Assert.True(coldChecks > 2, $"only {coldChecks} cold comparisons ran (seed {seed})");
    }

    [Fact]
    public void ColdAndWarmTokenizersAgree()
    {
        var text = File.ReadLines(Path.Combine(SharedData.Tokenizers, "en.cases.jsonl")).Take(400)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()).ToList();
        var warm = Tokenizer.ForLanguage("en");
        foreach (var t in text)
        {
            warm.Tokenize(t!);
        }

        var cold = new Tokenizer(TokenizerRules.BuiltIn("en"));
        foreach (var t in text)
        {
            Assert.Equal(cold.Tokenize(t!), warm.Tokenize(t!));
        }
    }

    [Fact]
    public void ConcurrentUseGivesTheSameTokens()
    {
        var tokenizer = new Tokenizer(TokenizerRules.BuiltIn("en"));
        var texts = Enumerable.Range(0, 2000).Select(i => $"Item {i}: can't stop (won't stop) at http://x{i % 37}.com/{i}, e.g. {i}km!").ToArray();
        var expected = texts.Select(t => new Tokenizer(TokenizerRules.BuiltIn("en")).Tokenize(t)).Take(20).ToArray();
        Parallel.For(0, texts.Length, i =>
        {
            var tokens = tokenizer.Tokenize(texts[i]);
            AssertConsistent(texts[i], tokens);
            if (i < expected.Length)
            {
                Assert.Equal(expected[i], tokens);
            }
        });
    }
}
