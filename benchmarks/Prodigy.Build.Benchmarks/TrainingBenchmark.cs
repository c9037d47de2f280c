using System.Globalization;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Config;

namespace Prodigy.Build.Benchmarks;

/// <summary>
/// The trainer against spaCy 3.5.4's own training baselines (../shared/spacy/baselines): the same
/// corpora and splits, the same `init config` files with the same overrides, CPU, the same stopping
/// rule, each run once per seed (spaCy's baselines are seed 0). Per run: the best score of each seed,
/// their mean and spread, steps, wall time of the whole process, peak memory, and spaCy's figures beside them.
/// </summary>
internal static class TrainingBenchmark
{
    public static readonly string[] DefaultRuns =
    [
        "fashion_brands-ner-efficiency",
        "food_ingredients-ner-efficiency",
        "news_headlines_ner-ner-efficiency",
        "docs_issues-textcat_multilabel-efficiency",
        "docs_issues-textcat-efficiency",
        "healthsea_clausecat-textcat-efficiency",
    ];

    public static void Run(string shared, string trainer, IReadOnlyList<string> runs, IReadOnlyList<int> seeds)
    {
        var baselines = JsonNode.Parse(File.ReadAllText(Path.Combine(shared, "spacy", "baselines", "baselines.json")))!["runs"]!;
        Console.WriteLine($"# Training benchmark ({System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {Environment.ProcessorCount} cores, CPU)");
        Console.WriteLine();
        Console.WriteLine($"| run | component | metric | spaCy best (seed 0) | ours best, seeds {string.Join(" / ", seeds)} | ours mean (min-max) | spaCy best step / final | ours best step / final | spaCy wall s | ours wall s (mean) | ours peak RSS MB (max) | spaCy peak RSS MB | spaCy dev words/s | ours dev words/s (seed {seeds[0]}) |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var work = Directory.CreateTempSubdirectory("prodigy-training-bench-").FullName;
        try
        {
            foreach (var name in runs)
            {
                var baseline = baselines[name] ?? throw new ArgumentException($"no baseline run '{name}'");
                var configPath = Path.Combine(shared, "..", (string)baseline["config"]!);
                var config = SpacyConfigDocument.Load(Path.GetFullPath(configPath));
                foreach (var (key, value) in baseline["overrides"]!.AsObject())
                {
                    var dot = key.LastIndexOf('.');
                    if (key == "initialize.components")
                    {
                        // {"textcat":{"positive_label":"DOCUMENTATION"}}: the component's positive label.
                        foreach (var (component, settings) in JsonNode.Parse((string)value!)!.AsObject())
                        {
                            foreach (var (setting, settingValue) in settings!.AsObject())
                            {
                                config.SetRaw($"initialize.components.{component}", setting, settingValue!.ToJsonString());
                            }
                        }

                        continue;
                    }

                    config.SetRaw(key[..dot], key[(dot + 1)..], (string)value!);
                }

                var corpus = Path.Combine(shared, "spacy", "baselines", "corpus", (string)baseline["corpus"]!);
                var results = new List<(double Score, string Steps, double Seconds, long PeakKb)>();
                var speed = 0.0;
                foreach (var seed in seeds)
                {
                    var folder = Path.Combine(work, $"{name}-seed{seed}");
                    Directory.CreateDirectory(folder);
                    var configFile = Path.Combine(folder, "config.cfg");
                    config.SetRaw("system", "seed", seed.ToString(CultureInfo.InvariantCulture));
                    config.Save(configFile);
                    var (seconds, peakKb, log) = RunTrainer(trainer, ["train", "--config", configFile, "--train", Path.Combine(corpus, "train.spacy"), "--dev", Path.Combine(corpus, "dev.spacy"), "--output", Path.Combine(folder, "model")]);
                    File.WriteAllText(Path.Combine(folder, "train.log"), log);
                    var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "model", "metrics.json")))!;
                    results.Add(((double)metrics["score"]! * 100, $"{metrics["best_step"]} / {metrics["final_step"]}", seconds, peakKb));
                    if (seed == seeds[0])
                    {
                        // Inference: model-best over the dev corpus, as spaCy's "speed" (words/s of nlp.evaluate).
                        var evaluation = Path.Combine(folder, "evaluate.json");
                        DotnetProcess.Exec(trainer, ["evaluate", "--model", Path.Combine(folder, "model", "model-best"), "--data", Path.Combine(corpus, "dev.spacy"), "--metrics", evaluation]);
                        speed = (double)JsonNode.Parse(File.ReadAllText(evaluation))!["scores"]!["speed"]!;
                    }
                }

                var timing = baseline["timing"]!;
                var scores = results.Select(r => r.Score).ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {baseline["component"]} | {baseline["main_metric"]} | {(double)baseline["best_score"]! * 100:F2} | {string.Join(" / ", scores.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))} | {scores.Average():F2} ({scores.Min():F2}-{scores.Max():F2}) | {baseline["best_step"]} / {baseline["final_step"]} | {string.Join(", ", results.Select(r => r.Steps))} | {(double)timing["wall_s_median"]!:F1} | {results.Average(r => r.Seconds):F1} | {results.Max(r => r.PeakKb) / 1024.0:F0} | {(double)timing["max_rss_kb_median"]! / 1024:F0} | {(double)timing["dev_eval_wps_spacy_speed"]!:N0} | {speed:N0} |"));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static (double Seconds, long PeakKb, string Log) RunTrainer(string trainer, string[] args) => DotnetProcess.Exec(trainer, args, pollMilliseconds: 200);
}
