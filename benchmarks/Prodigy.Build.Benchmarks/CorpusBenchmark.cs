using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Prodigy.Build.Benchmarks;

/// <summary>
/// Corpus build speed and memory: a Prodigy export repeated to N examples (each copy a distinct
/// input, as distinct annotations would be), converted by the real tool process
/// (<c>prodigy-build data-to-spacy</c>), timed end to end with its peak resident memory (VmHWM).
/// </summary>
internal static class CorpusBenchmark
{
    public static void Run(string shared, string toolDll, int examples, int runs)
    {
        Console.WriteLine($"# Corpus benchmark ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores)");
        Console.WriteLine();
        Console.WriteLine("| data | component | examples | tokens | wall s (median) | examples/s | tokens/s | peak RSS MB | marginal examples/s |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        var work = Directory.CreateTempSubdirectory("prodigy-corpus-bench-").FullName;
        try
        {
            foreach (var (name, file, component) in new[]
            {
                ("fashion_brands_training (tokens given)", "fashion_brands/fashion_brands_training.jsonl", "ner"),
                ("docs_issues_training (tokenizer)", "docs_issues/docs_issues_training.jsonl", "textcat_multilabel"),
            })
            {
                var input = Path.Combine(work, Path.GetFileName(file));
                Repeat(Path.Combine(shared, "datasets", file), input, examples);
                var output = Path.Combine(work, "out");
                var (median, peak) = Measure(toolDll, component, input, output, runs);
                var (written, tokens) = CountDocs(output);

                // The cost of each further example, without the fixed start of a process (runtime
                // start, JIT, the config): time twice the data and take the difference.
                var doubled = Path.Combine(work, "doubled-" + Path.GetFileName(file));
                Repeat(Path.Combine(shared, "datasets", file), doubled, examples * 2);
                var (doubledMedian, _) = Measure(toolDll, component, doubled, output, runs);
                var marginal = examples / Math.Max(doubledMedian - median, 1e-9);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {component} | {written:N0} | {tokens:N0} | {median:F2} | {written / median:N0} | {tokens / median:N0} | {peak / 1024.0:F0} | {marginal:N0} |"));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static (double MedianSeconds, long PeakKb) Measure(string toolDll, string component, string input, string output, int runs)
    {
        var times = new List<double>();
        long peak = 0;
        for (var run = 0; run < runs; run++)
        {
            // Nothing of this process may compete with the tool for the two cores.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var (seconds, peakKb, stdout) = RunTool(toolDll, ["data-to-spacy", "--output", output, "--dataset", $"{component}:{input}", "--eval-split", "0.2"]);
            times.Add(seconds);
            peak = Math.Max(peak, peakKb);
            if (!stdout.Contains("Done in", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("the tool did not finish:\n" + stdout);
            }
        }

        times.Sort();
        return (times[times.Count / 2], peak);
    }

    // Copies of each line get their own _input_hash (and _task_hash) so they stay distinct examples.
    private static void Repeat(string source, string target, int examples)
    {
        var lines = File.ReadAllLines(source).Where(l => l.Length > 0).ToList();
        using var writer = new StreamWriter(target);
        for (var i = 0; i < examples; i++)
        {
            var node = JsonNode.Parse(lines[i % lines.Count])!.AsObject();
            node["_input_hash"] = unchecked(node["_input_hash"]!.GetValue<int>() + (i / lines.Count) * 7919);
            node["answer"] ??= "accept";
            if (node["answer"]!.GetValue<string>() == "ignore")
            {
                node["answer"] = "accept";
            }

            writer.WriteLine(node.ToJsonString());
        }
    }

    private static (int Docs, long Tokens) CountDocs(string output)
    {
        var docs = 0;
        long tokens = 0;
        foreach (var file in new[] { "train.spacy", "dev.spacy" })
        {
            foreach (var doc in Prodigy.Build.Core.Spacy.DocBin.Read(Path.Combine(output, file)))
            {
                docs++;
                tokens += doc.Length;
            }
        }

        return (docs, tokens);
    }

    private static (double Seconds, long PeakKb, string Stdout) RunTool(string toolDll, string[] args) => DotnetProcess.Exec(toolDll, args);
}
