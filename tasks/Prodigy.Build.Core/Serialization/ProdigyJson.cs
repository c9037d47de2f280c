using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Core.Serialization;

/// <summary>
/// JSON as Prodigy writes it (<c>srsly.json_dumps</c>, what <c>prodigy db-out</c> prints and what
/// Prodigy stores in its database): compact (no spaces after <c>,</c> and <c>:</c>), every character
/// outside printable ASCII escaped as <c>\uXXXX</c>, forward slashes as they are. Keys keep their
/// order and numbers their spelling, so a task comes out as it was stored.
/// </summary>
public static class ProdigyJson
{
    /// <summary>One task as one line of JSONL (without the line break).</summary>
    public static string Serialize(JsonElement element)
    {
        var builder = new StringBuilder(256);
        Append(builder, element);
        return builder.ToString();
    }

    public static void Append(StringBuilder builder, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                builder.Append('{');
                var first = true;
                foreach (var property in element.EnumerateObject())
                {
                    if (!first)
                    {
                        builder.Append(',');
                    }

                    first = false;
                    ProdigyHashes.AppendPythonJsonString(builder, property.Name);
                    builder.Append(':');
                    Append(builder, property.Value);
                }

                builder.Append('}');
                break;
            case JsonValueKind.Array:
                builder.Append('[');
                var firstItem = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!firstItem)
                    {
                        builder.Append(',');
                    }

                    firstItem = false;
                    Append(builder, item);
                }

                builder.Append(']');
                break;
            case JsonValueKind.String:
                ProdigyHashes.AppendPythonJsonString(builder, JsonStrings.GetString(element));
                break;
            case JsonValueKind.Number:
                // The number as stored: 0.9525150387 stays 0.9525150387, 1e-05 stays 1e-05.
                builder.Append(element.GetRawText());
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
