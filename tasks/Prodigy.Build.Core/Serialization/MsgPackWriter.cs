using System.Buffers;
using System.Buffers.Binary;
using System.Collections;
using System.Runtime.CompilerServices;
using System.Text;

namespace Prodigy.Build.Core.Serialization;

/// <summary>
/// A msgpack encoder that writes what msgpack-python's default <c>Packer(use_bin_type=True)</c> writes:
/// the smallest int forms, str as fixstr/str8/str16/str32 (UTF-8), bytes as bin8/16/32, fixmap/map16/map32,
/// fixarray/array16/array32, doubles always as float64 (<c>cb</c>), nil/true/false.
/// Writes into an <see cref="IBufferWriter{T}"/>, by default its own growable buffer.
/// </summary>
public sealed class MsgPackWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly IBufferWriter<byte> _output;
    private readonly ArrayBufferWriter<byte>? _own;

    /// <summary>Writes into an internal growable buffer (<see cref="WrittenSpan"/>).</summary>
    public MsgPackWriter(int initialCapacity = 256)
    {
        _own = new ArrayBufferWriter<byte>(Math.Max(initialCapacity, 16));
        _output = _own;
    }

    /// <summary>Writes into <paramref name="output"/>.</summary>
    public MsgPackWriter(IBufferWriter<byte> output) => _output = output;

    /// <summary>The bytes written so far (only for a writer with its own buffer).</summary>
    public ReadOnlySpan<byte> WrittenSpan => Own.WrittenSpan;

    /// <summary>The number of bytes in the internal buffer.</summary>
    public int WrittenCount => Own.WrittenCount;

    private ArrayBufferWriter<byte> Own => _own ?? throw new InvalidOperationException("This writer writes into an external buffer.");

    /// <summary>Empties the internal buffer (keeps its capacity).</summary>
    public void Reset() => Own.ResetWrittenCount();

    /// <summary>A copy of the bytes written so far.</summary>
    public byte[] ToArray() => Own.WrittenSpan.ToArray();

    public void WriteNil() => WriteByte(0xC0);

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)0xC3 : (byte)0xC2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte value)
    {
        var span = _output.GetSpan(1);
        span[0] = value;
        _output.Advance(1);
    }

    /// <summary>Writes bytes as they are (already-encoded msgpack).</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var span = _output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        _output.Advance(bytes.Length);
    }

    public void WriteInt64(long value)
    {
        if (value >= 0)
        {
            WriteUInt64((ulong)value);
            return;
        }

        var span = _output.GetSpan(9);
        int n;
        if (value >= -32)
        {
            span[0] = unchecked((byte)(sbyte)value);
            n = 1;
        }
        else if (value >= sbyte.MinValue)
        {
            span[0] = 0xD0;
            span[1] = unchecked((byte)(sbyte)value);
            n = 2;
        }
        else if (value >= short.MinValue)
        {
            span[0] = 0xD1;
            BinaryPrimitives.WriteInt16BigEndian(span[1..], (short)value);
            n = 3;
        }
        else if (value >= int.MinValue)
        {
            span[0] = 0xD2;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], (int)value);
            n = 5;
        }
        else
        {
            span[0] = 0xD3;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], value);
            n = 9;
        }

        _output.Advance(n);
    }

    public void WriteUInt64(ulong value)
    {
        var span = _output.GetSpan(9);
        int n;
        if (value <= 0x7F)
        {
            span[0] = (byte)value;
            n = 1;
        }
        else if (value <= byte.MaxValue)
        {
            span[0] = 0xCC;
            span[1] = (byte)value;
            n = 2;
        }
        else if (value <= ushort.MaxValue)
        {
            span[0] = 0xCD;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)value);
            n = 3;
        }
        else if (value <= uint.MaxValue)
        {
            span[0] = 0xCE;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)value);
            n = 5;
        }
        else
        {
            span[0] = 0xCF;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], value);
            n = 9;
        }

        _output.Advance(n);
    }

    /// <summary>A float64 (<c>cb</c>): msgpack-python never packs a Python float as float32.</summary>
    public void WriteDouble(double value)
    {
        var span = _output.GetSpan(9);
        span[0] = 0xCB;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _output.Advance(9);
    }

    public void WriteString(string value) => WriteString(value.AsSpan());

    public void WriteString(ReadOnlySpan<char> value)
    {
        if (value.Length < 32 && Ascii.IsValid(value))
        {
            // fixstr, ASCII: one byte per char.
            var s = _output.GetSpan(1 + value.Length);
            s[0] = (byte)(0xA0 | value.Length);
            Ascii.FromUtf16(value, s[1..], out _);
            _output.Advance(1 + value.Length);
            return;
        }

        int length;
        try
        {
            length = Utf8.GetByteCount(value);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException("The string holds a lone surrogate, which UTF-8 (and so msgpack) cannot encode.", nameof(value));
        }

        WriteStringHeader(length);
        var span = _output.GetSpan(length);
        var written = Utf8.GetBytes(value, span);
        _output.Advance(written);
    }

    /// <summary>A str whose UTF-8 bytes are given.</summary>
    public void WriteStringUtf8(ReadOnlySpan<byte> utf8)
    {
        WriteStringHeader(utf8.Length);
        WriteRaw(utf8);
    }

    public void WriteStringHeader(int byteLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        var span = _output.GetSpan(5);
        if (byteLength < 32)
        {
            span[0] = (byte)(0xA0 | byteLength);
            _output.Advance(1);
        }
        else if (byteLength <= byte.MaxValue)
        {
            span[0] = 0xD9;
            span[1] = (byte)byteLength;
            _output.Advance(2);
        }
        else if (byteLength <= ushort.MaxValue)
        {
            span[0] = 0xDA;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)byteLength);
            _output.Advance(3);
        }
        else
        {
            span[0] = 0xDB;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)byteLength);
            _output.Advance(5);
        }
    }

    public void WriteBinary(ReadOnlySpan<byte> bytes)
    {
        WriteBinaryHeader(bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteBinaryHeader(long byteLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(byteLength, uint.MaxValue);
        var span = _output.GetSpan(5);
        if (byteLength <= byte.MaxValue)
        {
            span[0] = 0xC4;
            span[1] = (byte)byteLength;
            _output.Advance(2);
        }
        else if (byteLength <= ushort.MaxValue)
        {
            span[0] = 0xC5;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)byteLength);
            _output.Advance(3);
        }
        else
        {
            span[0] = 0xC6;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)byteLength);
            _output.Advance(5);
        }
    }

    public void WriteArrayHeader(int count) => WriteContainerHeader(count, 0x90, 0xDC, 0xDD);

    public void WriteMapHeader(int count) => WriteContainerHeader(count, 0x80, 0xDE, 0xDF);

    private void WriteContainerHeader(int count, byte fix, byte c16, byte c32)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var span = _output.GetSpan(5);
        if (count < 16)
        {
            span[0] = (byte)(fix | count);
            _output.Advance(1);
        }
        else if (count <= ushort.MaxValue)
        {
            span[0] = c16;
            BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)count);
            _output.Advance(3);
        }
        else
        {
            span[0] = c32;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)count);
            _output.Advance(5);
        }
    }

    /// <summary>
    /// Writes a plain .NET value as msgpack-python would pack the equivalent Python value: null, bool,
    /// integers, float/double (float64), string, byte[] / ReadOnlyMemory&lt;byte&gt; (bin), maps
    /// (IDictionary or a sequence of KeyValuePair, order kept), other sequences (arrays; object[] is a tuple).
    /// </summary>
    public void WriteValue(object? value, int depth = 0)
    {
        if (depth > 512)
        {
            throw new ArgumentException("msgpack: value nested too deep.");
        }

        switch (value)
        {
            case null: WriteNil(); return;
            case bool b: WriteBoolean(b); return;
            case string s: WriteString(s); return;
            case long l: WriteInt64(l); return;
            case int i: WriteInt64(i); return;
            case double d: WriteDouble(d); return;
            case ulong ul: WriteUInt64(ul); return;
            case uint ui: WriteUInt64(ui); return;
            case short sh: WriteInt64(sh); return;
            case ushort us: WriteUInt64(us); return;
            case sbyte sb: WriteInt64(sb); return;
            case byte by: WriteUInt64(by); return;
            case float f: WriteDouble(f); return;
            case byte[] bytes: WriteBinary(bytes); return;
            case ReadOnlyMemory<byte> rom: WriteBinary(rom.Span); return;
            case Memory<byte> mem: WriteBinary(mem.Span); return;
            case IDictionary dictionary:
                WriteMapHeader(dictionary.Count);
                foreach (DictionaryEntry entry in dictionary)
                {
                    WriteValue(entry.Key, depth + 1);
                    WriteValue(entry.Value, depth + 1);
                }

                return;
            case IEnumerable<KeyValuePair<string, object?>> pairs: WritePairs(pairs, depth); return;
            case IEnumerable<KeyValuePair<object, object?>> pairs: WritePairs(pairs, depth); return;
            case ICollection collection:
                WriteArrayHeader(collection.Count);
                foreach (var item in collection)
                {
                    WriteValue(item, depth + 1);
                }

                return;
            case IEnumerable enumerable:
                var items = enumerable.Cast<object?>().ToList();
                WriteArrayHeader(items.Count);
                foreach (var item in items)
                {
                    WriteValue(item, depth + 1);
                }

                return;
            default:
                throw new ArgumentException($"msgpack: cannot pack a value of type {value.GetType()}.");
        }
    }

    private void WritePairs<TKey, TValue>(IEnumerable<KeyValuePair<TKey, TValue>> pairs, int depth)
    {
        var list = pairs as IReadOnlyCollection<KeyValuePair<TKey, TValue>> ?? pairs.ToList();
        WriteMapHeader(list.Count);
        foreach (var pair in list)
        {
            WriteValue(pair.Key, depth + 1);
            WriteValue(pair.Value, depth + 1);
        }
    }
}
