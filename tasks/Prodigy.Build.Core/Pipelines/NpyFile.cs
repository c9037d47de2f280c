using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A 2-D little-endian float32 matrix in numpy's <c>.npy</c> format, as <c>numpy.save(file, array,
/// allow_pickle=False)</c> writes it (spaCy's <c>vocab/vectors</c>).
/// </summary>
/// <remarks>
/// The format: the magic <c>\x93NUMPY</c>, the version (1.0; 2.0 only for headers over 64 KiB), the
/// header length (uint16 little-endian in 1.0, uint32 in 2.0), then the header, a Python dict literal
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (rows, width), }</c> followed by spaces and a
/// newline so that the data starts at a multiple of 64 bytes. numpy 1.23 and later put 21 spaces less
/// the digits of <c>rows</c> right after the dict (room to grow the first axis in place) before that
/// padding; older numpy does not, which is why <see cref="Read"/> hands back the header it found.
/// </remarks>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy's ARRAY_ALIGN and GROWTH_AXIS_MAX_DIGITS.
    private const int Alignment = 64;
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>The float32 dtype spaCy's vectors are saved as.</summary>
    public const string Float32Descr = "<f4";

    /// <summary>A float32 matrix read from a <c>.npy</c> file, with the file's header bytes.</summary>
    public sealed record Matrix(int Rows, int Width, float[] Data, byte[] Header);

    /// <summary>The header (magic to newline) numpy writes for a C-order <c>&lt;f4</c> array of shape (rows, width).</summary>
    public static byte[] Header(int rows, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        var rowsText = rows.ToString(CultureInfo.InvariantCulture);
        var dict = $"{{'descr': '{Float32Descr}', 'fortran_order': False, 'shape': ({rowsText}, {width.ToString(CultureInfo.InvariantCulture)}), }}"
            + new string(' ', GrowthAxisMaxDigits - rowsText.Length);
        var text = Encoding.Latin1.GetBytes(dict);

        // Version 1.0 stores the header length in 2 bytes; a longer header needs 2.0's 4 bytes.
        var version = 1;
        var prefixLength = Magic.Length + 2 + 2;
        var padding = Alignment - ((prefixLength + text.Length + 1) % Alignment);
        if (text.Length + 1 + padding > ushort.MaxValue)
        {
            version = 2;
            prefixLength = Magic.Length + 2 + 4;
            padding = Alignment - ((prefixLength + text.Length + 1) % Alignment);
        }

        var headerLength = text.Length + padding + 1;
        var header = new byte[prefixLength + headerLength];
        Magic.CopyTo(header, 0);
        header[6] = (byte)version;
        header[7] = 0;
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)headerLength);
        }

        text.CopyTo(header, prefixLength);
        header.AsSpan(prefixLength + text.Length, padding).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    /// <summary>Writes <paramref name="header"/> (from <see cref="Header"/> or <see cref="Read"/>) and the data, little-endian.</summary>
    public static void Write(Stream stream, byte[] header, ReadOnlySpan<float> data)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(header);
        stream.Write(header);
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }

        var buffer = new byte[4];
        foreach (var value in data)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer, value);
            stream.Write(buffer);
        }
    }

    /// <summary>The file's bytes for a rows x width row-major matrix, as numpy writes them.</summary>
    public static byte[] ToBytes(int rows, int width, ReadOnlySpan<float> data)
    {
        if (data.Length != (long)rows * width)
        {
            throw new ArgumentException($"a {rows} x {width} matrix needs {(long)rows * width} values, got {data.Length}", nameof(data));
        }

        using var stream = new MemoryStream();
        Write(stream, Header(rows, width), data);
        return stream.ToArray();
    }

    /// <summary>Reads a C-order <c>&lt;f4</c> 2-D array; anything else is PRD2414 naming <paramref name="path"/>.</summary>
    public static Matrix Read(byte[] bytes, string path)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        SpacyPipelineException Corrupt(string what) => new(
            "PRD2414",
            $"the vectors file is not a numpy float32 matrix ({what}); restore vocab/vectors from the pipeline spaCy wrote",
            path);

        if (bytes.Length < 10 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw Corrupt("no \\x93NUMPY magic at the start");
        }

        int major = bytes[6], minor = bytes[7];
        int prefixLength;
        long headerLength;
        switch (major)
        {
            case 1 when minor == 0:
                prefixLength = 10;
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
                break;
            case 2 or 3 when minor == 0 && bytes.Length >= 12:
                prefixLength = 12;
                headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
                break;
            default:
                throw Corrupt($"format version {major}.{minor}, expected 1.0, 2.0 or 3.0");
        }

        if (prefixLength + headerLength > bytes.Length)
        {
            throw Corrupt($"the header claims {headerLength} bytes but the file has {bytes.Length - prefixLength} after the prefix");
        }

        var headerBytes = bytes.AsSpan(prefixLength, (int)headerLength);
        var text = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var fields = ParseHeader(text, Corrupt);
        if (fields.Descr != Float32Descr)
        {
            throw Corrupt($"dtype '{fields.Descr}'; spaCy's vectors are '{Float32Descr}'");
        }

        if (fields.FortranOrder)
        {
            throw Corrupt("Fortran order; numpy writes C order for spaCy's vectors");
        }

        if (fields.Shape.Count != 2 || fields.Shape[0] > int.MaxValue || fields.Shape[1] > int.MaxValue)
        {
            throw Corrupt($"shape ({string.Join(", ", fields.Shape)}), expected (rows, width)");
        }

        var rows = (int)fields.Shape[0];
        var width = (int)fields.Shape[1];
        var dataStart = prefixLength + (int)headerLength;
        var expected = (long)rows * width * sizeof(float);
        if (bytes.Length - dataStart != expected)
        {
            throw Corrupt($"shape ({rows}, {width}) needs {expected} bytes of data, the file has {bytes.Length - dataStart}");
        }

        var data = new float[rows * width];
        var source = bytes.AsSpan(dataStart);
        if (BitConverter.IsLittleEndian)
        {
            source.CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
        }
        else
        {
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
            }
        }

        return new Matrix(rows, width, data, bytes.AsSpan(0, dataStart).ToArray());
    }

    private sealed record HeaderFields(string Descr, bool FortranOrder, List<long> Shape);

    private static HeaderFields ParseHeader(string text, Func<string, SpacyPipelineException> corrupt)
    {
        // numpy evaluates the header as a Python literal; its writers only produce a flat dict of a
        // quoted string, a bool and a tuple of ints, which is what this accepts.
        var position = 0;

        void SkipSpace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        bool TryTake(char c)
        {
            SkipSpace();
            if (position < text.Length && text[position] == c)
            {
                position++;
                return true;
            }

            return false;
        }

        void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw corrupt($"header is not a Python dict: expected '{c}' at {position} in {Quote(text)}");
            }
        }

        string ReadQuoted()
        {
            SkipSpace();
            if (position >= text.Length || text[position] is not ('\'' or '"'))
            {
                throw corrupt($"header is not a Python dict: expected a quoted string at {position} in {Quote(text)}");
            }

            var quote = text[position++];
            var end = text.IndexOf(quote, position);
            if (end < 0)
            {
                throw corrupt($"header has an unterminated string in {Quote(text)}");
            }

            var value = text[position..end];
            position = end + 1;
            return value;
        }

        string ReadWord()
        {
            SkipSpace();
            var start = position;
            while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] == '_'))
            {
                position++;
            }

            return text[start..position];
        }

        string? descr = null;
        bool? fortran = null;
        List<long>? shape = null;
        Expect('{');
        while (!TryTake('}'))
        {
            var key = ReadQuoted();
            Expect(':');
            switch (key)
            {
                case "descr":
                    descr = ReadQuoted();
                    break;
                case "fortran_order":
                    fortran = ReadWord() switch
                    {
                        "True" => true,
                        "False" => false,
                        var other => throw corrupt($"fortran_order is '{other}', not True or False"),
                    };
                    break;
                case "shape":
                    shape = [];
                    Expect('(');
                    while (!TryTake(')'))
                    {
                        var word = ReadWord();
                        if (!long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                        {
                            throw corrupt($"shape has '{word}', not a non-negative integer");
                        }

                        shape.Add(n);
                        if (!TryTake(','))
                        {
                            Expect(')');
                            break;
                        }
                    }

                    break;
                default:
                    throw corrupt($"header has the key '{key}'; numpy writes only descr, fortran_order and shape");
            }

            if (!TryTake(','))
            {
                Expect('}');
                break;
            }
        }

        SkipSpace();
        if (position != text.Length)
        {
            throw corrupt($"header has text after the dict: {Quote(text[position..])}");
        }

        if (descr is null || fortran is null || shape is null)
        {
            throw corrupt($"header lacks descr, fortran_order or shape: {Quote(text)}");
        }

        return new HeaderFields(descr, fortran.Value, shape);
    }

    private static string Quote(string text) => "\"" + (text.Length > 120 ? text[..120] + "..." : text).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
