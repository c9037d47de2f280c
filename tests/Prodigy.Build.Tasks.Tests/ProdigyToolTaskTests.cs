using Prodigy.Build.Tasks.Incremental;
using System.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Prodigy.Build.Tasks.Tests;

public sealed class ProdigyToolTaskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-tasks-").FullName;
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Canonical_error_lines_become_errors_with_file_line_and_column()
    {
        var task = DataToSpacy();

        task.LogToolLine("/data/train.jsonl(3,14): error PRD2001: line 3 is not valid JSON", MessageImportance.Normal);
        task.LogToolLine("/data/train.jsonl(9,1): warning PRD2010: span [4, 9) does not align with tokens", MessageImportance.Normal);
        task.LogToolLine("prodigy-build: error PRD2000: unknown option '--x'", MessageImportance.Normal);
        task.LogToolLine("Wrote 120 training and 30 evaluation examples", MessageImportance.Normal);

        var errors = _engine.Errors.ToArray();
        Assert.Equal(2, errors.Length);
        Assert.Equal(("PRD2001", "/data/train.jsonl", 3, 14, "line 3 is not valid JSON"), (errors[0].Code, errors[0].File, errors[0].LineNumber, errors[0].ColumnNumber, errors[0].Message));
        Assert.Equal("PRD2000", errors[1].Code);
        Assert.Equal("test.proj", errors[1].File); // no file of its own: MSBuild names the project
        Assert.Equal(0, errors[1].LineNumber);
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal(("PRD2010", "/data/train.jsonl", 9, 1), (warning.Code, warning.File, warning.LineNumber, warning.ColumnNumber));
        Assert.Contains(_engine.Messages, m => m.Message == "Wrote 120 training and 30 evaluation examples" && m.Importance == MessageImportance.Normal);
    }

    [Fact]
    public void Data_to_spacy_writes_one_argument_per_line()
    {
        var task = DataToSpacy(
            Dataset("/d/fashion train.jsonl", "ner"),
            Dataset("/d/fashion_eval.jsonl", "ner", eval: "true"),
            Dataset("/d/spans.jsonl", "spancat", spansKey: "sc"),
            Dataset("/d/topics.jsonl", "textcat_multilabel", eval: "False"));
        task.Lang = "de";
        task.EvalSplit = "0.25";
        task.Seed = "7";
        task.Optimize = "accuracy";
        task.Gpu = true;
        task.Config = "/d/my config.cfg";

        var lines = task.ResponseFileText().Split('\n');

        Assert.Equal(
            [
                "--output", Path.GetFullPath("/out/corpus"),
                "--lang", "de",
                "--eval-split", "0.25",
                "--seed", "7",
                "--optimize", "accuracy",
                "--gpu",
                "--config", "/d/my config.cfg",
                "--dataset", "ner:" + Path.GetFullPath("/d/fashion train.jsonl"),
                "--eval-dataset", "ner:" + Path.GetFullPath("/d/fashion_eval.jsonl"),
                "--dataset", "spancat[sc]:" + Path.GetFullPath("/d/spans.jsonl"),
                "--dataset", "textcat_multilabel:" + Path.GetFullPath("/d/topics.jsonl"),
                "",
            ],
            lines);
        Assert.Equal($"exec {Quote(task.ToolAssembly)} data-to-spacy", task.CommandLineText());
    }

    [Fact]
    public void Data_to_spacy_leaves_out_empty_options()
    {
        var task = DataToSpacy(Dataset("/d/a.jsonl", "textcat"));

        Assert.Equal(["--output", Path.GetFullPath("/out/corpus"), "--dataset", "textcat:" + Path.GetFullPath("/d/a.jsonl"), ""], task.ResponseFileText().Split('\n'));
    }

    [Fact]
    public void Spacy_config_writes_the_pipeline_once_per_component()
    {
        var task = new ProdigySpacyConfig
        {
            BuildEngine = _engine,
            ToolAssembly = "/tool/Prodigy.Build.Tool.dll",
            OutputFile = "/out/config.cfg",
            Pipeline = ["ner", "textcat", "ner"],
            Lang = "en",
            Optimize = "efficiency",
        };

        Assert.Equal(
            ["--output", Path.GetFullPath("/out/config.cfg"), "--lang", "en", "--pipeline", "ner,textcat", "--optimize", "efficiency", ""],
            task.ResponseFileText().Split('\n'));
    }

    [Fact]
    public void A_missing_tool_is_error_PRD1001()
    {
        var task = DataToSpacy(Dataset(WriteDataset("a.jsonl", "{}"), "ner"));
        task.ToolAssembly = Path.Combine(_dir, "missing", "Prodigy.Build.Tool.dll");

        Assert.False(task.Execute());

        var error = Assert.Single(_engine.Errors);
        Assert.Equal("PRD1001", error.Code);
        Assert.Contains(task.ToolAssembly, error.Message);
    }

    [Fact]
    public void An_unknown_component_is_error_PRD1011()
    {
        var task = DataToSpacy(Dataset("/d/a.jsonl", "tagger"));
        task.ToolAssembly = TestPaths.FakeTool;

        Assert.False(task.Execute());

        Assert.Equal("PRD1011", Assert.Single(_engine.Errors).Code);
    }

    [Fact]
    public void Runs_the_tool_and_streams_its_output()
    {
        var task = DataToSpacy(Dataset(WriteDataset("a.jsonl", "{\"text\": \"hi\"}"), "ner"));
        task.ToolAssembly = TestPaths.FakeTool;
        task.OutputDirectory = Path.Combine(_dir, "corpus");

        Assert.True(task.Execute(), _engine.Log);

        Assert.Empty(_engine.Errors);
        Assert.True(File.Exists(Path.Combine(_dir, "corpus", "train.spacy")), _engine.Log);
        Assert.Contains(_engine.Messages, m => m.Message!.StartsWith("fake prodigy-build data-to-spacy: --output", StringComparison.Ordinal));
        Assert.Equal(1, _engine.Yields);
    }

    [Fact]
    public void A_tool_error_fails_the_task_with_the_tools_location()
    {
        var dataset = WriteDataset("a.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"FAKE_ERROR\"}");
        var task = DataToSpacy(Dataset(dataset, "ner"));
        task.ToolAssembly = TestPaths.FakeTool;
        task.OutputDirectory = Path.Combine(_dir, "corpus");

        Assert.False(task.Execute());

        var error = Assert.Single(_engine.Errors);
        Assert.Equal(("PRD2901", dataset, 2, 11), (error.Code, error.File, error.LineNumber, error.ColumnNumber));
    }

    [Fact]
    public void A_silent_tool_failure_is_error_PRD1003()
    {
        var task = DataToSpacy(Dataset(WriteDataset("a.jsonl", "FAKE_SILENT_FAIL"), "ner"));
        task.ToolAssembly = TestPaths.FakeTool;

        Assert.False(task.Execute());

        Assert.Equal("PRD1003", Assert.Single(_engine.Errors).Code);
    }

    [Fact]
    public void A_tool_past_its_timeout_is_stopped_with_error_PRD1004()
    {
        var task = DataToSpacy(Dataset(WriteDataset("a.jsonl", "FAKE_SLOW"), "ner"));
        task.ToolAssembly = TestPaths.FakeTool;
        task.TimeoutSeconds = 2;
        var stopwatch = Stopwatch.StartNew();

        Assert.False(task.Execute());

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), stopwatch.Elapsed.ToString());
        Assert.Equal("PRD1004", Assert.Single(_engine.Errors).Code);
    }

    // /proc/self/status's SigIgn: the mask of ignored signals, bit 1 (value 2) for SIGINT.
    private static bool SigIntIgnored()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var mask)
            && (mask & 0x2) != 0;
    }

    [SkippableFact]
    public async System.Threading.Tasks.Task Cancel_asks_the_tool_to_stop_before_killing_it()
    {
        // A process started with SIGINT ignored (a background job of a shell without job control, or
        // nohup) passes that on to the tool, which then cannot see the interrupt; the task still kills
        // it after the grace period, but the graceful stop this test checks cannot happen there.
        Skip.If(SigIntIgnored(), "SIGINT is ignored in this process (started in the background or under nohup), and so in the tool it starts");
        var task = DataToSpacy(Dataset(WriteDataset("a.jsonl", "FAKE_SLOW"), "ner"));
        task.ToolAssembly = TestPaths.FakeTool;
        task.CancelGraceSeconds = 20;
        var run = System.Threading.Tasks.Task.Run(task.Execute);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!_engine.Messages.Any(m => m.Message == "fake: working slowly") && DateTime.UtcNow < deadline)
        {
            await System.Threading.Tasks.Task.Delay(50);
        }

        var stopwatch = Stopwatch.StartNew();
        task.Cancel();

        var finished = await System.Threading.Tasks.Task.WhenAny(run, System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(15)));
        Assert.True(finished == run, _engine.Log);
        Assert.False(await run);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15));
        if (!OperatingSystem.IsWindows())
        {
            // The tool saw the interrupt and stopped by itself, well within the grace period.
            Assert.Contains(_engine.Messages, m => m.Message == "fake: cancelled");
        }

        Assert.Empty(_engine.Errors);
    }

    private ProdigyDataToSpacy DataToSpacy(params ITaskItem[] datasets) => new()
    {
        BuildEngine = _engine,
        ToolAssembly = "/tool/Prodigy.Build.Tool.dll",
        OutputDirectory = Path.GetFullPath("/out/corpus"),
        Datasets = datasets,
    };

    private static TaskItem Dataset(string path, string component, string? eval = null, string? spansKey = null)
    {
        var item = new TaskItem(path);
        item.SetMetadata("ProdigyComponent", component);
        if (eval is not null)
        {
            item.SetMetadata("Eval", eval);
        }

        if (spansKey is not null)
        {
            item.SetMetadata("SpansKey", spansKey);
        }

        return item;
    }

    private string WriteDataset(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Quote(string path) => path.Contains(' ') ? $"\"{path}\"" : path;
}

