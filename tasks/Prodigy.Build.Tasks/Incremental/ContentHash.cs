using System.IO.Hashing;
using System.Text;

namespace Prodigy.Build.Tasks.Incremental;

/// <summary>XxHash128 of files and texts, as 32 lowercase hex digits: what the lock file records.</summary>
internal static class ContentHash
{
    private const int BufferSize = 1 << 20;

    public static string OfFile(string path, out long size)
    {
        var hash = new XxHash128();
        var buffer = new byte[BufferSize];
        size = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan))
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.Append(new ReadOnlySpan<byte>(buffer, 0, read));
                size += read;
            }
        }

        return ToHex(hash.GetCurrentHash());
    }

    public static string OfText(string text) => ToHex(XxHash128.Hash(Encoding.UTF8.GetBytes(text)));

    private static string ToHex(byte[] bytes)
    {
        var chars = new char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
            chars[(2 * i) + 1] = "0123456789abcdef"[bytes[i] & 0xF];
        }

        return new string(chars);
    }
}
