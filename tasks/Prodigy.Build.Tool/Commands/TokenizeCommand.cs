using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Tool.Commands;

/// <summary>
/// <c>prodigy-build tokenize</c>: JSONL <c>{"text": ...}</c> lines in, the tokens spaCy would make out,
/// with their trailing-whitespace flags, offsets (code points) and norms. What <c>tokenizer.explain</c>
/// users want when a span does not line up.
/// </summary>
public sealed class TokenizeCommand : ICommand
{
    public string Name => "tokenize";

    public string Summary => "Tokenize JSONL texts exactly as spaCy 3 does";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("lang", true, "Built-in language: " + string.Join(", ", TokenizerRules.BuiltInLanguages) + " (default en)."),
        new("rules", true, "Tokenizer rules instead of a built-in language: a rules JSON, a spaCy 'tokenizer' file, or a spaCy pipeline directory."),
        new("input", true, "JSONL file to read (default: standard input)."),
        new("output", true, "JSONL file to write (default: standard output)."),
    ];

    public string Usage =>
        $$"""
        Usage: {{CommandLine.ToolName}} tokenize [--lang L | --rules PATH] [--input FILE] [--output FILE]

        Reads one JSON object with a "text" string per line and writes one line per input line:
        {"text": ..., "tokens": [...], "ws": [...], "idx": [...], "norms": [...]}
        idx counts Unicode code points, as Python and Prodigy do.

        Options:
        {{string.Join("\n", Options.Select(o => $"  --{o.Name,-8} {o.Help}"))}}
        """;

    public async Task<int> RunAsync(ParsedArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var tokenizer = CreateTokenizer(arguments.Get("lang"), arguments.Get("rules"));
        var inputPath = arguments.Get("input");
        var outputPath = arguments.Get("output");
        var inputName = inputPath is null or "-" ? "<stdin>" : inputPath;
        if (inputPath is not null and not "-" && !File.Exists(inputPath))
        {
            throw new ToolException("PRD2004", $"input file '{inputPath}' not found.");
        }

        using var reader = inputPath is null or "-" ? null : new StreamReader(inputPath, Encoding.UTF8);
        var input = reader ?? stdin;

        // Write to a temporary file and rename it at the end, so a failed run leaves an earlier output intact.
        var temporaryOutput = outputPath is null or "-" ? null : outputPath + ".tmp";
        await using (var fileWriter = temporaryOutput is null ? null : new StreamWriter(temporaryOutput, false, new UTF8Encoding(false)))
        {
            var output = fileWriter ?? stdout;
            var buffer = new StringBuilder();
            var lineNumber = 0;
            while (await input.ReadLineAsync(cancellationToken) is { } line)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                var text = ReadText(line, inputName, lineNumber);
                buffer.Clear();
                WriteTokens(buffer, text, tokenizer.Tokenize(text));
                await output.WriteLineAsync(buffer, cancellationToken);
            }

            await output.FlushAsync(cancellationToken);
        }

        if (temporaryOutput is not null)
        {
            File.Move(temporaryOutput, outputPath!, overwrite: true);
        }

        return 0;
    }

    private static Tokenizer CreateTokenizer(string? lang, string? rulesPath)
    {
        try
        {
            if (rulesPath is not null)
            {
                return new Tokenizer(TokenizerRules.Load(rulesPath));
            }

            return Tokenizer.ForLanguage(lang ?? "en");
        }
        catch (TokenizerRulesException e)
        {
            throw new ToolException("PRD2003", e.Message, rulesPath);
        }
    }

    private static string ReadText(string line, string inputName, int lineNumber)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ToolException("PRD2002", "expected a JSON object with a \"text\" string on this line.", inputName, lineNumber, 1);
            }

            if (!document.RootElement.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new ToolException("PRD2002", "the line has no \"text\" string; each line must look like {\"text\": \"...\"}.", inputName, lineNumber, 1);
            }

            return JsonStrings.GetString(text);
        }
        catch (JsonException e)
        {
            var column = ColumnOf(line, e.BytePositionInLine ?? 0);
            var reason = e.Message.Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd();
            throw new ToolException("PRD2001", $"malformed JSON: {reason} Fix the line or remove it.", inputName, lineNumber, column);
        }
    }

    // JsonException counts UTF-8 bytes; an editor counts characters.
    private static int ColumnOf(string line, long bytePosition)
    {
        var bytes = 0L;
        for (var i = 0; i < line.Length; i++)
        {
            if (bytes >= bytePosition)
            {
                return i + 1;
            }

            bytes += char.IsSurrogatePair(line, i) ? 4 : Encoding.UTF8.GetByteCount(line.AsSpan(i, 1));
            if (char.IsSurrogatePair(line, i))
            {
                i++;
            }
        }

        return line.Length + 1;
    }

    private static void WriteTokens(StringBuilder builder, string text, IReadOnlyList<Token> tokens)
    {
        builder.Append("{\"text\": ");
        JsonStrings.Append(builder, text);
        builder.Append(", \"tokens\": [");
        for (var i = 0; i < tokens.Count; i++)
        {
            builder.Append(i == 0 ? "" : ", ");
            JsonStrings.Append(builder, tokens[i].Text);
        }

        builder.Append("], \"ws\": [");
        builder.AppendJoin(", ", tokens.Select(t => t.Whitespace ? "true" : "false"));
        builder.Append("], \"idx\": [");
        builder.AppendJoin(", ", tokens.Select(t => t.Idx));
        builder.Append("], \"norms\": [");
        for (var i = 0; i < tokens.Count; i++)
        {
            builder.Append(i == 0 ? "" : ", ");
            JsonStrings.Append(builder, tokens[i].Norm);
        }

        builder.Append("]}");
    }
}
