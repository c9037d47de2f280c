using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>
/// Reads a Prodigy JSONL file fast: lines are cut from UTF-8 bytes and parsed with
/// <see cref="Utf8JsonReader"/> in one pass, with repeated strings (token texts, labels) shared.
/// Any line the fast path is not sure about (an error, a lone surrogate, a missing token text)
/// goes through <see cref="ProdigyTask.Parse"/>, which gives the exact error with line and column.
/// </summary>
public static class ProdigyTaskReader
{
    /// <summary>A raw line: its number and its UTF-8 bytes (without the line break).</summary>
    public readonly record struct RawLine(int Number, ReadOnlyMemory<byte> Bytes);

    /// <summary>The non-blank lines of a UTF-8 file, in order, read in blocks.</summary>
    public static IEnumerable<RawLine> ReadLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        var filled = 0;
        var lineNumber = 0;
        var first = true;
        // Lines are copied into shared blocks rather than one array each (50,000 lines, 40 blocks).
        var block = new byte[1 << 22];
        var blockUsed = 0;
        ReadOnlyMemory<byte> Keep(ReadOnlySpan<byte> line)
        {
            if (line.Length > block.Length - blockUsed)
            {
                block = new byte[Math.Max(1 << 22, line.Length)];
                blockUsed = 0;
            }

            line.CopyTo(block.AsSpan(blockUsed));
            var kept = new ReadOnlyMemory<byte>(block, blockUsed, line.Length);
            blockUsed += line.Length;
            return kept;
        }

        while (true)
        {
            var read = stream.Read(buffer, filled, buffer.Length - filled);
            filled += read;
            var start = 0;
            if (first && filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF)
            {
                start = 3;
            }

            first = false;
            while (true)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
                if (newline < 0)
                {
                    break;
                }

                lineNumber++;
                var line = TrimLine(buffer, start, newline);
                if (line.Length > 0)
                {
                    yield return new RawLine(lineNumber, Keep(line));
                }

                start = newline + 1;
            }

            if (read == 0)
            {
                if (start < filled)
                {
                    lineNumber++;
                    var line = TrimLine(buffer, start, filled);
                    if (line.Length > 0)
                    {
                        yield return new RawLine(lineNumber, Keep(line));
                    }
                }

                yield break;
            }

