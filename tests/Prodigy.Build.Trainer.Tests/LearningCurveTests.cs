using System.Text.Json.Nodes;
using System.Xml.Linq;
using Prodigy.Build.Trainer.Training;

namespace Prodigy.Build.Trainer.Tests;

[Collection(TorchCollection.Name)]
public sealed class LearningCurveTests(TorchRuntimeFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-curve-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TrainingRun Run(List<string> log)
    {
        Assert.NotNull(fixture.Info);
        var (settings, text) = TinyData.Config(["ner"], maxSteps: 40, evalFrequency: 20);
        return new TrainingRun { Settings = settings, ConfigText = text, Log = log.Add };
    }

    [Fact]
    public void Points_take_growing_shares_evaluate_on_one_set_and_are_reused_by_a_finer_curve()
    {
        var train = TinyData.Examples(80, 31);
        var dev = TinyData.Examples(20, 32);
        var cache = Path.Combine(_directory, "points");
        var log = new List<string>();

        var two = LearningCurve.Run(Run(log), train, dev, samples: 2, seeds: 1, cache, "corpus-a");

        Assert.Equal([50, 100], two.Select(r => r.Percent));
        Assert.Equal([40, 80], two.Select(r => r.Examples));
        Assert.Contains("Training 2 times with 50%, 100% of the data", log);
        Assert.All(two, r => Assert.False(r.Points[0].Reused));

        var four = LearningCurve.Run(Run(log), train, dev, samples: 4, seeds: 1, cache, "corpus-a");

        Assert.Equal([20, 40, 60, 80], four.Select(r => r.Examples));
        Assert.Equal([false, true, false, true], four.Select(r => r.Points[0].Reused));
        Assert.Equal(two[0].Score, four[1].Score);
        Assert.Equal(two[1].Score, four[3].Score);

        // Other data: nothing is reused.
        var other = LearningCurve.Run(Run(log), train, dev, samples: 2, seeds: 1, cache, "corpus-b");
        Assert.All(other, r => Assert.False(r.Points[0].Reused));
    }

    [Fact]
    public void The_full_share_is_a_plain_training_run_with_the_same_seed()
    {
        var train = TinyData.Examples(60, 33);
        var dev = TinyData.Examples(20, 34);
        var log = new List<string>();

        var curve = LearningCurve.Run(Run(log), train, dev, samples: 3, seeds: 1, Path.Combine(_directory, "points"), "corpus");
        var plain = PipelineTrainer.Train(Run(log), train, dev);

        Assert.Equal(plain.BestScore, curve[^1].Score);
    }

    [Fact]
    public void Several_seeds_give_a_mean_and_a_spread()
    {
        var log = new List<string>();

        var curve = LearningCurve.Run(Run(log), TinyData.Examples(40, 35), TinyData.Examples(20, 36), samples: 2, seeds: 3, Path.Combine(_directory, "points"), "corpus");

        Assert.All(curve, r => Assert.Equal(3, r.Points.Count));
        Assert.All(curve, r => Assert.Equal(r.Points.Average(p => p.Score), r.Score, 12));
        Assert.Equal([0, 1, 2], curve[0].Points.Select(p => p.Seed));
    }

    private static CurveRow Row(int percent, double score, double spread = 0) =>
        new(percent, percent, score, spread, new Dictionary<string, double> { ["ner"] = score }, []);

    [Fact]
    public void The_table_has_a_zero_row_and_arrows_against_the_row_before()
    {
        var lines = CurveReport.Table([Row(25, 0.31), Row(50, 0.44), Row(75, 0.43), Row(100, 0.43)], ["ner"], withSpread: false).ToList();

        Assert.Equal("%      Score    ner   ", lines[0]);
        Assert.Equal("  0%   0.00     0.00  ", lines[2]);
        Assert.Equal(" 25%   0.31 ▲   0.31 ▲", lines[3]);
        Assert.Equal(" 50%   0.44 ▲   0.44 ▲", lines[4]);
        Assert.Equal(" 75%   0.43 ▼   0.43 ▼", lines[5]);
        Assert.Equal("100%   0.43     0.43  ", lines[6]);
    }

    [Fact]
    public void The_verdict_says_whether_the_last_sample_improved_and_whether_that_is_noise()
    {
        Assert.Equal("✔ Accuracy improved in the last sample", CurveReport.Verdict([Row(50, 0.4), Row(100, 0.5)]).First());
        Assert.Equal("✘ Accuracy didn't improve in the last sample", CurveReport.Verdict([Row(50, 0.5), Row(100, 0.5)]).First());
        Assert.Contains(CurveReport.Verdict([Row(50, 0.40, 0.05), Row(100, 0.42, 0.05)]), l => l.Contains("may be noise", StringComparison.Ordinal));
    }

    [Fact]
    public void The_saved_files_hold_the_rows()
    {
        CurveRow[] rows = [Row(50, 0.4), Row(100, 0.5)];

        var json = CurveReport.Json(rows, ["ner"], seeds: 1);
        var csv = CurveReport.Csv(rows, ["ner"]);
        var svg = XDocument.Parse(CurveReport.Svg(rows, ["ner"]));

        Assert.Equal(0.5, (double)json["rows"]![1]!["score"]!);
        Assert.Equal("percent,examples,score,score_spread,ner\n50,50,0.4,0,0.4\n100,100,0.5,0,0.5\n", csv);
        Assert.Equal(2, svg.Descendants().Count(e => e.Name.LocalName == "polyline"));
    }
}
