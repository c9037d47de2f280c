using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Benchmarks;

/// <summary>
/// Tokenizer throughput, single thread: a language's case texts (../shared/spacy/tokenizers) repeated
/// to about <c>mb</c> MB of UTF-8, tokenized text by text. The first pass starts from a fresh
/// tokenizer (empty chunk cache, regexes just compiled); the timed passes run on the warm tokenizer,
/// as spaCy's does after its first texts. Reports the median pass.
/// </summary>
internal static class TokenizerBenchmark
{
    public static void Run(string shared, double megabytes, int passes, IEnumerable<string> languages)
    {
        Console.WriteLine($"# Tokenizer benchmark ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores, single thread)");
        Console.WriteLine();
        Console.WriteLine("| lang | texts | MB | tokens | build ms | first pass tokens/s | cache cleared tokens/s | tokens/s (median) | MB/s (median) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var lang in languages)
        {
            var texts = LoadTexts(shared, lang, megabytes, out var bytes);
            var build = Stopwatch.StartNew();
            var tokenizer = new Tokenizer(TokenizerRules.BuiltIn(lang));
            var buildMs = build.Elapsed.TotalMilliseconds;

            var tokens = new List<Token>(1 << 16);
            var first = TimePass(tokenizer, texts, tokens, out var tokenCount);
            tokenizer.ClearCache();
            var uncached = TimePass(tokenizer, texts, tokens, out _);
            var rates = new List<double>();
            for (var i = 0; i < passes; i++)
            {
                rates.Add(TimePass(tokenizer, texts, tokens, out _).TotalSeconds);
            }

            rates.Sort();
            var median = rates[rates.Count / 2];
            Console.WriteLine(
                $"| {lang} | {texts.Count:N0} | {bytes / 1e6:F2} | {tokenCount:N0} | {buildMs:F0} | {tokenCount / first.TotalSeconds:N0} | {tokenCount / uncached.TotalSeconds:N0} | {tokenCount / median:N0} | {bytes / 1e6 / median:F2} |");
        }
    }

    private static TimeSpan TimePass(Tokenizer tokenizer, List<string> texts, List<Token> tokens, out long tokenCount)
    {
        tokenCount = 0;
        var stopwatch = Stopwatch.StartNew();
        foreach (var text in texts)
        {
            tokens.Clear();
            tokenizer.Tokenize(text, tokens);
            tokenCount += tokens.Count;
        }

        return stopwatch.Elapsed;
    }

    private static List<string> LoadTexts(string shared, string lang, double megabytes, out long bytes)
    {
        var directory = Path.Combine(shared, "spacy", "tokenizers");
        var source = new List<string>();
        foreach (var file in new[] { $"{lang}.cases.jsonl", $"{lang}.specials.jsonl" })
        {
            // English has 9,200 real and hand-written texts; the other languages add their special-case lines.
            if (lang == "en" && file.Contains("specials", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var line in File.ReadLines(Path.Combine(directory, file)))
            {
                using var document = JsonDocument.Parse(line);
                var text = document.RootElement.GetProperty("text").GetString()!;
                if (text.Length > 0)
                {
                    source.Add(text);
                }
            }
        }

        var texts = new List<string>();
        bytes = 0;
        var target = (long)(megabytes * 1e6);
        while (bytes < target)
        {
            foreach (var text in source)
            {
                texts.Add(text);
                bytes += Encoding.UTF8.GetByteCount(text);
                if (bytes >= target)
                {
                    break;
                }
            }
        }

        return texts;
    }
}
