using System.Xml.Linq;
namespace Prodigy.Build.Sdk.Tests;

/// <summary>The targets with the fake tool: what is passed, incrementality, clean, design-time builds.</summary>
public sealed class DataToSpacyTargetTests : IDisposable
{
    private const string Line = """{"text": "Hello"}""";
    private readonly ProjectBuilder _project = ProjectBuilder.Create();

    public void Dispose() => _project.Dispose();

    [Theory]
    [InlineData("NerDataset", "ner")]
    [InlineData("TextcatDataset", "textcat")]
    [InlineData("TextcatMultilabelDataset", "textcat_multilabel")]
    [InlineData("SpancatDataset", "spancat[sc]")]
    public void Each_item_type_builds_a_corpus(string itemType, string component)
    {
        _project.File("data/a.jsonl", Line).Item(itemType, "data/a.jsonl");

        var outcome = _project.Build().ShouldSucceed();

        Assert.Equal(1, outcome.DataToSpacyRuns);
        var labels = component.Split('[')[0];
        foreach (var file in new[] { "train.spacy", "dev.spacy", "config.cfg", $"labels/{labels}.json" })
        {
            Assert.True(File.Exists(Path.Combine(_project.CorpusDir, file)), $"{file} is missing.\n{outcome.Log}");
        }

        Assert.Contains($"--dataset {component}:{Path.Combine(_project.Directory, "data", "a.jsonl")}", Train(), StringComparison.Ordinal);
    }

    [Fact]
    public void Eval_metadata_passes_an_evaluation_dataset()
    {
        _project.File("data/train.jsonl", Line).File("data/eval.jsonl", Line)
            .Item("NerDataset", "data/train.jsonl")
            .Item("NerDataset", "data/eval.jsonl", ("Eval", "true"));

        _project.Build().ShouldSucceed();

        Assert.Contains("--dataset ner:" + Path.Combine(_project.Directory, "data", "train.jsonl"), Train(), StringComparison.Ordinal);
        Assert.Contains("--eval-dataset ner:" + Path.Combine(_project.Directory, "data", "eval.jsonl"), Train(), StringComparison.Ordinal);
    }

    [Fact]
    public void Several_item_types_and_globs_make_one_pipeline_with_the_settings()
    {
        _project.File("data/ner.jsonl", Line).File("data/topics/a.jsonl", Line).File("data/topics/b.jsonl", Line).File("data/spans.jsonl", Line)
            .Property("ProdigyLang", "de")
            .Property("ProdigyEvalSplit", "0.3")
            .Property("ProdigySeed", "42")
            .Property("ProdigyOptimize", "accuracy")
            .Property("ProdigyGpu", "true")
            .Item("NerDataset", "data/ner.jsonl")
            .Item("TextcatMultilabelDataset", "data/topics/*.jsonl")
            .Item("SpancatDataset", "data/spans.jsonl", ("SpansKey", "chunks"));

        var outcome = _project.Build().ShouldSucceed();

        var train = Train();
        Assert.Contains("--dataset textcat_multilabel:" + Path.Combine(_project.Directory, "data", "topics", "b.jsonl"), train, StringComparison.Ordinal);
        Assert.Contains("--dataset spancat[chunks]:", train, StringComparison.Ordinal);
        foreach (var option in new[] { "--lang de\n", "--eval-split 0.3\n", "--seed 42\n", "--optimize accuracy\n", "--gpu" })
        {
            Assert.Contains(option, train, StringComparison.Ordinal);
        }

        Assert.True(File.Exists(Path.Combine(_project.CorpusDir, "labels", "textcat_multilabel.json")), outcome.Log);
        Assert.True(File.Exists(Path.Combine(_project.CorpusDir, "labels", "spancat.json")), outcome.Log);
    }

    [Fact]
    public void A_second_build_skips_the_tool_and_a_changed_input_reruns_it()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl");

        Assert.Equal(1, _project.Build().ShouldSucceed().DataToSpacyRuns);
        var second = _project.Build().ShouldSucceed();
        Assert.Equal(0, second.DataToSpacyRuns);
        Assert.True(File.Exists(Path.Combine(_project.CorpusDir, "train.spacy")), second.Log);

