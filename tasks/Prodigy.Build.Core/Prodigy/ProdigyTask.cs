using System.Globalization;
using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>Bad input data: the code, the file, the line and (for JSON) the column, and what to do.</summary>
public sealed class ProdigyDataException(string code, string message, string? file = null, int line = 0, int column = 0) : Exception(message)
{
    public string Code { get; } = code;

    public string? File { get; } = file;

    public int Line { get; } = line;

    public int Column { get; } = column;
}

/// <summary>A task's <c>answer</c>.</summary>
public enum ProdigyAnswer
{
    Accept,
    Reject,
    Ignore,
}

/// <summary>One entry of a task's <c>tokens</c>: text and code point offsets; <c>ws</c> when given.</summary>
public readonly record struct ProdigyToken(string Text, int Start, int End, bool? Whitespace);

/// <summary>
/// One entry of a task's <c>spans</c>: code point offsets, label, token indexes when given (inclusive
/// end), the span's own <c>answer</c> when it has one (it wins over the task's), and whether it is a
/// model suggestion (it carries an answer, a score or a rank, as ner.teach writes).
/// </summary>
public readonly record struct ProdigySpan(int Start, int End, string Label, int? TokenStart, int? TokenEnd, ProdigyAnswer? Answer = null, bool Suggested = false);

/// <summary>
/// One line of a Prodigy JSONL export (what <c>prodigy db-out</c> prints), with the fields the
/// corpus needs. Offsets are Unicode code points, as Prodigy (Python) counts them.
/// </summary>
public sealed class ProdigyTask
{
    public required string File { get; init; }

    public required int Line { get; init; }

    public required string Text { get; init; }

    public required int InputHash { get; init; }

    public required ProdigyAnswer Answer { get; init; }

    public string? ViewId { get; init; }

    public IReadOnlyList<ProdigyToken>? Tokens { get; init; }

    /// <summary>The <c>spans</c> list; null when the key is absent.</summary>
    public IReadOnlyList<ProdigySpan>? Spans { get; init; }

    /// <summary>A binary classification task's <c>label</c>.</summary>
    public string? Label { get; init; }

    /// <summary>A choice task's option ids (as strings), in order; null when there are no <c>options</c>.</summary>
    public IReadOnlyList<string>? Options { get; init; }

    /// <summary>A choice task's accepted option ids.</summary>
    public IReadOnlyList<string>? Accept { get; init; }

