using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>Loading whole pipeline folders: what a user gets for a folder that is not what config.cfg says.</summary>
public sealed class SpacyPipelineLoadTests
{
    private static SpacyPipelineException LoadChanged(string pipeline, Action<string> change)
    {
        var copy = PipelineTestContexts.CopyOf(pipeline);
        try
        {
            change(copy);
            return Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(copy));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static void Replace(string file, string from, string to)
    {
        var text = File.ReadAllText(file);
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(file, text.Replace(from, to, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_shared_pipeline_loads_with_its_components_in_pipeline_order()
    {
        foreach (var name in SharedPipelines.Names)
        {
            var nlp = SpacyPipeline.Load(SharedPipelines.Folder(name));
            Assert.Equal(nlp.Config.StringList("nlp", "pipeline"), nlp.Components.Select(c => c.Name));
            Assert.All(nlp.Components, c => Assert.NotNull(c.Model));
        }
    }

    [Fact]
    public void A_config_that_builds_another_tree_than_the_model_file_is_PRD2402_naming_the_model()
    {
        var error = LoadChanged("ner", copy => Replace(Path.Combine(copy, "config.cfg"), "depth = 4", "depth = 3"));
        Assert.Equal("PRD2402", error.Code);
        Assert.EndsWith(Path.Combine("tok2vec", "model"), error.Path, StringComparison.Ordinal);
        Assert.Contains("59 nodes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_architecture_this_SDK_does_not_run_is_PRD2405_naming_it()
    {
        var error = LoadChanged("textcat", copy => Replace(Path.Combine(copy, "config.cfg"), "spacy.TextCatBOW.v2", "spacy.TextCatCNN.v2"));
        Assert.Equal("PRD2405", error.Code);
        Assert.Contains("spacy.TextCatCNN.v2", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("config.cfg", error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void A_factory_this_SDK_does_not_run_is_PRD2404_naming_it()
    {
        var error = LoadChanged("textcat", copy => Replace(Path.Combine(copy, "config.cfg"), "factory = \"textcat\"", "factory = \"parser\""));
        Assert.Equal("PRD2404", error.Code);
        Assert.Contains("'parser'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_model_file_is_PRD2401_with_its_path()
    {
        string? model = null;
        var error = LoadChanged("ner", copy =>
        {
            model = Path.Combine(copy, "ner", "model");
            File.WriteAllBytes(model, File.ReadAllBytes(model)[..1000]);
        });
        Assert.Equal("PRD2401", error.Code);
        Assert.Equal(model, error.Path);
    }

    [Fact]
    public void A_missing_vocab_file_is_PRD2411_with_its_path()
    {
        string? strings = null;
        var error = LoadChanged("spancat", copy =>
        {
            strings = Path.Combine(copy, "vocab", "strings.json");
            File.Delete(strings);
        });
        Assert.Equal("PRD2411", error.Code);
        Assert.Equal(strings, error.Path);
    }

    [Fact]
    public void A_folder_without_config_is_PRD2407()
    {
        var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(SharedPipelines.Root));
        Assert.Equal("PRD2407", error.Code);
    }

    [Fact]
    public void A_folder_in_spaCys_package_layout_loads_its_name_version_folder()
    {
        var package = Path.Combine(Path.GetTempPath(), $"prodigy-package-{Guid.NewGuid():N}", "en_fashion_ner");
        var data = Path.Combine(package, "en_fashion_ner-1.2.0");
        try
        {
            var copy = PipelineTestContexts.CopyOf("ner");
            Directory.CreateDirectory(package);
            Directory.Move(copy, data);
            File.WriteAllText(Path.Combine(package, "__init__.py"), "");
            File.Copy(Path.Combine(data, "meta.json"), Path.Combine(package, "meta.json"));

            Assert.True(SpacyPipeline.IsPipelineFolder(package));
            var nlp = SpacyPipeline.Load(package);
            Assert.Equal(data, nlp.Directory);
            Assert.Equal(["tok2vec", "ner"], nlp.Components.Select(c => c.Name));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(package)!, recursive: true);
        }
    }
}
