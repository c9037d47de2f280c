using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Prodigy.Build.Core.Serialization;

/// <summary>
/// JSON string escaping that, unlike System.Text.Json, round-trips lone surrogates: Python's
/// <c>json</c> (and so Prodigy) reads and writes <c>"\ud800"</c>, and a .NET string can hold it.
/// </summary>
public static class JsonStrings
{
    /// <summary>Appends <paramref name="value"/> as a quoted JSON string; non-ASCII stays as it is, lone surrogates become <c>\uXXXX</c>.</summary>
    public static void Append(StringBuilder builder, ReadOnlySpan<char> value)
    {
        builder.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                default:
                    if (c < 0x20 || c is '\u0085' or '\u2028' or '\u2029')
                    {
                        // Control characters, and line separators some readers split records on.
                        AppendEscaped(builder, c);
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        builder.Append(c).Append(value[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        AppendEscaped(builder, c);
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
    }

    private static void AppendEscaped(StringBuilder builder, char c) =>
        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));

    /// <summary>
    /// Reads a string element's value, lone surrogates included (where
    /// <see cref="JsonElement.GetString"/> throws).
    /// </summary>
    public static string GetString(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw new InvalidOperationException($"expected a JSON string, found {element.ValueKind}");
        }

        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return Unescape(element.GetRawText());
        }
    }

    /// <summary>Decodes a quoted JSON string literal (already known to be well-formed JSON).</summary>
    public static string Unescape(ReadOnlySpan<char> quoted)
    {
        var body = quoted[1..^1];
        var builder = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c != '\\')
            {
                builder.Append(c);
                continue;
            }

            var e = body[++i];
            switch (e)
            {
                case 'n': builder.Append('\n'); break;
                case 'r': builder.Append('\r'); break;
                case 't': builder.Append('\t'); break;
                case 'b': builder.Append('\b'); break;
                case 'f': builder.Append('\f'); break;
                case 'u':
                    builder.Append((char)int.Parse(body.Slice(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                    i += 4;
                    break;
                default: builder.Append(e); break; // " \ /
            }
        }

        return builder.ToString();
    }
}