/// <summary>What the train stage hashes of a base model: all of a spaCy pipeline folder, whose components are sourced with their weights.</summary>
public sealed class ProdigyTrainStageInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-train-inputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private IReadOnlyList<string> BaseModelInputs(string baseModel)
    {
        var task = new ProdigyTrain { ConfigFile = "c.cfg", TrainFile = "t.spacy", DevFile = "d.spacy", OutputDirectory = "out", BaseModel = baseModel };
        return task.GetStageInputs(FileHashCache.Load(Path.Combine(_dir, "cache.json")))!.Where(i => i.Role == "base model").Select(i => i.FullPath).ToList();
    }

    [Fact]
    public void Every_file_of_a_spaCy_pipeline_base_model_is_an_input()
    {
        var folder = Path.Combine(_dir, "model-best");
        foreach (var file in new[] { "config.cfg", "meta.json", "tokenizer", "vocab/strings.json", "ner/model", "ner/moves", "tok2vec/model" })
        {
            var path = Path.Combine(folder, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file);
        }

        var inputs = BaseModelInputs(folder);

        Assert.Equal(7, inputs.Count);
        Assert.Contains(Path.Combine(folder, "ner", "model"), inputs);
        Assert.Contains(Path.Combine(folder, "tok2vec", "model"), inputs);
    }

    [Fact]
    public void A_TorchSharp_format_base_model_is_its_weights_labels_config_and_rules()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "old")).FullName;
        foreach (var file in new[] { "weights.bin", "labels.json", "config.cfg", "meta.json" })
        {
            File.WriteAllText(Path.Combine(folder, file), file);
        }

        Assert.Equal(["weights.bin", "labels.json", "config.cfg"], BaseModelInputs(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void The_vectors_table_and_its_keys_are_inputs_wherever_the_package_keeps_its_vocab()
    {
        // The package layout: en_core_web_lg/en_core_web_lg-3.5.0/vocab/...; the rest of the folder is not read for vectors.
        var folder = Path.Combine(_dir, "en_vectors");
        foreach (var file in new[] { "en_vectors-1.0.0/vocab/vectors", "en_vectors-1.0.0/vocab/key2row", "en_vectors-1.0.0/vocab/vectors.cfg", "en_vectors-1.0.0/vocab/strings.json", "en_vectors-1.0.0/ner/model", "meta.json" })
        {
            var path = Path.Combine(folder, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, file);
        }

        var task = new ProdigyTrain { ConfigFile = "c.cfg", TrainFile = "t.spacy", DevFile = "d.spacy", OutputDirectory = "out", Vectors = folder };
        var inputs = task.GetStageInputs(FileHashCache.Load(Path.Combine(_dir, "cache.json")))!.Where(i => i.Role == "vectors").Select(i => Path.GetFileName(i.FullPath)).ToList();
        Assert.Equal(["key2row", "vectors", "vectors.cfg"], inputs);

        var arguments = task.BuildArguments().ToList();
        Assert.Equal(Path.GetFullPath(folder), arguments[arguments.IndexOf("--vectors") + 1]);
    }
}
