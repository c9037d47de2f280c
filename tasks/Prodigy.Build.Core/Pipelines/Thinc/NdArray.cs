using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Prodigy.Build.Core.Pipelines.Thinc;

/// <summary>
/// A numpy array as msgpack-numpy stores it in thinc's files: a dtype string (<c>"&lt;f4"</c>),
/// a shape and the raw C-order bytes. Kept as bytes so that a read array writes back exactly.
/// </summary>
public sealed class NdArray
{
    public NdArray(string dtype, IReadOnlyList<long> shape, byte[] data)
    {
        DType = dtype;
        Shape = shape.ToArray();
        Data = data;
        var expected = checked(ElementCount * ItemSize(dtype));
        if (data.Length != expected)
        {
            throw new ArgumentException($"array of dtype {dtype} and shape ({string.Join(", ", Shape)}) needs {expected} bytes, has {data.Length}");
        }
    }

    /// <summary>numpy's dtype string: <c>&lt;f4</c>, <c>&lt;i8</c>, <c>&lt;u8</c>, ...</summary>
    public string DType { get; }

    public long[] Shape { get; }

    /// <summary>The raw bytes, C order, in the dtype's byte order.</summary>
    public byte[] Data { get; }

    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));

    public static int ItemSize(string dtype) => dtype.Length >= 3 && int.TryParse(dtype.AsSpan(2), out var size) && size > 0
        ? size
        : dtype == "|b1" || dtype == "|u1" || dtype == "|i1" ? 1 : throw new ArgumentException($"unsupported numpy dtype '{dtype}'");

    /// <summary>A float32 array (<c>&lt;f4</c>) from values.</summary>
    public static NdArray FromFloats(ReadOnlySpan<float> values, params long[] shape)
    {
        var data = new byte[values.Length * 4];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(data);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
            }
        }

        return new NdArray("<f4", shape, data);
    }

    /// <summary>The values of a float32 array (a copy).</summary>
    public float[] ToFloats()
    {
        if (DType != "<f4")
        {
            throw new InvalidOperationException($"expected a float32 array (<f4), found {DType}");
        }

        var values = new float[ElementCount];
        if (BitConverter.IsLittleEndian)
        {
            Data.AsSpan().CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(i * 4));
            }
        }

        return values;
    }

    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");
}
