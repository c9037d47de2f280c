using System.Text;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

public sealed class SrslyJsonTests
{
    /// <summary>Every JSON file spaCy wrote into the shared pipelines, as (pipeline, relative path).</summary>
    public static TheoryData<string, string> JsonFiles
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var name in new[] { "ner", "spancat", "textcat", "textcat_multilabel" })
            {
                var folder = SharedPipelines.Folder(name);
                data.Add(name, "meta.json");
                data.Add(name, "vocab/vectors.cfg");
                data.Add(name, "vocab/strings.json");
                foreach (var cfg in Directory.EnumerateFiles(folder, "cfg", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    data.Add(name, Path.GetRelativePath(folder, cfg).Replace('\\', '/'));
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(JsonFiles))]
    public void Shared_json_file_parses_and_writes_back_byte_identical(string pipeline, string file)
    {
        var path = Path.Combine(SharedPipelines.Folder(pipeline), file);
        var bytes = File.ReadAllBytes(path);

        var tree = SrslyJson.Parse(bytes, path);

        Assert.Equal(bytes, SrslyJson.ToBytes(tree));
    }

    [Fact]
    public void Empty_list_and_dict_keep_ujsons_blank_line_at_every_level()
    {
        Assert.Equal("[\n\n]", SrslyJson.Serialize(new JsonArray()));
        Assert.Equal("{\n\n}", SrslyJson.Serialize(new JsonObject()));
        Assert.Equal("{\n  \"a\":[\n\n  ],\n  \"b\":{\n\n  }\n}", SrslyJson.Serialize(new JsonObject { ["a"] = new JsonArray(), ["b"] = new JsonObject() }));
    }

    [Fact]
    public void Nested_values_indent_two_spaces_per_level_with_no_space_after_the_colon()
    {
        var tree = new JsonObject
        {
            ["name"] = "x",
            ["inner"] = new JsonObject { ["list"] = new JsonArray(1, 2.5, null, true, false) },
        };

        Assert.Equal(
            "{\n  \"name\":\"x\",\n  \"inner\":{\n    \"list\":[\n      1,\n      2.5,\n      null,\n      true,\n      false\n    ]\n  }\n}",
            SrslyJson.Serialize(tree));
    }

    [Fact]
    public void Indent_zero_is_compact_as_json_dumps_writes_it()
    {
        var tree = new JsonObject { ["a"] = new JsonArray(1, "x"), ["b"] = new JsonObject(), ["c"] = new JsonArray() };

        Assert.Equal("{\"a\":[1,\"x\"],\"b\":{},\"c\":[]}", SrslyJson.Serialize(tree, indent: 0));
    }

    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(1.0, "1.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(-1.5, "-1.5")]
    [InlineData(2.0 / 3.0, "0.6666666667")]
    [InlineData(1.23456789012345, "1.2345678901")]
    [InlineData(0.0000000348, "0.0000000348")]
    [InlineData(26.9849920089, "26.9849920089")]
    [InlineData(123456789.125, "123456789.125")]
    [InlineData(0.99999999999, "1.0")] // the fraction rounds up into the whole part
    [InlineData(1e-11, "0.0")]
    [InlineData(-1e-12, "-0.0")] // ujson keeps the sign of a negative number that rounds to zero
    [InlineData(1e16, "10000000000000000.0")] // ujson's threshold 1e16 - 1 rounds to 1e16 as a double
    [InlineData(2e16, "2.000000000000000e+16")]
    [InlineData(-2.5e20, "-2.500000000000000e+20")]
    public void Floats_have_at_most_ten_decimals_and_keep_a_point(double value, string expected)
    {
        Assert.Equal(expected, SrslyJson.FormatDouble(value));
        Assert.Equal(expected, SrslyJson.Serialize(JsonValue.Create(value)));
    }

    [Theory]
    [InlineData(2.5, "2")] // an exact half rounds to even with no decimals
    [InlineData(3.5, "4")]
    [InlineData(2.6, "3")]
    public void Precision_zero_rounds_to_a_whole_number_without_a_point(double value, string expected) =>
        Assert.Equal(expected, SrslyJson.FormatDouble(value, precision: 0));

    [Fact]
    public void Nan_and_infinity_are_refused_as_ujson_refuses_them()
    {
        Assert.Throws<ArgumentException>(() => SrslyJson.FormatDouble(double.NaN));
        Assert.Throws<ArgumentException>(() => SrslyJson.Serialize(JsonValue.Create(double.PositiveInfinity)));
    }

    [Theory]
    [InlineData("0.0", "0.0")]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("1e2", "100.0")]
    [InlineData("2.50", "2.5")]
    [InlineData("9223372036854775807", "9223372036854775807")]
    [InlineData("18446744073709551615", "18446744073709551615")]
    public void Parsed_numbers_stay_integers_or_floats_as_ujson_reads_them(string text, string expected)
    {
        var tree = SrslyJson.Parse(Encoding.UTF8.GetBytes(text), "test.json");

        Assert.Equal(expected, SrslyJson.Serialize(tree));
    }

    [Fact]
    public void Integer_beyond_uint64_cannot_be_written()
    {
        var tree = SrslyJson.Parse("18446744073709551616"u8.ToArray(), "test.json");

        Assert.Throws<ArgumentException>(() => SrslyJson.Serialize(tree));
    }

    [Theory]
    [InlineData("caf\u00e9", "\"caf\\u00e9\"")]
    [InlineData("\U0001F600", "\"\\ud83d\\ude00\"")] // above U+FFFF: the surrogate pair, lowercase
    [InlineData("a/b <&> \u007f", "\"a/b <&> \u007f\"")] // no escaping of '/', HTML characters or DEL
    [InlineData("\"\\\b\f\n\r\t", "\"\\\"\\\\\\b\\f\\n\\r\\t\"")]
    [InlineData("\u0000\u0001\u001f", "\"\\u0000\\u0001\\u001f\"")]
    [InlineData("\u2028\uFEFF", "\"\\u2028\\ufeff\"")]
    public void Strings_are_ascii_with_lowercase_unicode_escapes(string value, string expected)
    {
        Assert.Equal(expected, SrslyJson.Serialize(JsonValue.Create(value)));
        Assert.Equal("{\n  " + expected + ":1\n}", SrslyJson.Serialize(new JsonObject { [value] = 1 }));
    }

    [Fact]
    public void Escaped_strings_read_back_to_the_same_text_and_bytes()
    {
        var bytes = "[\n  \"\\ud83d\\ude00\",\n  \"caf\\u00e9\",\n  \"a/b\"\n]"u8.ToArray();

        var tree = SrslyJson.Parse(bytes, "test.json")!.AsArray();

        Assert.Equal("\U0001F600", tree[0]!.GetValue<string>());
        Assert.Equal("caf\u00e9", tree[1]!.GetValue<string>());
        Assert.Equal(bytes, SrslyJson.ToBytes(tree));
        Assert.Equal(bytes, SrslyJson.ToBytes(["\U0001F600", "caf\u00e9", "a/b"]));
    }

    [Fact]
    public void Key_order_is_kept()
    {
        var bytes = "{\n  \"z\":1,\n  \"a\":2,\n  \"m\":3\n}"u8.ToArray();

        Assert.Equal(bytes, SrslyJson.ToBytes(SrslyJson.Parse(bytes, "test.json")));
    }

    [Fact]
    public void Malformed_json_is_PRD2412_with_line_and_column()
    {
        var bytes = "{\n  \"a\":1,\n  \"b\" 2\n}"u8.ToArray();

        var e = Assert.Throws<SpacyPipelineException>(() => SrslyJson.Parse(bytes, "/p/meta.json"));

        Assert.Equal("PRD2412", e.Code);
        Assert.Equal("/p/meta.json", e.Path);
        Assert.Contains("line 3, column 7", e.Reason);
    }

    [Fact]
    public void Column_counts_characters_not_bytes()
    {
        var bytes = Encoding.UTF8.GetBytes("[\"\u00e9\u00e9\" x]");

        var e = Assert.Throws<SpacyPipelineException>(() => SrslyJson.Parse(bytes, "f.json"));

        Assert.Contains("line 1, column 7", e.Reason);
    }

    [Fact]
    public void Duplicate_key_is_PRD2412()
    {
        var e = Assert.Throws<SpacyPipelineException>(() => SrslyJson.Parse("{\n  \"a\":1,\n  \"a\":2\n}"u8.ToArray(), "cfg"));

        Assert.Equal("PRD2412", e.Code);
        Assert.Contains("'a'", e.Reason);
        Assert.DoesNotContain("line 1, column 1", e.Reason); // no made-up position
    }
}
