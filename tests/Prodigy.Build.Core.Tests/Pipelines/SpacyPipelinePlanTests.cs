using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>
/// A pipeline planned from config.cfg and labels alone (what a trainer has) and given spaCy's weights
/// through the named params writes the files spaCy wrote, byte for byte: the trees, dims and attrs,
/// the moves (from the training data's label counts), the cfg files and the tokenizer.
/// </summary>
public sealed class SpacyPipelinePlanTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prd-plan-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("ner", "FASHION_BRAND", 728)]
    [InlineData("textcat", null, 0)]
    [InlineData("textcat_multilabel", null, 0)]
    [InlineData("spancat", null, 0)]
    public void Plan_filled_with_spaCys_weights_writes_spaCys_files(string name, string? entityLabel, long tokens)
    {
        var folder = SharedPipelines.Folder(name);
        var loaded = SpacyPipeline.Load(folder);
        var config = ResolvedConfig.Load(Path.Combine(folder, "config.cfg"));
        var plan = SpacyPipelinePlan.Create(config, new SpacyVocab(), component => new ComponentLabels
        {
            Labels = loaded.Components.First(c => c.Name == component).Labels,
            TokenCounts = entityLabel is null ? new Dictionary<string, long>() : new Dictionary<string, long> { [entityLabel] = tokens },
        });

        foreach (var component in plan.Components)
        {
            // The same architecture builds the same tree: the loaded one's node at a planned param's place holds its value.
            var bound = loaded.Components.First(c => c.Name == component.Name).Tree;
            Assert.Equal(bound.Walk().Select(l => l.Name), component.Tree.Walk().Select(l => l.Name));
            Assert.True(component.HasArchitectureOf(bound));
            foreach (var parameter in component.Parameters)
            {
                var value = component.ValueIn(bound, parameter)!;
                Assert.Equal(value.Shape, parameter.Shape);
                parameter.Set(value.ToFloats());
            }
        }

        var target = Path.Combine(_directory, name);
        var meta = (System.Text.Json.Nodes.JsonObject)SrslyJson.Read(Path.Combine(folder, "meta.json"))!;
        plan.Write(target, File.ReadAllText(Path.Combine(folder, "config.cfg")), meta, loaded.Tokenizer.Rules.ToMsgPack());
        foreach (var component in plan.Components)
        {
            // The files spaCy wrote for the component (model, cfg, and moves for a parser), and no others.
            static List<string> Files(string directory) => [.. Directory.GetFiles(directory).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)];
            var files = Files(Path.Combine(folder, component.Name));
            Assert.Equal(files, Files(Path.Combine(target, component.Name)));
            foreach (var file in files)
            {
                var expected = Path.Combine(folder, component.Name, file);
                Assert.True(File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(target, component.Name, file))), $"{component.Name}/{file} differs from spaCy's");
            }
        }

        // The rules written as a tokenizer file read back to the same tokenizer.
        var reread = SpacyPipeline.Load(target);
        Assert.Equal(loaded.Tokenizer.Rules.SpecialCases.Count, reread.Tokenizer.Rules.SpecialCases.Count);
        Assert.Equal(loaded.Tokenizer.Rules.SuffixSearch, reread.Tokenizer.Rules.SuffixSearch);
        var text = "Don't buy Gucci's bags in N.Y. for $50, ok?";
        Assert.Equal(loaded.Process(text).Tokens.Select(t => t.Text), reread.Process(text).Tokens.Select(t => t.Text));
    }

    [Fact]
    public void Moves_order_the_labels_by_their_token_counts()
    {
        var config = ResolvedConfig.Load(Path.Combine(SharedPipelines.Folder("ner"), "config.cfg"));
        var plan = SpacyPipelinePlan.Create(config, new SpacyVocab(), _ => new ComponentLabels
        {
            Labels = ["ORG", "PERSON"],
            TokenCounts = new Dictionary<string, long> { ["ORG"] = 3, ["PERSON"] = 10 },
        });
        var ner = plan.Component("ner");
        Assert.Equal(["PERSON", "ORG", "PERSON", "ORG"], ner.Moves.Take(4).Select(m => m.Label));
        Assert.Equal(ner.Moves.Count, ner.Parameter("upper.b").Shape[0]);
        Assert.Equal("tok2vec", ner.Tok2VecUpstream);
    }

    [Fact]
    public void Unplannable_components_are_named()
    {
        // A dependency parser beside the spancat: a factory the trainer cannot write in spaCy's format.
        var document = SpacyConfigDocument.Parse(File.ReadAllText(Path.Combine(SharedPipelines.Folder("spancat"), "config.cfg")));
        document.SetRaw("components.spancat", "factory", "\"parser\"");
        var config = new ResolvedConfig(document, "parser.cfg");
        Assert.False(SpacyPipelinePlan.CanPlan(config, out var reason));
        Assert.Contains("spancat", reason, StringComparison.Ordinal);
        Assert.Contains("parser", reason, StringComparison.Ordinal);
        var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipelinePlan.Create(config, new SpacyVocab(), _ => new ComponentLabels()));
        Assert.Equal("PRD2404", error.Code);
    }
}
