using System.Buffers.Binary;
using System.Text;

namespace Prodigy.Build.Core.Serialization;

/// <summary>Malformed msgpack data; the message says where.</summary>
public sealed class MsgPackException(string message) : Exception(message);

/// <summary>
/// A small msgpack decoder into plain .NET values (null, bool, long, ulong, double, string, byte[],
/// <see cref="List{T}"/> of object, <see cref="List{T}"/> of key/value pairs for maps, order kept).
/// spaCy's files use only these types; ext types are refused.
/// </summary>
public sealed class MsgPackReader
{
    private readonly byte[] _data;
    private int _pos;

    private MsgPackReader(byte[] data) => _data = data;

    /// <summary>Decodes one value that must fill <paramref name="data"/> exactly.</summary>
    public static object? Decode(byte[] data)
    {
        var reader = new MsgPackReader(data);
        var value = reader.Read(depth: 0);
        if (reader._pos != data.Length)
        {
            throw new MsgPackException($"msgpack: {data.Length - reader._pos} trailing bytes after the value at offset {reader._pos}.");
        }

        return value;
    }

    private MsgPackException Error(string what) => new($"msgpack: {what} at offset {_pos}.");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _pos + count > _data.Length)
        {
            throw Error("unexpected end of data");
        }

        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private object? Read(int depth)
    {
        if (depth > 512)
        {
            throw Error("nesting too deep");
        }

        var b = Take(1)[0];
        return b switch
        {
            <= 0x7F => (long)b,
            >= 0x80 and <= 0x8F => ReadMap(b & 0x0F, depth),
            >= 0x90 and <= 0x9F => ReadArray(b & 0x0F, depth),
            >= 0xA0 and <= 0xBF => ReadString(b & 0x1F),
            0xC0 => null,
            0xC2 => false,
            0xC3 => true,
            0xC4 => Take(Take(1)[0]).ToArray(),
            0xC5 => Take(BinaryPrimitives.ReadUInt16BigEndian(Take(2))).ToArray(),
            0xC6 => Take(checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4)))).ToArray(),
            0xCA => (double)BinaryPrimitives.ReadSingleBigEndian(Take(4)),
            0xCB => BinaryPrimitives.ReadDoubleBigEndian(Take(8)),
            0xCC => (long)Take(1)[0],
            0xCD => (long)BinaryPrimitives.ReadUInt16BigEndian(Take(2)),
            0xCE => (long)BinaryPrimitives.ReadUInt32BigEndian(Take(4)),
            0xCF => ReadUInt64(),
            0xD0 => (long)(sbyte)Take(1)[0],
            0xD1 => (long)BinaryPrimitives.ReadInt16BigEndian(Take(2)),
            0xD2 => (long)BinaryPrimitives.ReadInt32BigEndian(Take(4)),
            0xD3 => BinaryPrimitives.ReadInt64BigEndian(Take(8)),
            0xD9 => ReadString(Take(1)[0]),
            0xDA => ReadString(BinaryPrimitives.ReadUInt16BigEndian(Take(2))),
            0xDB => ReadString(checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4)))),
            0xDC => ReadArray(BinaryPrimitives.ReadUInt16BigEndian(Take(2)), depth),
            0xDD => ReadArray(checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))), depth),
            0xDE => ReadMap(BinaryPrimitives.ReadUInt16BigEndian(Take(2)), depth),
            0xDF => ReadMap(checked((int)BinaryPrimitives.ReadUInt32BigEndian(Take(4))), depth),
            >= 0xE0 => (long)(sbyte)b,
            _ => throw Error($"unsupported type byte 0x{b:X2}"),
        };
    }

    private object ReadUInt64()
    {
        var value = BinaryPrimitives.ReadUInt64BigEndian(Take(8));
        return value <= long.MaxValue ? (long)value : value;
    }

    private string ReadString(int length)
    {
        var bytes = Take(length);
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error("invalid UTF-8 in a string");
        }
    }

    private List<object?> ReadArray(int count, int depth)
    {
        var list = new List<object?>(Math.Min(count, 1 << 16));
        for (var i = 0; i < count; i++)
        {
            list.Add(Read(depth + 1));
        }

        return list;
    }

    private List<KeyValuePair<object?, object?>> ReadMap(int count, int depth)
    {
        var map = new List<KeyValuePair<object?, object?>>(Math.Min(count, 1 << 16));
        for (var i = 0; i < count; i++)
        {
            var key = Read(depth + 1);
            var value = Read(depth + 1);
            map.Add(new KeyValuePair<object?, object?>(key, value));
        }

        return map;
    }
}
