using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks.Tests.Incremental;

public sealed class LockFileTests
{
    private static StageRecord Record(string sdk = "1.2.3", params KeyValuePair<string, string>[] parameters) => new(
        sdk,
        "0123456789abcdef0123456789abcdef",
        parameters,
        [new FileRecord("data/train.jsonl", 1234, "ffffffffffffffffffffffffffffffff", "ner"), new FileRecord("data/eval.jsonl", 0, "00000000000000000000000000000000", "ner eval")],
        [new FileRecord("bin/Debug/corpus/train.spacy", 99, "1e500000000000000000000000000000")]);

    [Fact]
    public void Writes_a_fixed_readable_layout_and_reads_it_back()
    {
        var lockFile = new LockFile();
        lockFile.Set("Debug/corpus", Record(parameters: [new("ProdigyEvalSplit", "0.2"), new("ProdigyLang", "en")]));
        lockFile.Set("Debug/config", Record());

        var yaml = lockFile.ToYaml();

        Assert.Equal(
            """
            # Prodigy.Build.Sdk lock file: what each stage of this project was last built from.
            # Written by the build (stages are skipped while their inputs, parameters and outputs match).
            # Commit it (ProdigyLockFile) to see in a diff what changed; do not edit it.
            version: 1
            stages:
              Debug/config:
                sdk: "1.2.3"
                fingerprint: "0123456789abcdef0123456789abcdef"
                parameters: {}
                inputs:
                  - path: data/train.jsonl
                    role: ner
                    size: 1234
                    hash: "ffffffffffffffffffffffffffffffff"
                  - path: data/eval.jsonl
                    role: ner eval
                    size: 0
                    hash: "00000000000000000000000000000000"
                outputs:
                  - path: bin/Debug/corpus/train.spacy
                    size: 99
                    hash: "1e500000000000000000000000000000"
              Debug/corpus:
                sdk: "1.2.3"
                fingerprint: "0123456789abcdef0123456789abcdef"
                parameters:
                  ProdigyEvalSplit: "0.2"
                  ProdigyLang: en
                inputs:
                  - path: data/train.jsonl
                    role: ner
                    size: 1234
                    hash: "ffffffffffffffffffffffffffffffff"
                  - path: data/eval.jsonl
                    role: ner eval
                    size: 0
                    hash: "00000000000000000000000000000000"
                outputs:
                  - path: bin/Debug/corpus/train.spacy
                    size: 99
                    hash: "1e500000000000000000000000000000"

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            yaml);

        var back = LockFile.Parse(yaml);
        Assert.Equal(["Debug/config", "Debug/corpus"], back.Stages.Keys);
        var corpus = back.Get("Debug/corpus")!;
        Assert.Equal("1.2.3", corpus.Sdk);
        Assert.Equal([new("ProdigyEvalSplit", "0.2"), new("ProdigyLang", "en")], corpus.Parameters);
        Assert.Equal(["data/train.jsonl", "data/eval.jsonl"], corpus.Inputs.Select(i => i.Path));
        Assert.Equal(["ner", "ner eval"], corpus.Inputs.Select(i => i.Role));
        Assert.Equal(1234, corpus.Inputs[0].Size);
        Assert.Equal("1e500000000000000000000000000000", corpus.Outputs[0].Hash);
        Assert.Equal(yaml, back.ToYaml());
    }

    [Theory]
    [InlineData("plain/path.jsonl")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("0.2")]
    [InlineData("-1")]
    [InlineData("")]
    [InlineData(" leading space")]
    [InlineData("trailing space ")]
    [InlineData("a: b")]
    [InlineData("a #comment")]
    [InlineData("- dash")]
    [InlineData("quote \" and \\ backslash")]
    [InlineData("line\nbreak\ttab")]
    [InlineData("données/über/日本.jsonl")]
    [InlineData("C:\\data\\train.jsonl")]
    [InlineData("{braces}")]
    [InlineData("&anchor *alias !tag %directive @at `tick")]
    [InlineData("\u0001 control")]
    public void Every_value_reads_back_as_the_same_string(string value)
    {
        var lockFile = new LockFile();
        lockFile.Set(value.Length == 0 ? "empty" : value, new StageRecord(value, value, [new(value.Length == 0 ? "k" : value, value)], [new FileRecord(value, 1, value, value)], []));

        var back = LockFile.Parse(lockFile.ToYaml());

        var stage = Assert.Single(back.Stages).Value;
        Assert.Equal(value, stage.Sdk);
        Assert.Equal(value, stage.Parameters[0].Value);
        Assert.Equal(value, stage.Inputs[0].Path);
        Assert.Equal(value, stage.Inputs[0].Hash);
    }

    [Theory]
    [InlineData("version: 1\nstages:\n  a: [unclosed\n", 4)] // YamlDotNet reports the end of the stream, where "]" was due
    [InlineData("version: 2\n", 1)]
    [InlineData("stages: {}\n", 1)]
    [InlineData("version: 1\nstages:\n  Debug/corpus:\n    sdk: x\n", 4)]
    [InlineData("version: 1\nstages:\n  s:\n    sdk: x\n    fingerprint: y\n    inputs:\n      - path: a\n        size: big\n        hash: h\n", 8)]
    [InlineData("version: 1\nstages: [1, 2]\n", 2)]
    public void A_broken_lock_file_says_where(string text, int line)
    {
        var error = Assert.Throws<LockFileException>(() => LockFile.Parse(text));

        Assert.Equal(line, error.Line);
        Assert.True(error.Column >= 1, error.Message);
    }

    [Fact]
    public void An_empty_or_missing_file_is_an_empty_lock()
    {
        Assert.Empty(LockFile.Parse("").Stages);
        Assert.Empty(LockFile.Load(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "prodigy.lock")).Stages);
    }
}
