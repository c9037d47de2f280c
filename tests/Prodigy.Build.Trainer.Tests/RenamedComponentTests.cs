using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Inference;
using Prodigy.Build.Trainer.Training;
using Xunit.Abstractions;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// Components named otherwise than their factory (<c>[components.my_ner] factory = "ner"</c>, a spancat
/// called <c>spans</c>, a tok2vec called <c>encoder</c>), as spaCy allows: trained, logged, scored,
/// saved and loaded under their own names.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed partial class RenamedComponentTests(TorchRuntimeFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-renamed-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>The tiny config of <paramref name="components"/> with each component renamed as <paramref name="names"/> says.</summary>
    private static (TrainingSettings Settings, string Text) Renamed(IReadOnlyList<string> components, IReadOnlyDictionary<string, string> names, int steps, string? nerArchitecture = null)
    {
        var text = TinyData.Config(components, steps).Text;
        foreach (var (from, to) in names)
        {
            text = Regex.Replace(text, $@"^\[(components|initialize\.components)\.{from}([.\]])", $"[$1.{to}$2", RegexOptions.Multiline);
            // Listeners name their upstream tok2vec; interpolations name the sections they copy.
            text = text.Replace($"upstream = \"{from}\"", $"upstream = \"{to}\"", StringComparison.Ordinal);
            text = text.Replace($"${{components.{from}.", $"${{components.{to}.", StringComparison.Ordinal);
        }

        var document = SpacyConfigDocument.Parse(text);
        var pipeline = new ResolvedConfig(document, "renamed.cfg").StringList("nlp", "pipeline").Select(n => names.GetValueOrDefault(n) ?? n);
        document.SetRaw("nlp", "pipeline", ConfigValues.StringList(pipeline));
        if (nerArchitecture is not null)
        {
            document.SetRaw($"components.{names["ner"]}.model", "@architectures", $"\"{nerArchitecture}\"");
        }

        text = document.ToString();
        return (TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(text), "renamed.cfg")), text);
    }

    /// <summary>Each LOSS column of the training table: its values, row by row.</summary>
    private static Dictionary<string, List<double>> LossColumns(IReadOnlyList<string> logged)
    {
        var header = logged.ToList().FindIndex(l => l.StartsWith("E ", StringComparison.Ordinal) && l.Contains("LOSS ", StringComparison.Ordinal));
        Assert.True(header >= 0, string.Join("\n", logged));
        var names = Cells().Split(logged[header].Trim());
        var columns = names.Select((n, i) => (n, i)).Where(c => c.n.StartsWith("LOSS ", StringComparison.Ordinal)).ToDictionary(c => c.n, c => new List<double>());
        foreach (var row in logged.Skip(header + 2).TakeWhile(l => Regex.IsMatch(l, @"^\s*\d+\s")))
        {
            var cells = Cells().Split(row.Trim());
            foreach (var (name, index) in names.Select((n, i) => (n, i)).Where(c => columns.ContainsKey(c.n)))
            {
                columns[name].Add(double.Parse(cells[index], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return columns;
    }

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex Cells();

    [Fact]
    public void A_renamed_ner_spancat_and_tok2vec_train_and_are_saved_and_loaded_under_their_names()
    {
        Assert.NotNull(fixture.Info);
        var names = new Dictionary<string, string> { ["ner"] = "my_ner", ["spancat"] = "spans", ["tok2vec"] = "encoder" };
        var (settings, text) = Renamed(["ner", "spancat"], names, 80);
        Assert.Equal(("my_ner", "spans", "encoder"), (settings.Ner!.Name, settings.Spancat!.Name, settings.Tok2VecComponent));
        var output = Path.Combine(_directory, "run");
        var logged = new List<string>();
        var result = PipelineTrainer.Train(
            new TrainingRun
            {
                Settings = settings,
                ConfigText = text,
                OutputDirectory = output,
                Log = l => { logged.Add(l); log.WriteLine(l); },
                // The corpus's label files are found by the component's name; EXTRA is in no example.
                LabelsFile = c => c == "my_ner" ? ["BRAND", "EXTRA"] : null,
            },
            TinyData.Examples(150, 61, spans: true),
            TinyData.Examples(30, 62, spans: true));

        var losses = LossColumns(logged);
        Assert.Equal(["LOSS ENCODER", "LOSS MY_NER", "LOSS SPANS"], losses.Keys.Order(StringComparer.Ordinal));
        Assert.All(losses, c => Assert.True(c.Value.Skip(1).Any(v => v > 0), $"{c.Key}: {string.Join(", ", c.Value)}"));
        Assert.True(result.BestScores.Values["ents_f"] > 0.5, $"ents_f {result.BestScores.Values["ents_f"]}");
        Assert.True(result.BestScores.Values["spans_sc_f"] > 0.3, $"spans_sc_f {result.BestScores.Values["spans_sc_f"]}");

        var best = Path.Combine(output, "model-best");
        var meta = JsonNode.Parse(File.ReadAllText(Path.Combine(best, "meta.json")))!;
        Assert.Equal(["encoder", "my_ner", "spans"], meta["pipeline"]!.AsArray().Select(n => (string)n!));
        Assert.Contains("EXTRA", meta["labels"]!["my_ner"]!.AsArray().Select(n => (string)n!));
        Assert.True(Directory.Exists(Path.Combine(best, "my_ner")) && Directory.Exists(Path.Combine(best, "spans")));

        using var pipeline = TrainedPipeline.Load(best);
        var doc = pipeline.Process("I love my Nike shoes .");
        Assert.Contains(doc.Entities, e => e.Text == "Nike" && e.Label == "BRAND");
        Assert.True(doc.Spans.ContainsKey("sc"), string.Join(", ", doc.Spans.Keys));
    }

    [Fact]
    public void A_renamed_ner_trains_with_the_opt_in_CRF_and_logs_its_loss()
    {
        Assert.NotNull(fixture.Info);
        var names = new Dictionary<string, string> { ["ner"] = "brands", ["tok2vec"] = "encoder" };
        var (settings, text) = Renamed(["ner"], names, 60, NerSettings.CrfArchitecture);
        var logged = new List<string>();
        var result = PipelineTrainer.Train(
            new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = Path.Combine(_directory, "crf"), Log = l => { logged.Add(l); log.WriteLine(l); }, LabelsFile = c => c == "brands" ? ["BRAND", "EXTRA"] : null },
            TinyData.Examples(150, 63),
            TinyData.Examples(30, 64));

        var losses = LossColumns(logged);
        Assert.Equal(["LOSS BRANDS", "LOSS ENCODER"], losses.Keys.Order(StringComparer.Ordinal));
        Assert.All(losses, c => Assert.True(c.Value.Skip(1).Any(v => v > 0), $"{c.Key}: {string.Join(", ", c.Value)}"));
        Assert.True(result.BestScores.Values["ents_f"] >= 0.9, $"ents_f {result.BestScores.Values["ents_f"]}");
        using var pipeline = TrainedPipeline.Load(Path.Combine(_directory, "crf", "model-best"));
        Assert.Equal(["BRAND", "EXTRA"], pipeline.Labels.Ner);
    }

    [Theory]
    [InlineData("ner")]
    [InlineData("spancat")]
    [InlineData("tok2vec")]
    public void Two_components_of_one_factory_that_the_trainer_trains_once_are_PRD2301_naming_both(string factory)
    {
        var text = TinyData.Config(["ner", "spancat"], 10).Text;
        var document = SpacyConfigDocument.Parse(text);
        document.SetRaw("components.second", "factory", $"\"{factory}\"");
        var pipeline = new ResolvedConfig(document, "two.cfg").StringList("nlp", "pipeline").Append("second");
        document.SetRaw("nlp", "pipeline", ConfigValues.StringList(pipeline));

        var error = Assert.Throws<TrainingConfigException>(() => TrainingSettings.From(new ResolvedConfig(document, "two.cfg")));

        Assert.Contains($"two {factory} components, '{factory}' and 'second'", error.Message, StringComparison.Ordinal);
    }
}