    /// <summary>
    /// Parses one JSONL line. Throws <see cref="ProdigyDataException"/> naming file, line and column
    /// for malformed JSON, a line without text, an unknown answer, or offsets outside the text.
    /// </summary>
    public static ProdigyTask Parse(string line, string file, int lineNumber)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            var reason = e.Message.Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd();
            throw new ProdigyDataException("PRD2011", $"malformed JSON: {reason} Each line must be one JSON object, as 'prodigy db-out' writes.",
                file, lineNumber, ColumnOf(line, e.BytePositionInLine ?? 0));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ProdigyDataException("PRD2011", $"expected a JSON object (a Prodigy task), found {root.ValueKind}.", file, lineNumber, 1);
            }

            if (!root.TryGetProperty("text", out var textElement) || textElement.ValueKind != JsonValueKind.String)
            {
                var hint = root.TryGetProperty("pattern", out _)
                    ? " This looks like a match patterns file (for ner.manual --patterns), not annotations: declare the exported dataset instead."
                    : " Only text tasks can go into a spaCy corpus; remove the line or export text tasks.";
                throw new ProdigyDataException("PRD2012", "the task has no \"text\" string." + hint, file, lineNumber, 1);
            }

            var text = JsonStrings.GetString(textElement);
            var answer = ParseAnswer(root, file, lineNumber);
            var inputHash = root.TryGetProperty("_input_hash", out var hashElement) && hashElement.ValueKind == JsonValueKind.Number && hashElement.TryGetInt32(out var given)
                ? given
                : ProdigyHashes.InputHash(text);
            var textLength = CodePointLength(text);
            return new ProdigyTask
            {
                File = file,
                Line = lineNumber,
                Text = text,
                InputHash = inputHash,
                Answer = answer,
                ViewId = root.TryGetProperty("_view_id", out var view) && view.ValueKind == JsonValueKind.String ? view.GetString() : null,
                Tokens = ParseTokens(root, text, textLength, file, lineNumber),
                Spans = ParseSpans(root, textLength, file, lineNumber),
                Label = root.TryGetProperty("label", out var label) && label.ValueKind == JsonValueKind.String ? JsonStrings.GetString(label) : null,
                Options = root.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Array
                    ? options.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.Object && o.TryGetProperty("id", out var id) ? IdString(id) : null)
                        .Where(id => id is not null).Select(id => id!).ToList()
                    : null,
                Accept = root.TryGetProperty("accept", out var accept) && accept.ValueKind == JsonValueKind.Array
                    ? accept.EnumerateArray().Select(IdString).Where(id => id is not null).Select(id => id!).ToList()
                    : null,
            };
        }
    }

    private static ProdigyAnswer ParseAnswer(JsonElement root, string file, int line)
    {
        // Prodigy treats a task without an answer as accepted (data that was never through the UI).
        if (!root.TryGetProperty("answer", out var answer) || answer.ValueKind == JsonValueKind.Null)
        {
            return ProdigyAnswer.Accept;
        }

        return answer.ValueKind == JsonValueKind.String ? answer.GetString() switch
        {
            "accept" => ProdigyAnswer.Accept,
            "reject" => ProdigyAnswer.Reject,
            "ignore" => ProdigyAnswer.Ignore,
            var other => throw new ProdigyDataException("PRD2014", $"unknown answer \"{other}\"; Prodigy answers are \"accept\", \"reject\" or \"ignore\".", file, line, 1),
        }
        : throw new ProdigyDataException("PRD2014", $"\"answer\" must be a string (\"accept\", \"reject\" or \"ignore\"), found {answer.ValueKind}.", file, line, 1);
    }

    // Option ids may be strings or numbers; a number keeps its JSON spelling ("1", not "1.0").
    private static string? IdString(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.String => JsonStrings.GetString(id),
        JsonValueKind.Number => id.GetRawText(),
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        _ => null,
    };

    private static IReadOnlyList<ProdigyToken>? ParseTokens(JsonElement root, string text, int textLength, string file, int line)
    {
        if (!root.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var result = new List<ProdigyToken>(tokens.GetArrayLength());
        foreach (var token in tokens.EnumerateArray())
        {
            var start = RequiredInt(token, "start", file, line, "token");
            var end = RequiredInt(token, "end", file, line, "token");
            if (start < 0 || end < start || end > textLength)
            {
                throw new ProdigyDataException("PRD2013", $"token offsets {start}-{end} are outside the text (length {textLength} characters).", file, line, 1);
            }

            var tokenText = token.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? JsonStrings.GetString(t) : null;
            bool? ws = token.TryGetProperty("ws", out var w) && w.ValueKind is JsonValueKind.True or JsonValueKind.False ? w.GetBoolean() : null;
            result.Add(new ProdigyToken(tokenText ?? SliceCodePoints(text, start, end), start, end, ws));
        }

        return result;
    }

    private static IReadOnlyList<ProdigySpan>? ParseSpans(JsonElement root, int textLength, string file, int line)
    {
        if (!root.TryGetProperty("spans", out var spans) || spans.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var result = new List<ProdigySpan>(spans.GetArrayLength());
        foreach (var span in spans.EnumerateArray())
        {
            var start = RequiredInt(span, "start", file, line, "span");
            var end = RequiredInt(span, "end", file, line, "span");
            if (start < 0 || end < start || end > textLength)
            {
                throw new ProdigyDataException("PRD2013", $"span offsets {start}-{end} are outside the text (length {textLength} characters); offsets count Unicode code points.", file, line, 1);
            }

            var label = span.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? JsonStrings.GetString(l) : "";
            int? tokenStart = span.TryGetProperty("token_start", out var ts) && ts.ValueKind == JsonValueKind.Number ? ts.GetInt32() : null;
            int? tokenEnd = span.TryGetProperty("token_end", out var te) && te.ValueKind == JsonValueKind.Number ? te.GetInt32() : null;
            ProdigyAnswer? answer = span.TryGetProperty("answer", out var a) && a.ValueKind == JsonValueKind.String
                ? a.GetString() switch { "accept" => ProdigyAnswer.Accept, "reject" => ProdigyAnswer.Reject, "ignore" => ProdigyAnswer.Ignore, _ => null }
                : null;
            var suggested = answer is not null || span.TryGetProperty("score", out _) || span.TryGetProperty("rank", out _);
            result.Add(new ProdigySpan(start, end, label, tokenStart, tokenEnd, answer, suggested));
        }

        return result;
    }

    private static int RequiredInt(JsonElement element, string name, string file, int line, string what)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            return number;
        }

        throw new ProdigyDataException("PRD2013", $"a {what} has no integer \"{name}\" offset.", file, line, 1);
    }

    /// <summary>Python's len(): code points.</summary>
    public static int CodePointLength(string text) => global::Prodigy.Build.Core.Text.PythonText.CodePointCount(text);

    /// <summary>Python's text[start:end] with code point offsets.</summary>
    public static string SliceCodePoints(string text, int start, int end)
    {
        var from = Utf16Index(text, start);
        return text[from..Utf16Index(text, end, from, start)];
    }

    /// <summary>The UTF-16 index of code point offset <paramref name="codePoint"/> (scanning on from a known pair of offsets).</summary>
    public static int Utf16Index(string text, int codePoint, int fromUtf16 = 0, int fromCodePoint = 0)
    {
        var index = fromUtf16;
        for (var cp = fromCodePoint; cp < codePoint && index < text.Length; cp++)
        {
            index += char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]) ? 2 : 1;
        }

        return index;
    }

    internal static int ColumnOf(string line, long bytePosition)
    {
        long bytes = 0;
        for (var i = 0; i < line.Length; i++)
        {
            if (bytes >= bytePosition)
            {
                return i + 1;
            }

            if (char.IsHighSurrogate(line[i]) && i + 1 < line.Length && char.IsLowSurrogate(line[i + 1]))
            {
                bytes += 4;
                i++;
            }
            else
            {
                bytes += Encoding.UTF8.GetByteCount(line.AsSpan(i, 1));
            }
        }

        return line.Length + 1;
    }

    internal static string Describe(int value) => value.ToString(CultureInfo.InvariantCulture);
}
