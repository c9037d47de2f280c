using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// JSON as spaCy's files hold it: <c>srsly.write_json</c> is <c>ujson.dumps(data, indent=2,
/// escape_forward_slashes=False)</c> written without a final newline. This reproduces ujson's output
/// byte for byte from a <see cref="JsonNode"/> tree (object key order kept; a number written with a
/// fraction or exponent is a float, one without is an integer, as <c>ujson.loads</c> decides), and
/// parses files into such trees with coded errors that give the line and column.
/// </summary>
/// <remarks>
/// ujson's quirks reproduced: <c>"key":value</c> with no space after the colon; an empty list or
/// dict still gets its two line breaks (<c>"[\n\n  ]"</c>, <c>"{\n\n}"</c>); every character outside
/// ASCII escaped as lowercase <c>\uXXXX</c> (characters above U+FFFF as their surrogate pair);
/// <c>/</c>, <c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c> and DEL left as they are; floats with at most
/// <see cref="DoublePrecision"/> decimals, trailing zeros dropped but one kept (<c>0.0</c>, <c>1.5</c>),
/// and C's <c>%.15e</c> above 1e16 - 1.
/// </remarks>
public static class SrslyJson
{
    /// <summary>ujson's default <c>double_precision</c>: the number of decimals a float keeps.</summary>
    public const int DoublePrecision = 10;

    /// <summary>The indent <c>srsly.write_json</c> uses.</summary>
    public const int WriteJsonIndent = 2;

    // ujson refuses precisions above this and falls back to it.
    private const int MaxDecimals = 15;

    // Above this, ujson stops writing digits itself and calls snprintf("%.15e").
    private const double ExponentThreshold = 1e16 - 1;

    private static readonly double[] PowersOfTen =
        [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>The text of <c>srsly.json_dumps(value, indent)</c> (<c>srsly.write_json</c> writes it with indent 2).</summary>
    /// <exception cref="ArgumentException">a value ujson cannot write: NaN or infinity, an integer outside int64/uint64, a value of another type.</exception>
    public static string Serialize(JsonNode? value, int indent = WriteJsonIndent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(indent);
        var builder = new StringBuilder(256);
        new Encoder(builder, indent).Node(value, level: 0);
        return builder.ToString();
    }

    /// <summary>The bytes <c>srsly.write_json(path, value)</c> writes (ASCII, so UTF-8 and ASCII agree).</summary>
    public static byte[] ToBytes(JsonNode? value, int indent = WriteJsonIndent) => Encoding.UTF8.GetBytes(Serialize(value, indent));

    /// <summary>The bytes <c>srsly.write_json</c> writes for a list of strings (strings.json), without building a tree.</summary>
    public static byte[] ToBytes(IReadOnlyList<string> strings, int indent = WriteJsonIndent)
    {
        ArgumentNullException.ThrowIfNull(strings);
        var builder = new StringBuilder(strings.Count * 16 + 8);
        var encoder = new Encoder(builder, indent);
        encoder.Array(strings.Count, level: 0, (i, _) => AppendString(builder, strings[i]));
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>A float as ujson writes it with <paramref name="precision"/> decimals (<see cref="DoublePrecision"/> by default).</summary>
    /// <exception cref="ArgumentException">NaN or infinity (ujson: "Invalid Nan value when encoding double").</exception>
    public static string FormatDouble(double value, int precision = DoublePrecision)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ArgumentException($"JSON cannot hold {value.ToString(CultureInfo.InvariantCulture)} (ujson refuses NaN and infinity)", nameof(value));
        }

        if (precision is < 0 or > MaxDecimals)
        {
            precision = MaxDecimals;
        }

        var negative = value < 0;
        if (negative)
        {
            value = -value;
        }

        if (value > ExponentThreshold)
        {
            return FormatExponent(negative ? -value : value);
        }

        // The same double and integer arithmetic as ujson's modp_dtoa variant, so that rounding
        // (including its unchecked carry on an exact half) comes out the same.
        var pow10 = PowersOfTen[precision];
        var whole = (ulong)value;
        var scaled = (value - whole) * pow10;
        var fraction = (ulong)scaled;
        var remainder = scaled - fraction;
        if (remainder > 0.5)
        {
            fraction++;
            if (fraction >= pow10)
            {
                fraction = 0;
                whole++;
            }
        }
        else if (remainder == 0.5 && (fraction == 0 || (fraction & 1) != 0))
        {
            fraction++;
        }

        var text = new StringBuilder(24);
        if (negative)
        {
            text.Append('-');
        }

        if (precision == 0)
        {
            var rest = value - whole;
            if (rest > 0.5 || (rest == 0.5 && (whole & 1) != 0))
            {
                whole++;
            }

            return text.Append(whole.ToString(CultureInfo.InvariantCulture)).ToString();
        }

        text.Append(whole.ToString(CultureInfo.InvariantCulture)).Append('.');
        if (fraction == 0)
        {
            return text.Append('0').ToString();
        }

        var digitsLeft = precision;
        while (fraction % 10 == 0)
        {
            digitsLeft--;
            fraction /= 10;
        }

        var digits = fraction.ToString(CultureInfo.InvariantCulture);
        digitsLeft -= digits.Length;
        if (digitsLeft > 0)
        {
            text.Append('0', digitsLeft);
        }

        return text.Append(digits).ToString();
    }