            // Keep the unfinished line; grow the buffer when one line fills it.
            var rest = filled - start;
            if (start == 0 && rest == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            else
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, rest);
            }

            filled = rest;
        }
    }

    private static ReadOnlySpan<byte> TrimLine(byte[] buffer, int start, int end)
    {
        var line = buffer.AsSpan(start, end - start);
        while (line.Length > 0 && line[^1] is (byte)'\r' or (byte)' ' or (byte)'\t')
        {
            line = line[..^1];
        }

        var trimmed = line.TrimStart(" \t"u8);
        return trimmed;
    }

    /// <summary>Parses one line: the fast path when it can, else the exact (and error-reporting) one.</summary>
    public static ProdigyTask Parse(RawLine line, string file, StringPool pool)
    {
        try
        {
            if (TryParseFast(line.Bytes.Span, file, line.Number, pool, out var task))
            {
                return task;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {

            // fall through to the exact parser, which reports the problem precisely
        }

        return ProdigyTask.Parse(Encoding.UTF8.GetString(line.Bytes.Span), file, line.Number);
    }

    [ThreadStatic]
    private static List<ProdigyToken>? t_tokenScratch;

    private static bool TryParseFast(ReadOnlySpan<byte> json, string file, int lineNumber, StringPool pool, out ProdigyTask task)
    {
        task = null!;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        string? text = null;
        int? inputHash = null;
        var answer = ProdigyAnswer.Accept;
        string? viewId = null;
        string? label = null;
        // Tokens are collected in a per-thread scratch list and copied once into an array of the exact
        // size: growing a fresh list per task was a tenth of the parse time (copies and GC).
        List<ProdigyToken>? tokens = null;
        List<ProdigySpan>? spans = null;
        List<string>? options = null;
        List<string>? accept = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (KeyOf(ref reader) == Key.Text)
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                text = reader.GetString();
            }
            else if (KeyOf(ref reader) == Key.InputHash)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var hash))
                {
                    inputHash = hash;
                }
            }
            else if (KeyOf(ref reader) == Key.Answer)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                if (reader.ValueSpan.SequenceEqual("accept"u8) && !reader.ValueIsEscaped)
                {
                    answer = ProdigyAnswer.Accept;
                }
                else if (reader.ValueSpan.SequenceEqual("reject"u8) && !reader.ValueIsEscaped)
                {
                    answer = ProdigyAnswer.Reject;
                }
                else if (reader.ValueSpan.SequenceEqual("ignore"u8) && !reader.ValueIsEscaped)
                {
                    answer = ProdigyAnswer.Ignore;
                }
                else
                {
                    return false;
                }
            }
            else if (KeyOf(ref reader) == Key.ViewId)
            {
                reader.Read();
                viewId = reader.TokenType == JsonTokenType.String ? pool.Get(ref reader) : null;
            }
            else if (KeyOf(ref reader) == Key.Label)
            {
                reader.Read();
                label = reader.TokenType == JsonTokenType.String ? pool.Get(ref reader) : null;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }
            }
            else if (KeyOf(ref reader) == Key.Tokens)
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                tokens = t_tokenScratch ??= new List<ProdigyToken>(256);
                tokens.Clear();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    int? start = null, end = null;
                    string? tokenText = null;
                    bool? ws = null;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (KeyOf(ref reader) == Key.Text)
                        {
                            reader.Read();
                            tokenText = reader.TokenType == JsonTokenType.String ? pool.Get(ref reader) : null;
                        }
                        else if (KeyOf(ref reader) == Key.Start)
                        {
                            reader.Read();
                            start = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v : null;
                        }
                        else if (KeyOf(ref reader) == Key.End)
                        {
                            reader.Read();
                            end = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v : null;
                        }
                        else if (KeyOf(ref reader) == Key.Ws)
                        {
                            reader.Read();
                            ws = reader.TokenType switch { JsonTokenType.True => true, JsonTokenType.False => false, _ => null };
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }

                    if (start is null || end is null || tokenText is null)
                    {
                        return false;
                    }

                    tokens.Add(new ProdigyToken(tokenText, start.Value, end.Value, ws));
                }
            }
            else if (KeyOf(ref reader) == Key.Spans)
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                spans = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    int? start = null, end = null, tokenStart = null, tokenEnd = null;
                    var spanLabel = "";
                    ProdigyAnswer? spanAnswer = null;
                    var suggested = false;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (KeyOf(ref reader) == Key.Start)
                        {
                            reader.Read();
                            start = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v : null;
                        }
                        else if (KeyOf(ref reader) == Key.End)
                        {
                            reader.Read();
                            end = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v : null;
                        }
                        else if (KeyOf(ref reader) == Key.Label)
                        {
                            reader.Read();
                            spanLabel = reader.TokenType == JsonTokenType.String ? pool.Get(ref reader) : "";
                            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                            {
                                reader.Skip();
                            }
                        }
                        else if (KeyOf(ref reader) == Key.TokenStart)
                        {
                            reader.Read();
                            tokenStart = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v : null;
                        }
                        else if (KeyOf(ref reader) == Key.TokenEnd)
                        {
                            reader.Read();
                            tokenEnd = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v : null;
                        }
                        else if (KeyOf(ref reader) == Key.Answer)
                        {
                            reader.Read();
                            suggested = true;
                            spanAnswer = reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped ? null
                                : reader.ValueSpan.SequenceEqual("accept"u8) ? ProdigyAnswer.Accept
                                : reader.ValueSpan.SequenceEqual("reject"u8) ? ProdigyAnswer.Reject
                                : reader.ValueSpan.SequenceEqual("ignore"u8) ? ProdigyAnswer.Ignore
                                : null;
                            reader.Skip();
                        }
                        else
                        {
                            suggested |= KeyOf(ref reader) is Key.Score or Key.Rank;
                            reader.Read();
                            reader.Skip();
                        }
                    }

                    if (start is null || end is null)
                    {
                        return false;
                    }

                    spans.Add(new ProdigySpan(start.Value, end.Value, spanLabel, tokenStart, tokenEnd, spanAnswer, suggested));
                }
            }
            else if (KeyOf(ref reader) == Key.Options)
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                options = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }

                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isId = KeyOf(ref reader) == Key.Id;
                        reader.Read();
                        if (isId && IdString(ref reader, pool) is { } id)
                        {
                            options.Add(id);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
            }
            else if (KeyOf(ref reader) == Key.Accept)
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                accept = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (IdString(ref reader, pool) is { } id)
                    {
                        accept.Add(id);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || text is null)
        {
            return false; // trailing content, or no text: the exact parser explains
        }

        var textLength = ProdigyTask.CodePointLength(text);
        ProdigyToken[]? taskTokens = null;
        if (tokens is not null)
        {
            foreach (var token in tokens)
            {
                if (token.Start < 0 || token.End < token.Start || token.End > textLength)
                {
                    return false;
                }
            }

            taskTokens = [.. tokens];
        }

        if (spans is not null && spans.Any(s => s.Start < 0 || s.End < s.Start || s.End > textLength))
        {
            return false;
        }

        task = new ProdigyTask
        {
            File = file,
            Line = lineNumber,
            Text = text,
            InputHash = inputHash ?? ProdigyHashes.InputHash(text),
            Answer = answer,
            ViewId = viewId,
            Tokens = taskTokens,
            Spans = spans,
            Label = label,
            Options = options,
            Accept = accept,
        };
        return true;
    }

    private enum Key
    {
        Other,
        Text,
        InputHash,
        Answer,
        ViewId,
        Label,
        Tokens,
        Spans,
        Options,
        Accept,
        Start,
        End,
        Ws,
        TokenStart,
        TokenEnd,
        Id,
        Score,
        Rank,
    }

    // Property names decided by length and bytes: much cheaper than trying each name in turn.
    private static Key KeyOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            return KeyOfName(reader.GetString()!);
        }

        var name = reader.ValueSpan;
        return name.Length switch
        {
            2 => name.SequenceEqual("ws"u8) ? Key.Ws : name.SequenceEqual("id"u8) ? Key.Id : Key.Other,
            3 => name.SequenceEqual("end"u8) ? Key.End : Key.Other,
            4 => name.SequenceEqual("text"u8) ? Key.Text : name.SequenceEqual("rank"u8) ? Key.Rank : Key.Other,
            5 => name.SequenceEqual("start"u8) ? Key.Start : name.SequenceEqual("label"u8) ? Key.Label : name.SequenceEqual("spans"u8) ? Key.Spans : name.SequenceEqual("score"u8) ? Key.Score : Key.Other,
            6 => name.SequenceEqual("answer"u8) ? Key.Answer : name.SequenceEqual("tokens"u8) ? Key.Tokens : name.SequenceEqual("accept"u8) ? Key.Accept : Key.Other,
            7 => name.SequenceEqual("options"u8) ? Key.Options : Key.Other,
            8 => name.SequenceEqual("_view_id"u8) ? Key.ViewId : Key.Other,
            9 => name.SequenceEqual("token_end"u8) ? Key.TokenEnd : Key.Other,
            11 => name.SequenceEqual("token_start"u8) ? Key.TokenStart : name.SequenceEqual("_input_hash"u8) ? Key.InputHash : Key.Other,
            _ => Key.Other,
        };
    }

    private static Key KeyOfName(string name) => name switch
    {
        "ws" => Key.Ws,
        "id" => Key.Id,
        "end" => Key.End,
        "text" => Key.Text,
        "rank" => Key.Rank,
        "score" => Key.Score,
        "start" => Key.Start,
        "label" => Key.Label,
        "spans" => Key.Spans,
        "answer" => Key.Answer,
        "tokens" => Key.Tokens,
        "accept" => Key.Accept,
        "options" => Key.Options,
        "_view_id" => Key.ViewId,
        "token_end" => Key.TokenEnd,
        "token_start" => Key.TokenStart,
        "_input_hash" => Key.InputHash,
        _ => Key.Other,
    };

    private static string? IdString(ref Utf8JsonReader reader, StringPool pool) => reader.TokenType switch
    {
        JsonTokenType.String => pool.Get(ref reader),
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.True => "True",
        JsonTokenType.False => "False",
        _ => null,
    };
}

/// <summary>
/// Shares repeated strings (token texts, labels) between tasks: a corpus of 50,000 examples says
/// "the" a hundred thousand times, and one string object is enough.
/// </summary>
public sealed class StringPool
{
    private const int MaxEntries = 1 << 20;
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public StringPool() => _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The reader's current string value, shared when seen before.</summary>
    public string Get(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || reader.ValueSpan.Length > 128)
        {
            return reader.GetString()!;
        }

        Span<char> chars = stackalloc char[128];
        if (Encoding.UTF8.TryGetChars(reader.ValueSpan, chars, out var written))
        {
            var span = chars[..written];
            if (_lookup.TryGetValue(span, out var existing))
            {
                return existing;
            }

            var created = span.ToString();
            if (_strings.Count < MaxEntries)
            {
                _strings[created] = created;
            }

            return created;
        }

        return reader.GetString()!;
    }
}
