namespace Prodigy.Build.Tasks.Tests;

public class CanonicalLineTests
{
    [Theory]
    [InlineData(@"C:\data\train.jsonl(3,5): error PRD2001: line is not JSON", true, "PRD2001", @"C:\data\train.jsonl", 3, 5, "line is not JSON")]
    [InlineData("/home/a b/train.jsonl(12,1): warning PRD2010: span does not align", false, "PRD2010", "/home/a b/train.jsonl", 12, 1, "span does not align")]
    [InlineData("data/x.jsonl(7): error PRD2002: no text", true, "PRD2002", "data/x.jsonl", 7, 0, "no text")]
    [InlineData("data/x.jsonl: error PRD2004: the file does not exist", true, "PRD2004", "data/x.jsonl", 0, 0, "the file does not exist")]
    [InlineData("prodigy-build: error PRD2000: unknown option '--x'", true, "PRD2000", null, 0, 0, "unknown option '--x'")]
    [InlineData("  config.cfg(2,3) : Error PRD2020 : bad: value  ", true, "PRD2020", "config.cfg", 2, 3, "bad: value")]
    public void Parses_canonical_lines(string line, bool isError, string code, string? file, int lineNumber, int column, string text)
    {
        var parsed = CanonicalLine.TryParse(line, "prodigy-build");

        Assert.NotNull(parsed);
        Assert.Equal(isError, parsed.IsError);
        Assert.Equal(code, parsed.Code);
        Assert.Equal(file, parsed.File);
        Assert.Equal(lineNumber, parsed.Line);
        Assert.Equal(column, parsed.Column);
        Assert.Equal(text, parsed.Text);
    }

    [Fact]
    public void Parses_end_positions()
    {
        var parsed = CanonicalLine.TryParse("a.jsonl(1,2,3,4): error PRD2100: x");

        Assert.NotNull(parsed);
        Assert.Equal((1, 2, 3, 4), (parsed.Line, parsed.Column, parsed.EndLine, parsed.EndColumn));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Reading 1200 examples from data/train.jsonl")]
    [InlineData("error: something went wrong")]
    [InlineData("Epoch 1: loss 3.2, error 0.1")]
    [InlineData("Labels: error, warning")]
    [InlineData("(3,4): error PRD2001: no origin")]
    [InlineData("data.jsonl(3,4): error: no code")]
    public void Ignores_other_lines(string line) => Assert.Null(CanonicalLine.TryParse(line, "prodigy-build"));
}
