using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Benchmarks;

/// <summary>
/// Inference speed of spaCy pipeline folders run in .NET (SpacyPipeline), against spaCy's own
/// <c>speed</c> from <c>spacy evaluate</c> on the same pipeline and dev corpus
/// (shared/spacy/pipelines/NAME/scores.json). Like spaCy's figure, a pass covers tokenizing the texts
/// and running every component, and words are the predicted tokens. The texts go through in batches
/// of <c>[nlp] batch_size</c>; with N threads, N batches run at once on the one shared pipeline.
/// Reports the median of the timed passes after one warm-up pass.
/// </summary>
internal static class PipelineBenchmark
{
    /// <summary>Each shared pipeline and the dev corpus spacy evaluate scored it on.</summary>
    public static readonly (string Name, string Corpus)[] Pipelines =
    [
        ("ner", "spacy/baselines/corpus/fashion_brands/dev.spacy"),
        ("spancat", "spacy/pipelines/spancat/corpus/dev.spacy"),
        ("textcat", "spacy/baselines/corpus/docs_issues_exclusive/dev.spacy"),
        ("textcat_multilabel", "spacy/baselines/corpus/docs_issues/dev.spacy"),
    ];

    public static void Run(string shared, IReadOnlyList<int> threadCounts, int passes, IReadOnlyList<string> names)
    {
        RunTable(shared, threadCounts, passes, names);
        Console.WriteLine();
        Console.WriteLine("Where a single-threaded pass goes:");
        Console.WriteLine();
        foreach (var (name, share) in Shares)
        {
            Console.WriteLine($"- {name}: {share}");
        }
    }

    private static void RunTable(string shared, IReadOnlyList<int> threadCounts, int passes, IReadOnlyList<string> names)
    {
        Console.WriteLine($"# Pipeline inference benchmark ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores)");
        Console.WriteLine();
        Console.WriteLine("| pipeline | texts | words | threads | load ms | words/s (median) | spaCy words/s | ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, corpus) in Pipelines.Where(p => names.Contains(p.Name)))
        {
            var folder = Path.Combine(shared, "spacy", "pipelines", name, "pipeline");
            var load = Stopwatch.StartNew();
            var pipeline = SpacyPipeline.Load(folder);
            var loadMs = load.Elapsed.TotalMilliseconds;
            var texts = DocBin.Read(Path.Combine(shared, corpus))
                .Select(d => string.Concat(d.Words.Select((w, i) => d.Spaces is { } s && s[i] ? w + " " : w)))
                .ToList();
            using var scores = JsonDocument.Parse(File.ReadAllText(Path.Combine(shared, "spacy", "pipelines", name, "scores.json")));
            var spacySpeed = scores.RootElement.GetProperty("speed").GetDouble();
            var batchSize = pipeline.Config.Int("nlp", "batch_size", 1000);
            var batches = texts.Chunk(batchSize).ToList();
            foreach (var threads in threadCounts)
            {
                var words = Pass(pipeline, batches, threads, out _);
                var times = new List<double>();
                for (var i = 0; i < passes; i++)
                {
                    Pass(pipeline, batches, threads, out var seconds);
                    times.Add(seconds);
                }

                times.Sort();
                var speed = words / times[times.Count / 2];
                if (threads == 1)
                {
                    Shares[name] = Breakdown(pipeline, batches);
                }

                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {name} | {texts.Count:N0} | {words:N0} | {threads} | {loadMs:F0} | {speed:N0} | {spacySpeed:N0} | {speed / spacySpeed:F2}x |"));
            }
        }
    }

    /// <summary>Per pipeline: the share of a single-threaded pass spent tokenizing and in each component.</summary>
    private static readonly Dictionary<string, string> Shares = new(StringComparer.Ordinal);

    private static string Breakdown(SpacyPipeline pipeline, List<string[]> batches)
    {
        var tokenize = 0.0;
        var components = new double[pipeline.Components.Count];
        for (var pass = 0; pass < 3; pass++)
        {
            foreach (var batch in batches)
            {
                var stopwatch = Stopwatch.StartNew();
                var docs = batch.Select(t => new PipelineDoc(t, pipeline.Tokenizer.Tokenize(t))).ToList();
                tokenize += stopwatch.Elapsed.TotalSeconds;
                for (var c = 0; c < components.Length; c++)
                {
                    stopwatch.Restart();
                    pipeline.Components[c].Predict(docs);
                    components[c] += stopwatch.Elapsed.TotalSeconds;
                }
            }
        }

        var total = tokenize + components.Sum();
        return string.Join(", ", new[] { $"tokenizer {100 * tokenize / total:F0}%" }
            .Concat(pipeline.Components.Select((c, i) => $"{c.Name} {100 * components[i] / total:F0}%")));
    }

    // Batches are cut finer when there are more threads than batches, so that every thread has work.
    private static long Pass(SpacyPipeline pipeline, List<string[]> batches, int threads, out double seconds)
    {
        var work = threads == 1 || batches.Count >= threads * 4
            ? batches
            : batches.SelectMany(b => b.Chunk(Math.Max(1, b.Length / (threads * 4)))).ToList();
        long words = 0;
        var stopwatch = Stopwatch.StartNew();
        Parallel.ForEach(work, new ParallelOptions { MaxDegreeOfParallelism = threads }, batch =>
        {
            var docs = pipeline.Process(batch);
            Interlocked.Add(ref words, docs.Sum(d => (long)d.Length));
        });
        seconds = stopwatch.Elapsed.TotalSeconds;
        return words;
    }
}
