using System.Globalization;
using System.Text;
using Prodigy.Build.Core.Hashing;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>
/// Prodigy's task hashes. The input hash of a text task is MurmurHash3 x86 32-bit (seed 0, read
/// as a signed int) over the UTF-8 of <c>text=</c> followed by Python's <c>json.dumps(text)</c>
/// (ASCII only: everything outside space..tilde escaped as <c>\uXXXX</c>).
/// </summary>
public static class ProdigyHashes
{
    /// <summary>The <c>_input_hash</c> Prodigy gives a task whose only input key is <c>text</c>.</summary>
    public static int InputHash(string text)
    {
        var builder = new StringBuilder(text.Length + 16);
        builder.Append("text=");
        AppendPythonJsonString(builder, text);
        var bytes = Encoding.UTF8.GetBytes(builder.ToString());
        return unchecked((int)MurmurHash.Hash3X86_32(bytes, 0));
    }

    /// <summary>Appends Python's <c>json.dumps(value)</c> (ensure_ascii=True) for a string.</summary>
    public static void AppendPythonJsonString(StringBuilder builder, string value)
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
                    if (c is >= ' ' and <= '~')
                    {
                        builder.Append(c);
                    }
                    else
                    {
                        // UTF-16 units, as Python writes surrogate pairs for characters above U+FFFF.
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }

                    break;
            }
        }

        builder.Append('"');
    }
}