    /// <summary>Appends a quoted string as ujson writes it with ensure_ascii (the default) and unescaped forward slashes.</summary>
    public static void AppendString(StringBuilder builder, string value)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(value);
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20 || c >= 0x80)
                    {
                        // Control characters and everything outside ASCII; a character above U+FFFF is
                        // already its UTF-16 surrogate pair here, which is what ujson writes for it. (A lone
                        // surrogate, which ujson cannot encode at all, comes out as the escape a reader
                        // turns back into the same string.)
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
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

    /// <summary>
    /// Parses a JSON file's bytes (UTF-8, as <c>srsly.read_json</c> reads them) into a tree whose number
    /// values keep their text, so that <see cref="Serialize"/> knows integers from floats.
    /// </summary>
    /// <exception cref="SpacyPipelineException">PRD2412: not JSON; the message gives the line and column.</exception>
    public static JsonNode? Parse(byte[] utf8, string path)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        try
        {
            return JsonNode.Parse(utf8, nodeOptions: null, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            throw Malformed(e, utf8, path);
        }
    }

    /// <summary>Reads and parses a JSON file (see <see cref="Parse"/>); a missing file is PRD2411.</summary>
    public static JsonNode? Read(string path) => Parse(PipelineFiles.ReadRequired(path), path);

    /// <summary>Options for files spaCy wrote: strict JSON (no comments or trailing commas), duplicate keys refused.</summary>
    internal static JsonDocumentOptions DocumentOptions => new() { AllowDuplicateProperties = false, MaxDepth = 1024 };

    /// <summary>PRD2412 for a parse error, with a 1-based line and a 1-based character column where the parser gives one.</summary>
    internal static SpacyPipelineException Malformed(JsonException e, ReadOnlySpan<byte> utf8, string path)
    {
        var reason = e.Message;
        var cut = reason.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
        {
            // System.Text.Json repeats the position in its own words; ours leads the message.
            reason = reason[..cut];
        }

        // Some errors (a repeated key) are found after the reader has moved on and carry no position.
        var where = e.LineNumber is { } lineIndex
            ? $"line {lineIndex + 1}, column {CharacterColumn(utf8, lineIndex, e.BytePositionInLine ?? 0) + 1}: "
            : "";
        return new SpacyPipelineException(
            "PRD2412",
            $"{where}the file is not valid JSON ({reason.TrimEnd('.')}); restore it from the pipeline spaCy wrote",
            path,
            e);
    }

    private static long CharacterColumn(ReadOnlySpan<byte> utf8, long lineIndex, long bytePosition)
    {
        // System.Text.Json counts bytes within the line; a person counts characters.
        var start = 0;
        for (var line = 0L; line < lineIndex && start < utf8.Length; line++)
        {
            var next = utf8[start..].IndexOf((byte)'\n');
            if (next < 0)
            {
                return bytePosition;
            }

            start += next + 1;
        }

        var length = (int)Math.Min(bytePosition, utf8.Length - start);
        return Encoding.UTF8.GetCharCount(utf8.Slice(start, length));
    }

    private static string FormatExponent(double value)
    {
        // C's "%.15e": one digit, a point, 15 digits, 'e', a sign and at least two exponent digits.
        var text = value.ToString("E15", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E');
        var mantissa = text[..e];
        var sign = text[e + 1];
        var exponent = text[(e + 2)..].TrimStart('0');
        return mantissa + "e" + sign + exponent.PadLeft(2, '0');
    }

    private static bool IsFloatText(string number) => number.AsSpan().IndexOfAny('.', 'e', 'E') >= 0;

    private static string IntegerText(string number)
    {
        // ujson reads an integer into int64, else uint64, and writes it back the same way.
        if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var signed))
        {
            return signed.ToString(CultureInfo.InvariantCulture);
        }

        if (ulong.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
        {
            return unsigned.ToString(CultureInfo.InvariantCulture);
        }

        throw new ArgumentException($"the integer {number} does not fit in 64 bits (ujson cannot write it)");
    }

    private sealed class Encoder(StringBuilder builder, int indent)
    {
        public void Node(JsonNode? node, int level)
        {
            switch (node)
            {
                case null:
                    builder.Append("null");
                    break;
                case JsonObject obj:
                    var properties = obj.ToList();
                    Object(properties.Count, level, (i, childLevel) =>
                    {
                        AppendString(builder, properties[i].Key);
                        builder.Append(':');
                        Node(properties[i].Value, childLevel);
                    });
                    break;
                case JsonArray array:
                    Array(array.Count, level, (i, childLevel) => Node(array[i], childLevel));
                    break;
                case JsonValue value:
                    Value(value, level);
                    break;
                default:
                    throw new ArgumentException($"cannot write a {node.GetType().Name} as JSON");
            }
        }

        public void Array(int count, int level, Action<int, int> item) => Container('[', ']', count, level, item);

        private void Object(int count, int level, Action<int, int> item) => Container('{', '}', count, level, item);

        private void Container(char open, char close, int count, int level, Action<int, int> item)
        {
            // ujson breaks the line after the opening bracket and before the closing one even when
            // there is nothing between them.
            builder.Append(open);
            NewLine();
            for (var i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    builder.Append(',');
                    NewLine();
                }

                Indent(level + 1);
                item(i, level + 1);
            }

            NewLine();
            Indent(level);
            builder.Append(close);
        }

        private void NewLine()
        {
            if (indent > 0)
            {
                builder.Append('\n');
            }
        }

        private void Indent(int level) => builder.Append(' ', indent * level);

        private void Value(JsonValue value, int level)
        {
            if (value.TryGetValue<JsonElement>(out var element))
            {
                Element(element, level);
                return;
            }

            switch (value.GetValue<object>())
            {
                case string s: AppendString(builder, s); break;
                case bool b: builder.Append(b ? "true" : "false"); break;
                case char c: AppendString(builder, c.ToString()); break;
                case double d: builder.Append(FormatDouble(d)); break;
                case float f: builder.Append(FormatDouble(f)); break;
                case decimal m: builder.Append(FormatDouble((double)m)); break;
                case long l: builder.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case int i: builder.Append(i.ToString(CultureInfo.InvariantCulture)); break;
                case short s16: builder.Append(s16.ToString(CultureInfo.InvariantCulture)); break;
                case sbyte s8: builder.Append(s8.ToString(CultureInfo.InvariantCulture)); break;
                case ulong ul: builder.Append(ul.ToString(CultureInfo.InvariantCulture)); break;
                case uint ui: builder.Append(ui.ToString(CultureInfo.InvariantCulture)); break;
                case ushort u16: builder.Append(u16.ToString(CultureInfo.InvariantCulture)); break;
                case byte u8: builder.Append(u8.ToString(CultureInfo.InvariantCulture)); break;
                case var other: throw new ArgumentException($"cannot write a {other.GetType().Name} as JSON");
            }
        }

        private void Element(JsonElement element, int level)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    var properties = element.EnumerateObject().ToList();
                    Object(properties.Count, level, (i, childLevel) =>
                    {
                        AppendString(builder, properties[i].Name);
                        builder.Append(':');
                        Element(properties[i].Value, childLevel);
                    });
                    break;
                case JsonValueKind.Array:
                    var items = element.EnumerateArray().ToList();
                    Array(items.Count, level, (i, childLevel) => Element(items[i], childLevel));
                    break;
                case JsonValueKind.String:
                    AppendString(builder, JsonStrings.GetString(element));
                    break;
                case JsonValueKind.Number:
                    var raw = element.GetRawText();
                    builder.Append(IsFloatText(raw)
                        ? FormatDouble(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture))
                        : IntegerText(raw));
                    break;
                case JsonValueKind.True:
                    builder.Append("true");
                    break;
                case JsonValueKind.False:
                    builder.Append("false");
                    break;
                default:
                    builder.Append("null");
                    break;
            }
        }
    }
}