        File.AppendAllText(Path.Combine(_project.Directory, "data", "a.jsonl"), "\n" + Line);
        Assert.Equal(1, _project.Build().ShouldSucceed().DataToSpacyRuns);
    }

    [Fact]
    public void A_spaCy_pipeline_as_ProdigyBaseModel_tokenizes_the_corpus_and_its_tokenizer_is_a_stage_input()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl")
            .File("en_pipeline/tokenizer", "rules").File("en_pipeline/meta.json", """{"lang": "en"}""")
            .Property("ProdigyBaseModel", "en_pipeline");

        Assert.Equal(1, _project.Build().ShouldSucceed().DataToSpacyRuns);
        Assert.Contains("--tokenizer " + Path.Combine(_project.Directory, "en_pipeline") + Path.DirectorySeparatorChar + "\n", Train(), StringComparison.Ordinal);
        Assert.Equal(0, _project.Build().ShouldSucceed().DataToSpacyRuns);

        _project.File("en_pipeline/tokenizer", "other rules");
        Assert.Equal(1, _project.Build().ShouldSucceed().DataToSpacyRuns);
    }

    [Fact]
    public void A_model_of_this_SDK_as_ProdigyBaseModel_tokenizes_the_corpus_with_the_rules_it_ships()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl")
            .File("old/model-best/weights.bin", "w").File("old/model-best/tokenizer.rules.json", "{}")
            .Property("ProdigyBaseModel", "old/model-best");

        _project.Build().ShouldSucceed();

        Assert.Contains("--tokenizer " + Path.Combine(_project.Directory, "old", "model-best", "tokenizer.rules.json") + "\n", Train(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_property_or_dataset_list_reruns_the_tool()
    {
        _project.File("data/a.jsonl", Line).File("data/b.jsonl", Line).Item("NerDataset", "data/a.jsonl");
        _project.Build().ShouldSucceed();

        var seed = new Dictionary<string, string> { ["ProdigySeed"] = "5" };
        Assert.Equal(1, _project.Build(globalProperties: seed).ShouldSucceed().DataToSpacyRuns);
        Assert.Contains("--seed 5\n", Train(), StringComparison.Ordinal);
        Assert.Equal(0, _project.Build(globalProperties: seed).ShouldSucceed().DataToSpacyRuns);

        _project.Item("NerDataset", "data/b.jsonl", ("Eval", "true"));
        Assert.Equal(1, _project.Build(globalProperties: seed).ShouldSucceed().DataToSpacyRuns);
        Assert.Contains("--eval-dataset ner:", Train(), StringComparison.Ordinal);
    }

    [Fact]
    public void Clean_removes_the_outputs_also_when_the_last_build_skipped_the_tool()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl");
        _project.Build().ShouldSucceed();
        _project.Build().ShouldSucceed();

        var outcome = _project.Build("Clean").ShouldSucceed();

        Assert.False(Directory.Exists(_project.CorpusDir) && Directory.EnumerateFiles(_project.CorpusDir, "*", SearchOption.AllDirectories).Any(), outcome.Log);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_project.Directory, "obj", "Debug"), "prodigy.*"));
    }

    [Fact]
    public void Clean_removes_a_corpus_folder_outside_bin()
    {
        _project.File("data/a.jsonl", Line).Property("ProdigyCorpusDir", "corpus").Item("NerDataset", "data/a.jsonl");
        _project.Build().ShouldSucceed();
        var train = Path.Combine(_project.Directory, "corpus", "train.spacy");
        Assert.True(File.Exists(train));

        _project.Build("Clean").ShouldSucceed();

        Assert.False(File.Exists(train));
    }

    [Fact]
    public void A_design_time_build_does_not_run_the_tool()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl");

        var outcome = _project.Build(globalProperties: new Dictionary<string, string> { ["DesignTimeBuild"] = "true", ["SkipCompilerExecution"] = "true", ["ProvideCommandLineArgs"] = "true" })
            .ShouldSucceed();

        Assert.Equal(0, outcome.DataToSpacyRuns);
        Assert.False(File.Exists(Path.Combine(_project.CorpusDir, "train.spacy")));
        // Nothing was hashed or locked either.
        Assert.False(File.Exists(Path.Combine(_project.Directory, "obj", "Debug", "prodigy.hashes")), outcome.Log);
        Assert.False(File.Exists(Path.Combine(_project.Directory, "obj", "Debug", "prodigy.lock")), outcome.Log);
        Assert.DoesNotContain(outcome.Messages, m => m.StartsWith("corpus:", StringComparison.Ordinal));
    }

    [Fact]
    public void ProdigyDataToSpacyOnBuild_false_leaves_the_corpus_to_the_DataToSpacy_target()
    {
        _project.File("data/a.jsonl", Line).Property("ProdigyDataToSpacyOnBuild", "false").Item("NerDataset", "data/a.jsonl");

        Assert.Equal(0, _project.Build().ShouldSucceed().DataToSpacyRuns);
        Assert.Equal(1, _project.Build("DataToSpacy").ShouldSucceed().DataToSpacyRuns);
        Assert.True(File.Exists(Path.Combine(_project.CorpusDir, "train.spacy")));
    }

    [Fact]
    public void Build_makes_no_assembly()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl");

        var outcome = _project.Build().ShouldSucceed();

        var outputs = Directory.EnumerateFiles(Path.Combine(_project.Directory, "bin"), "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(_project.Directory, "obj"), "*.dll", SearchOption.AllDirectories))
            .Where(f => !f.StartsWith(_project.CorpusDir, StringComparison.Ordinal))
            .ToList();
        Assert.True(outputs.Count == 0, string.Join("\n", outputs) + "\n" + outcome.Log);
    }

    [Fact]
    public void Targets_that_others_add_to_CoreBuildDependsOn_still_run_and_nothing_is_compiled()
    {
        // What another SDK, a package's build targets or Directory.Build.targets does (after
        // Microsoft.Common's targets have set the list): append a target to it.
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl")
            .File("Ignored.cs", "this is not C# and would fail a compile")
            .File("Directory.Build.targets", """
                <Project>
                  <PropertyGroup><CoreBuildDependsOn>$(CoreBuildDependsOn);AddedByAnotherSdk</CoreBuildDependsOn></PropertyGroup>
                  <Target Name="AddedByAnotherSdk"><Message Importance="high" Text="added target ran" /></Target>
                </Project>
                """);

        var outcome = _project.Build().ShouldSucceed();

        Assert.Contains("added target ran", outcome.Messages);
        Assert.Equal(1, outcome.DataToSpacyRuns);
        var dependsOn = _project.Evaluate().GetPropertyValue("CoreBuildDependsOn").Split(';');
        Assert.Contains("AddedByAnotherSdk", dependsOn);
        Assert.Contains("_CheckForBuildWithNoBuild", dependsOn);
        Assert.DoesNotContain("Compile", dependsOn);
        Assert.True(Array.IndexOf(dependsOn, "_ProdigyTrainOnBuild") < Array.IndexOf(dependsOn, "IncrementalClean"), string.Join(";", dependsOn));
    }

    [Fact]
    public void The_hook_targets_run_around_DataToSpacy()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl")
            .Xml("""<Target Name="BeforeDataToSpacy"><Message Importance="high" Text="before hook" /></Target>""")
            .Xml("""<Target Name="AfterDataToSpacy"><Message Importance="high" Text="after hook: @(ProdigyCorpusFile->'%(Filename)%(Extension)')" /></Target>""");

        var outcome = _project.Build().ShouldSucceed();

        var before = outcome.Messages.ToList().IndexOf("before hook");
        var tool = outcome.Messages.ToList().IndexOf("prodigy-build data-to-spacy");
        var after = outcome.Messages.ToList().FindIndex(m => m.StartsWith("after hook: train.spacy;dev.spacy;config.cfg;ner.json", StringComparison.Ordinal));
        Assert.True(before >= 0 && before < tool && tool < after, outcome.Log);
    }

    [Fact]
    public void SpacyConfig_writes_only_the_config()
    {
        _project.File("data/a.jsonl", Line).File("data/b.jsonl", Line)
            .Item("NerDataset", "data/a.jsonl").Item("TextcatDataset", "data/b.jsonl");

        var outcome = _project.Build("SpacyConfig").ShouldSucceed();

        Assert.Contains("""pipeline = ["ner","textcat"]""", File.ReadAllText(_project.SpacyConfigFile), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_project.CorpusDir, "train.spacy")), outcome.Log);
    }

    [Fact]
    public void SpacyConfig_takes_ProdigyPipeline_without_datasets()
    {
        _project.Property("ProdigyPipeline", "spancat,ner");

        _project.Build("SpacyConfig").ShouldSucceed();

        Assert.Contains("""pipeline = ["spancat","ner"]""", File.ReadAllText(_project.SpacyConfigFile), StringComparison.Ordinal);
    }

    [Fact]
    public void The_item_types_are_available_item_names()
    {
        var project = _project.Evaluate();

        var names = project.GetItems("AvailableItemName").Select(i => i.EvaluatedInclude).ToList();
        Assert.Subset(names.ToHashSet(), new HashSet<string> { "NerDataset", "TextcatDataset", "TextcatMultilabelDataset", "SpancatDataset" });
        Assert.Equal("en", project.GetPropertyValue("ProdigyLang"));
        Assert.Equal("net10.0", project.GetPropertyValue("TargetFramework"));
        project.ProjectCollection.UnloadAllProjects();
    }

    [Fact]
    public void Visual_Studio_gets_a_property_page_rule_per_dataset_type_with_its_metadata()
    {
        var project = _project.Evaluate();
        var schemas = project.GetItems("PropertyPageSchema").Where(i => i.EvaluatedInclude.Contains("Prodigy.Build.Sdk", StringComparison.Ordinal)).ToList();
        var schema = Assert.Single(schemas);
        Assert.Equal("File;BrowseObject", schema.GetMetadataValue("Context"));
        var available = project.GetItems("AvailableItemName").Select(i => i.EvaluatedInclude).ToHashSet();
        project.ProjectCollection.UnloadAllProjects();

        XNamespace ns = "http://schemas.microsoft.com/build/2009/properties";
        var rules = System.Xml.Linq.XDocument.Load(schema.EvaluatedInclude).Root!.Elements(ns + "Rule")
            .ToDictionary(r => (string)r.Attribute("Name")!, r => r);
        Assert.Equal(["ImageDataset", "NerDataset", "SpancatDataset", "TextcatDataset", "TextcatMultilabelDataset"], rules.Keys.Order(StringComparer.Ordinal));
        foreach (var (itemType, rule) in rules)
        {
            Assert.Contains(itemType, available);
            // Each rule reads and writes its own item type, as attributes on the item.
            Assert.All(rule.Descendants(ns + "DataSource").Where(d => d.Attribute("ItemType") is not null), d => Assert.Equal(itemType, (string)d.Attribute("ItemType")!));
            var properties = rule.Elements().Where(e => e.Name.LocalName.EndsWith("Property", StringComparison.Ordinal) && (string?)e.Attribute("Visible") != "false" && (string?)e.Attribute("ReadOnly") != "true")
                .Select(e => (string)e.Attribute("Name")!).Where(n => !n.StartsWith('{')).Order(StringComparer.Ordinal).ToList();
            string[] expected = itemType switch
            {
                "SpancatDataset" => ["Database", "Eval", "SpansKey"],
                "ImageDataset" => ["Database"],
                _ => ["Database", "Eval"],
            };
            Assert.Equal(expected, properties);
        }

        Assert.Equal("false", (string?)rules["NerDataset"].Elements(ns + "BoolProperty").Single(p => (string?)p.Attribute("Name") == "Eval").Attribute("Default"));
        Assert.Equal("sc", (string?)rules["SpancatDataset"].Elements(ns + "StringProperty").Single(p => (string?)p.Attribute("Name") == "SpansKey").Attribute("Default"));
    }

    [Fact]
    public void Datasets_are_inputs_and_the_corpus_an_output_of_the_fast_up_to_date_check()
    {
        _project.File("data/a.jsonl", Line).Item("NerDataset", "data/a.jsonl");

        var project = _project.Evaluate();

        Assert.Contains(project.GetItems("UpToDateCheckInput"), i => i.EvaluatedInclude == "data/a.jsonl");
        Assert.Contains(project.GetItems("UpToDateCheckOutput"), i => i.EvaluatedInclude.EndsWith("train.spacy", StringComparison.Ordinal));
        project.ProjectCollection.UnloadAllProjects();
    }

    private string Train() => File.ReadAllText(Path.Combine(_project.CorpusDir, "train.spacy"));
}
