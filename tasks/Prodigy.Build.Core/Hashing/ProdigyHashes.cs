using System.Buffers;
using System.Globalization;
using System.Text;

namespace Prodigy.Build.Core.Hashing;

/// <summary>Prodigy's example hashes.</summary>
public static class ProdigyHashes
{
    /// <summary>
    /// The <c>_input_hash</c> of a task whose only input key is <c>text</c>: MurmurHash3 x86 32-bit (seed 0), as a
    /// signed int, of the UTF-8 of <c>text=</c> followed by the text as Python's <c>json.dumps</c> (ensure_ascii) writes it.
    /// </summary>
    public static int TextInputHash(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        builder.Append("text=");
        AppendPythonJsonAscii(builder, text);
        var s = builder.ToString();
        // Every character is ASCII now, so UTF-8 is one byte per char.
        var bytes = ArrayPool<byte>.Shared.Rent(s.Length);
        try
        {
            var n = Encoding.ASCII.GetBytes(s, bytes);
            return unchecked((int)MurmurHash.Hash3X86_32(bytes.AsSpan(0, n)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Appends <paramref name="value"/> quoted as Python's <c>json.dumps(value, ensure_ascii=True)</c> does.</summary>
    public static void AppendPythonJsonAscii(StringBuilder builder, ReadOnlySpan<char> value)
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
                        // Python escapes every UTF-16 code unit outside printable ASCII (astral characters as a surrogate pair).
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }

                    break;
            }
        }

        builder.Append('"');
    }
}
