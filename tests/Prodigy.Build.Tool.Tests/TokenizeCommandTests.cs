using System.Text.Json;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Tool;

namespace Prodigy.Build.Tool.Tests;

/// <summary><c>prodigy-build tokenize</c>, run in-process as the console would run it.</summary>
public class TokenizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> Run(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CommandLine.RunAsync(args, new StringReader(stdin), stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("en")]
    [InlineData("fr")]
    [InlineData("xx")]
    public async Task OutputEqualsSpacysTokenizationLineByLine(string lang)
    {
        var lines = File.ReadLines(Path.Combine(SharedData.Tokenizers, $"{lang}.cases.jsonl")).Take(300).ToList();
        var input = string.Join("\n", lines.Select(l => JsonSerializer.Serialize(new { text = JsonDocument.Parse(l).RootElement.GetProperty("text").GetString() })));
        var (code, stdout, stderr) = await Run(input, "tokenize", "--lang", lang);
        Assert.True(code == 0, stderr);
        var outputLines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Count, outputLines.Length);
        for (var i = 0; i < lines.Count; i++)
        {
            using var expected = JsonDocument.Parse(lines[i]);
            using var actual = JsonDocument.Parse(outputLines[i]);
            foreach (var key in new[] { "text", "tokens", "ws", "idx", "norms" })
            {
                Assert.True(
                    expected.RootElement.GetProperty(key).GetRawText() == actual.RootElement.GetProperty(key).GetRawText()
                    || JsonSerializer.Serialize(expected.RootElement.GetProperty(key)) == JsonSerializer.Serialize(actual.RootElement.GetProperty(key)),
                    $"line {i + 1}, {key}:\n spaCy: {expected.RootElement.GetProperty(key).GetRawText()}\n ours:  {actual.RootElement.GetProperty(key).GetRawText()}");
            }
        }
    }

    [Fact]
    public async Task RulesFromASpacyTokenizerFile()
    {
        var (code, stdout, stderr) = await Run("{\"text\": \"Wir gehen zum Bahnhof.\"}\n", "tokenize", "--rules", Path.Combine(SharedData.Tokenizers, "de.tokenizer.msgpack"));
        Assert.True(code == 0, stderr);
        Assert.Contains("\"tokens\": [\"Wir\", \"gehen\", \"zum\", \"Bahnhof\", \".\"]", stdout);
    }

    [Fact]
    public async Task LoneSurrogatesRoundTrip()
    {
        var (code, stdout, _) = await Run("{\"text\": \"a \\ud800 b\"}", "tokenize");
        Assert.Equal(0, code);
        Assert.Contains("\"tokens\": [\"a\", \"\\ud800\", \"b\"]", stdout);
    }

    [Fact]
    public async Task MalformedJsonNamesLineAndColumn()
    {
        var (code, _, stderr) = await Run("{\"text\": \"ok\"}\n\n{\"text\": \"x\" \"y\"}\n", "tokenize");
        Assert.Equal(1, code);
        Assert.Matches(@"^<stdin>\(3,\d+\): error PRD2001: malformed JSON", stderr);
    }

    [Fact]
    public async Task LineWithoutTextIsAnError()
    {
        var path = Path.Combine(_dir, "in.jsonl");
        File.WriteAllText(path, "{\"text\": \"ok\"}\n{\"label\": \"X\"}\n");
        var (code, _, stderr) = await Run("", "tokenize", "--input", path);
        Assert.Equal(1, code);
        Assert.StartsWith($"{path}(2,1): error PRD2002:", stderr);
    }

    [Fact]
    public async Task FailedRunLeavesAnEarlierOutputIntact()
    {
        var output = Path.Combine(_dir, "out.jsonl");
        File.WriteAllText(output, "previous\n");
        var (code, _, _) = await Run("{\"text\": \"ok\"}\nnot json\n", "tokenize", "--output", output);
        Assert.Equal(1, code);
        Assert.Equal("previous\n", File.ReadAllText(output));

        (code, _, _) = await Run("{\"text\": \"ok\"}\n", "tokenize", "--output", output);
        Assert.Equal(0, code);
        Assert.StartsWith("{\"text\": \"ok\", \"tokens\": [\"ok\"]", File.ReadAllText(output));
    }

    [Fact]
    public async Task UsageErrors()
    {
        var (code, _, stderr) = await Run("", "tokenise");
        Assert.Equal(2, code);
        Assert.Contains("error PRD2000: unknown command 'tokenise'. Commands: tokenize, data-to-spacy, spacy-config, db-out, stats, db-digest.", stderr);

        // A missing @file is an error (the same expander as prodigy-build-train's), not an argument.
        var missing = Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.rsp");
        (code, _, stderr) = await Run("", "tokenize", "@" + missing);
        Assert.Equal(2, code);
        Assert.Contains($"prodigy-build: error PRD2000: response file '{missing}' not found", stderr);

        (code, _, stderr) = await Run("", "tokenize", "--language", "en");
        Assert.Equal(2, code);
        Assert.Contains("unknown option '--language'", stderr);

        (code, _, stderr) = await Run("", "tokenize", "--lang", "zz");
        Assert.Equal(1, code);
        Assert.Contains("error PRD2003", stderr);

        (code, _, stderr) = await Run("", "tokenize", "--input", Path.Combine(_dir, "missing.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("error PRD2004", stderr);

        var (helpCode, help, _) = await Run("", "tokenize", "--help");
        Assert.Equal(0, helpCode);
        Assert.Contains("--rules", help);
    }
}
