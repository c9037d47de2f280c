using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Scoring;

namespace Prodigy.Build.Trainer.Training;

/// <summary>One trained point of the curve: a share of the training data and a seed.</summary>
public sealed record CurvePoint(int Sample, int Samples, int Examples, int Seed, double Score, IReadOnlyDictionary<string, double> ComponentScores, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> LabelF, bool Reused);

/// <summary>A row of the table: the share, and the mean and spread of the points' scores over the seeds.</summary>
public sealed record CurveRow(int Percent, int Examples, double Score, double ScoreSpread, IReadOnlyDictionary<string, double> ComponentScores, IReadOnlyList<CurvePoint> Points);

/// <summary>
/// Prodigy's train-curve: trains on 1/n, 2/n, ... n/n of the training examples (a seeded shuffle
/// picks which; each subset keeps the corpus order, so the 100% point is a plain training run),
/// always evaluating on the same evaluation set, optionally with several seeds per point. Every
/// point is kept in a cache keyed by everything that shapes it, so a rerun with more samples or
/// seeds trains only the new points.
/// </summary>
public static class LearningCurve
{
    public static IReadOnlyList<CurveRow> Run(TrainingRun run, IReadOnlyList<Example> train, IReadOnlyList<Example> dev, int samples, int seeds, string cacheDirectory, string corpusFingerprint, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seeds, 1);
        var settings = run.Settings;
        var components = ComponentKeys(settings);
        // Which examples each share takes: the first k/n of one seeded permutation (the same for every point).
        var permutation = Enumerable.Range(0, train.Count).ToArray();
        new Random(settings.Loop.Seed).Shuffle(permutation);
        run.Log($"Training {samples} times with {string.Join(", ", Enumerable.Range(1, samples).Select(k => Percent(k, samples) + "%"))} of the data");
        var rows = new List<CurveRow>();
        for (var k = 1; k <= samples; k++)
        {
            var count = (int)Math.Round((double)train.Count * k / samples, MidpointRounding.AwayFromZero);
            var chosen = permutation.Take(count).Order().Select(i => train[i]).ToList();
            var points = new List<CurvePoint>();
            for (var s = 0; s < seeds; s++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var seed = settings.Loop.Seed + s;
                var key = PointKey(corpusFingerprint, run.ConfigText, count, seed, train.Count);
                var cached = Path.Combine(cacheDirectory, key + ".json");
                if (TryRead(cached, k, samples, out var point))
                {
                    run.Log($"  {Percent(k, samples)}% (seed {seed}): reused an earlier point ({count} examples)");
                    points.Add(point);
                    continue;
                }

                run.Log($"  {Percent(k, samples)}% (seed {seed}): training on {count} examples");
                var pointRun = new TrainingRun
                {
                    Settings = settings with { Loop = settings.Loop with { Seed = seed } },
                    ConfigText = run.ConfigText,
                    OutputDirectory = null,
                    Device = run.Device,
                    StartCpuTorch = run.StartCpuTorch,
                    LabelsFile = run.LabelsFile,
                    Vectors = run.Vectors,
                    Log = _ => { },
                };
                var result = PipelineTrainer.Train(pointRun, chosen, dev, cancellationToken);
                if (result.Cancelled)
                {
                    throw new OperationCanceledException();
                }

                point = new CurvePoint(k, samples, count, seed, result.BestScore, ComponentScores(components, result.BestScores), LabelF(result.BestScores), false);
                Write(cached, point);
                points.Add(point);
            }

            var mean = points.Average(p => p.Score);
            rows.Add(new CurveRow(
                Percent(k, samples),
                count,
                mean,
                points.Count > 1 ? Math.Sqrt(points.Sum(p => (p.Score - mean) * (p.Score - mean)) / (points.Count - 1)) : 0,
                components.ToDictionary(c => c.Name, c => points.Average(p => p.ComponentScores.GetValueOrDefault(c.Name)), StringComparer.Ordinal),
                points));
        }

        return rows;
    }

    /// <summary>The score shown per component: ents_f for ner, cats_score for text classification, spans_KEY_f for spancat.</summary>
    public static IReadOnlyList<(string Name, string ScoreKey)> ComponentKeys(Configuration.TrainingSettings settings)
    {
        var keys = new List<(string, string)>();
        foreach (var name in settings.Pipeline)
        {
            if (settings.Ner is not null && name == settings.Ner.Name)
            {
                keys.Add((name, "ents_f"));
            }
            else if (settings.Textcats.Any(t => t.Component == name))
            {
                keys.Add((name, "cats_score"));
            }
            else if (settings.Spancat is { } spancat && name == spancat.Name)
            {
                keys.Add((name, $"spans_{spancat.SpansKey}_f"));
            }
        }

        return keys;
    }

    public static int Percent(int k, int samples) => (int)Math.Round(100.0 * k / samples, MidpointRounding.AwayFromZero);

    private static IReadOnlyDictionary<string, double> ComponentScores(IReadOnlyList<(string Name, string ScoreKey)> components, ScoreSet scores) =>
        components.ToDictionary(c => c.Name, c => scores.Values.GetValueOrDefault(c.ScoreKey) is { } v && !double.IsNaN(v) ? v : 0.0, StringComparer.Ordinal);

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> LabelF(ScoreSet scores) =>
        scores.PerType.Where(p => p.Value is not null).ToDictionary(
            p => p.Key,
            p => (IReadOnlyDictionary<string, double>)p.Value!.ToDictionary(l => l.Key, l => l.Value.F, StringComparer.Ordinal),
            StringComparer.Ordinal);

    private static string PointKey(string corpusFingerprint, string configText, int count, int seed, int total)
    {
        var text = $"curve-point 1\n{corpusFingerprint}\n{count}/{total}\n{seed}\n{ModelDirectory.TrainerVersion}\n{configText}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];
    }

    private static bool TryRead(string path, int k, int samples, out CurvePoint point)
    {
        point = null!;
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            var stored = JsonSerializer.Deserialize<CurvePoint>(File.ReadAllText(path));
            if (stored is null)
            {
                return false;
            }

            point = stored with { Sample = k, Samples = samples, Reused = true };
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void Write(string path, CurvePoint point)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Core.Config.AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(point));
    }
}
