namespace Prodigy.Build.Sdk.Tests;

/// <summary>PRD0xxx errors from the targets, tool errors as MSBuild errors, failed builds keep the corpus.</summary>
public sealed class ErrorTests : IDisposable
{
    private const string Line = """{"text": "Hello"}""";
    private readonly ProjectBuilder _project = ProjectBuilder.Create();

    public void Dispose() => _project.Dispose();

    [Fact]
    public void No_datasets_is_PRD0001()
    {
        var error = _project.Build().ShouldFailWith("PRD0001");

        Assert.Equal(_project.ProjectPath, error.File);
        Assert.Contains("NerDataset", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_dataset_file_is_PRD0002_with_its_path()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl").Item("TextcatDataset", "data/missing.jsonl");

        var error = _project.Build().ShouldFailWith("PRD0002");

        Assert.Contains("TextcatDataset 'data/missing.jsonl'", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_project.Directory, "data", "missing.jsonl"), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ProdigyEvalSplit", "0", "PRD0003")]
    [InlineData("ProdigyEvalSplit", "1", "PRD0003")]
    [InlineData("ProdigyEvalSplit", "1.5", "PRD0003")]
    [InlineData("ProdigyEvalSplit", "-0.2", "PRD0003")]
    [InlineData("ProdigyEvalSplit", "a fifth", "PRD0003")]
    [InlineData("ProdigyOptimize", "speed", "PRD0004")]
    [InlineData("ProdigyConfig", "missing.cfg", "PRD0005")]
    [InlineData("ProdigySeed", "x", "PRD0006")]
    [InlineData("ProdigyGpu", "sometimes", "PRD0007")]
    [InlineData("ProdigyToolTimeoutSeconds", "soon", "PRD0008")]
    public void A_bad_setting_is_an_error_that_names_it(string property, string value, string code)
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl").Property(property, value);

        var error = _project.Build().ShouldFailWith(code);

        Assert.Contains(property, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_project.CorpusDir, "train.spacy")));
    }

    [Theory]
    [InlineData("ProdigyGpuId", "first", "PRD0020")]
    [InlineData("ProdigyTorchBackend", "rocm", "PRD0021")]
    [InlineData("ProdigyGpuId", "0", "PRD0022")]
    [InlineData("ProdigyBaseModel", "old-model", "PRD0023")]
    [InlineData("ProdigyTrainThreads", "many", "PRD0024")]
    [InlineData("ProdigyVectors", "no-such-vectors", "PRD0026")]
    [InlineData("ProdigyTrainerPath", "nowhere/trainer.dll", "PRD0025")]
    [InlineData("ProdigyTrainerPath", "", "PRD0025")]
    public void A_bad_training_setting_is_an_error_that_names_it(string property, string value, string code)
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl").Property(property, value);

        var error = _project.Build("Train").ShouldFailWith(code);

        Assert.Contains(property == "ProdigyGpuId" && code == "PRD0022" ? "ProdigyTorchBackend" : property, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_project.Build("Train").Errors, e => e.Code.StartsWith("CS", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_project.Directory, "bin", "Debug", "model")));
    }

    [Fact]
    public void A_spaCy_pipeline_folder_is_a_valid_ProdigyBaseModel_and_an_empty_folder_names_both_forms()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl")
            .File("en_pipeline/tokenizer", "rules").File("empty/readme.txt", "nothing")
            .Property("ProdigyTrainerPath", "nowhere/trainer.dll");

        // Past the settings' checks: the next error is the missing trainer.
        var accepted = _project.Build("Train", globalProperties: new Dictionary<string, string> { ["ProdigyBaseModel"] = "en_pipeline" });
        Assert.DoesNotContain(accepted.Errors, e => e.Code == "PRD0023");
        accepted.ShouldFailWith("PRD0025");

        var error = _project.Build("Train", globalProperties: new Dictionary<string, string> { ["ProdigyBaseModel"] = "empty" }).ShouldFailWith("PRD0023");
        Assert.Contains("weights.bin", error.Message, StringComparison.Ordinal);
        Assert.Contains("'tokenizer' file", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ProdigyCurveSamples", "0", "PRD0030")]
    [InlineData("ProdigyCurveSamples", "four", "PRD0030")]
    [InlineData("ProdigyCurveSeeds", "0", "PRD0031")]
    [InlineData("ProdigyShowPlot", "sometimes", "PRD0032")]
    public void A_bad_curve_setting_is_an_error_that_names_it(string property, string value, string code)
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl").Property(property, value);

        var outcome = _project.Build("TrainCurve");
        Assert.True(outcome.Errors.Any(e => e.Code == code), string.Join("\n", outcome.Errors.Select(e => e.Code + ": " + e.Message)));
        var error = outcome.ShouldFailWith(code);

        Assert.Contains(property, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.2")]
    [InlineData(".5")]
    [InlineData("0.05")]
    [InlineData("0.999")]
    public void Eval_splits_between_0_and_1_are_accepted(string split)
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl").Property("ProdigyEvalSplit", split);

        _project.Build().ShouldSucceed();
    }

    [Fact]
    public void A_bad_Eval_value_is_PRD0009()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl", ("Eval", "maybe"));

        Assert.Contains("maybe", _project.Build().ShouldFailWith("PRD0009").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_spans_key_is_PRD0010()
    {
        _project.File("data/a.jsonl", Line).Item("SpancatDataset", "data/a.jsonl", ("SpansKey", ""));

        _project.Build().ShouldFailWith("PRD0010");
    }

    [Fact]
    public void An_unknown_pipeline_component_is_PRD0011()
    {
        _project.Property("ProdigyPipeline", "ner,parser");

        Assert.Contains("parser", _project.Build("SpacyConfig").ShouldFailWith("PRD0011").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_task_assembly_or_tool_is_reported()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl")
            .Property("ProdigyToolPath", Path.Combine(_project.Directory, "nowhere", "Prodigy.Build.Tool.dll"));

        var error = _project.Build().ShouldFailWith("PRD1001");

        Assert.Contains("nowhere", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tool_error_line_becomes_an_MSBuild_error_with_file_line_and_column()
    {
        _project.File("data/a.jsonl", Line + "\n" + """{"text": "FAKE_ERROR"}""" + "\n").Item("NerDataset", "data/a.jsonl");

        var error = _project.Build().ShouldFailWith("PRD2901");

        Assert.Equal((Path.Combine(_project.Directory, "data", "a.jsonl"), 2, 11, "fake error"), (error.File, error.LineNumber, error.ColumnNumber, error.Message));
    }

    [Fact]
    public void A_tool_warning_line_becomes_an_MSBuild_warning()
    {
        _project.File("data/a.jsonl", """{"text": "FAKE_WARNING"}""").Item("NerDataset", "data/a.jsonl");

        var outcome = _project.Build().ShouldSucceed();

        var warning = Assert.Single(outcome.Warnings, w => w.Code == "PRD2902");
        Assert.Equal((1, 11), (warning.LineNumber, warning.ColumnNumber));
    }

    [Fact]
    public void A_failed_build_keeps_the_previous_corpus_and_the_next_good_build_reruns()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl");
        _project.Build().ShouldSucceed();
        var train = Path.Combine(_project.CorpusDir, "train.spacy");
        var before = File.ReadAllBytes(train);

        _project.File("data/a.jsonl", """{"text": "FAKE_ERROR"}""");
        _project.Build().ShouldFailWith("PRD2901");
        Assert.Equal(before, File.ReadAllBytes(train));

        _project.File("data/a.jsonl", Line + "\n" + Line);
        Assert.Equal(1, _project.Build().ShouldSucceed().DataToSpacyRuns);
    }

    [Fact]
    public void A_failed_run_after_a_property_change_reruns_next_time()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl");
        _project.Build().ShouldSucceed();

        _project.File("data/b.jsonl", """{"text": "FAKE_ERROR"}""").Item("NerDataset", "data/b.jsonl", ("Eval", "true"));
        _project.Build().ShouldFailWith("PRD2901");
        _project.File("data/b.jsonl", Line);
        File.SetLastWriteTimeUtc(Path.Combine(_project.Directory, "data", "b.jsonl"), DateTime.UtcNow.AddDays(-1));

        Assert.Equal(1, _project.Build().ShouldSucceed().DataToSpacyRuns);
    }
}
