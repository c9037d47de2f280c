using System.Globalization;
using System.Text;

namespace Prodigy.Build.Core.Config;

/// <summary>
/// Config values written the way thinc writes them (<c>try_dump_json</c> over srsly's ujson):
/// compact JSON (<c>["a","b"]</c>, <c>{"k":"v"}</c>), non-ASCII escaped as <c>\uXXXX</c>, no escaping
/// of <c>/</c>, floats with at most 9 decimals and a kept <c>.0</c> (<c>1e-8</c> is written
/// <c>0.00000001</c>), strings containing a <c>${...}</c> variable kept verbatim, and a lone
/// <c>$</c> doubled.
/// </summary>
public static class ConfigValues
{
    public const string Null = "null";

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A float as ujson (precision 9) writes it: <c>1.0</c>, <c>0.33</c>, <c>0.00000001</c>.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "JSON has no NaN or infinity");
        }

        if (Math.Abs(value) > int.MaxValue)
        {
            // ujson falls back to C's "%e" above 2^31-1.
            return value.ToString("0.000000e+00", CultureInfo.InvariantCulture);
        }

        var rounded = Math.Round((decimal)value, 9, MidpointRounding.ToEven);
        if (rounded == 0)
        {
            return "0.0";
        }

        var text = rounded.ToString("0.#########", CultureInfo.InvariantCulture);
        return text.Contains('.') ? text : text + ".0";
    }

    /// <summary>A string value as thinc writes it (a <c>${...}</c> variable is kept as it is).</summary>
    public static string String(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (ContainsVariable(value))
        {
            return value;
        }

        if (LooksLikeNumber(value))
        {
            // thinc's workaround for number-like strings: the quoted text is dumped as a string again.
            value = "\"" + value + "\"";
        }

        var json = Json(value);
        return EscapeDollars(json);
    }

    /// <summary>A list of strings: <c>["a","b"]</c>.</summary>
    public static string StringList(IEnumerable<string> values) =>
        EscapeDollars("[" + string.Join(",", values.Select(Json)) + "]");

    /// <summary>A list of raw JSON items: <c>[1,2,3]</c>.</summary>
    public static string List(params string[] rawItems) => "[" + string.Join(",", rawItems) + "]";

    /// <summary>An inline dict of string values: <c>{"@scorers":"spacy.ner_scorer.v1"}</c>.</summary>
    public static string StringDict(params (string Key, string Value)[] items) =>
        EscapeDollars("{" + string.Join(",", items.Select(i => Json(i.Key) + ":" + Json(i.Value))) + "}");

    /// <summary>A JSON string literal as ujson writes it (ensure_ascii, <c>/</c> unescaped).</summary>
    public static string Json(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        AppendJson(builder, value);
        return builder.ToString();
    }

    internal static void AppendJson(StringBuilder builder, string value)
    {
        builder.Append('"');
        foreach (var c in value)
        {
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
                    if (c < 0x20 || c > 0x7E)
                    {
                        // ensure_ascii: every non-ASCII UTF-16 unit (surrogate pairs as two escapes).
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

    private static bool ContainsVariable(string value)
    {
        // thinc's VARIABLE_RE: \$\{[\w\.:]+\}
        var start = value.IndexOf("${", StringComparison.Ordinal);
        while (start >= 0)
        {
            var end = start + 2;
            while (end < value.Length && (char.IsLetterOrDigit(value[end]) || value[end] is '_' or '.' or ':'))
            {
                end++;
            }

            if (end > start + 2 && end < value.Length && value[end] == '}')
            {
                return true;
            }

            start = value.IndexOf("${", start + 2, StringComparison.Ordinal);
        }

        return false;
    }

    private static bool LooksLikeNumber(string value)
    {
        // Python: value.replace(".", "", 1).isdigit()
        var dot = value.IndexOf('.');
        var digits = dot < 0 ? value : value.Remove(dot, 1);
        return digits.Length > 0 && digits.All(char.IsDigit);
    }

    private static string EscapeDollars(string json)
    {
        // re.sub(r"\$([^{])", "$$\1") then re.sub(r"\$$", "$$")
        var builder = new StringBuilder(json.Length);
        for (var i = 0; i < json.Length; i++)
        {
            builder.Append(json[i]);
            if (json[i] == '$' && (i + 1 == json.Length || json[i + 1] != '{'))
            {
                builder.Append('$');
                if (i + 1 < json.Length)
                {
                    // The character after a replaced '$' is consumed by the match: it cannot start another.
                    builder.Append(json[++i]);
                }
            }
        }

        return builder.ToString();
    }
}
