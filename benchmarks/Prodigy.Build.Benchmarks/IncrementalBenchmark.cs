using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Benchmarks;

/// <summary>
/// The cost of a build with nothing to do. Three projects in fresh folders, each built once to
/// warm up, then built in turns (so that drifts of the machine hit all alike) with the same
/// `dotnet build` command line, restore included, as a user types it:
/// an empty Microsoft.NET.Sdk class library (the yardstick), the ner-textcat sample on the SDK
/// from this repository, and the same with 1 GB of Prodigy data declared. Also the hash throughput
/// of the incremental check on that gigabyte.
/// </summary>
internal static class IncrementalBenchmark
{
    public static void Run(string shared, int rounds, double gigabytes)
    {
        var repo = RepoRoot();
        var work = Directory.CreateTempSubdirectory("prodigy-incremental-bench-").FullName;
        try
        {
            var tasks = Built(repo, "tasks/Prodigy.Build.Tasks/bin/Release/netstandard2.0/Prodigy.Build.Tasks.dll");
            var tool = Built(repo, "tasks/Prodigy.Build.Tool/bin/Release/net10.0/Prodigy.Build.Tool.dll");

            var classlib = Project(work, "classlib", """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                  </PropertyGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(Path.GetDirectoryName(classlib)!, "Class1.cs"), "namespace Empty;\n\npublic class Class1\n{\n}\n");

            var sample = Project(work, "sample", SdkProject(repo, tasks, tool, ["data/reviews_ner.jsonl"], ["data/reviews_textcat.jsonl"]));
            foreach (var file in Directory.EnumerateFiles(Path.Combine(repo, "samples", "ner-textcat", "data")))
            {
                CopyInto(file, Path.Combine(Path.GetDirectoryName(sample)!, "data"));
            }

            var big = Project(work, "sample-1gb", SdkProject(repo, tasks, tool, ["data/reviews_ner.jsonl", "data/big.jsonl"], ["data/reviews_textcat.jsonl"]));
            foreach (var file in Directory.EnumerateFiles(Path.Combine(repo, "samples", "ner-textcat", "data")))
            {
                CopyInto(file, Path.Combine(Path.GetDirectoryName(big)!, "data"));
            }

            var bigData = Path.Combine(Path.GetDirectoryName(big)!, "data", "big.jsonl");
            var bytes = WriteBigDataset(Path.Combine(shared, "datasets", "fashion_brands", "fashion_brands_training.jsonl"), bigData, (long)(gigabytes * 1e9));
            // Aged, as data in a repository is: a file written within the last seconds is always hashed again.
            File.SetLastWriteTimeUtc(bigData, DateTime.UtcNow.AddHours(-1));

            Console.WriteLine($"# Incremental build benchmark ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores)");
            Console.WriteLine();
            HashThroughput(bigData, bytes);

            var projects = new[] { ("empty class library (Microsoft.NET.Sdk)", classlib), ("ner-textcat sample (Prodigy.Build.Sdk)", sample), ($"ner-textcat sample + {bytes / 1e9:F2} GB dataset", big) };
            foreach (var (name, path) in projects)
            {
                // First build does the work; the second settles anything a first build leaves to do.
                var (first, firstLog) = DotnetBuild(path);
                DotnetBuild(path);
                Console.Error.WriteLine($"{name}: first build {first:F1} s");
                if (path != classlib && !firstLog.Contains("corpus: rebuilding", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("the first build did not build the corpus:\n" + firstLog);
                }
            }

            var times = projects.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < rounds; round++)
            {
                for (var i = 0; i < projects.Length; i++)
                {
                    var (seconds, log) = DotnetBuild(projects[i].Item2);
                    if (i > 0 && !log.Contains("corpus: up to date", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException("a no-op build did work:\n" + log);
                    }

                    times[i].Add(seconds);
                }
            }

            Console.WriteLine();
            Console.WriteLine($"No-op `dotnet build` (restore included), {rounds} rounds in turns:");
            Console.WriteLine();
            Console.WriteLine("| project | median s | mean s | min s | max s | median vs class library |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            var baseline = Median(times[0]);
            for (var i = 0; i < projects.Length; i++)
            {
                var median = Median(times[i]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {projects[i].Item1} | {median:F3} | {times[i].Average():F3} | {times[i].Min():F3} | {times[i].Max():F3} | {(median / baseline - 1) * 100:+0.0;-0.0}% |"));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void HashThroughput(string path, long bytes)
    {
        Console.WriteLine($"Hashing {bytes / 1e9:F2} GB with the incremental check's XxHash128 (1 MB reads; the file is in the page cache, as a file just written or read is):");
        Console.WriteLine();
        Console.WriteLine("| run | s | GB/s |");
        Console.WriteLine("|---:|---:|---:|");
        for (var run = 1; run <= 3; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            ContentHash.OfFile(path, out var size);
            var seconds = stopwatch.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {run} | {seconds:F3} | {size / seconds / 1e9:F2} |"));
        }

        // With the stat cache: what a no-op build pays for this file.
        var cache = FileHashCache.Load(null);
        cache.Get(path);
        var timer = Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++)
        {
            cache.Get(path);
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Unchanged (size and time as cached): {timer.Elapsed.TotalMilliseconds / 1000 * 1000:F1} µs per check, {cache.FilesHashed - 1} further reads."));
    }

    private static long WriteBigDataset(string source, string target, long bytes)
    {
        var lines = File.ReadAllLines(source).Where(l => l.Length > 0).ToList();
        using var writer = new StreamWriter(target);
        long written = 0;
        for (var i = 0; written < bytes; i++)
        {
            var node = JsonNode.Parse(lines[i % lines.Count])!.AsObject();
            node["_input_hash"] = unchecked(node["_input_hash"]!.GetValue<int>() + (i / lines.Count) * 7919);
            var line = node.ToJsonString();
            writer.Write(line);
            writer.Write('\n');
            written += line.Length + 1;
        }

        writer.Flush();
        return writer.BaseStream.Length;
    }

    private static string SdkProject(string repo, string tasks, string tool, string[] ner, string[] textcat) => $"""
        <Project>
          <Import Project="{Path.Combine(repo, "sdk", "Sdk", "Sdk.props")}" />
          <PropertyGroup>
            <ProdigyTasksAssembly>{tasks}</ProdigyTasksAssembly>
            <ProdigyToolPath>{tool}</ProdigyToolPath>
          </PropertyGroup>
          <ItemGroup>
        {string.Join("\n", ner.Select(n => $"    <NerDataset Include=\"{n}\" />"))}
        {string.Join("\n", textcat.Select(t => $"    <TextcatDataset Include=\"{t}\" />"))}
          </ItemGroup>
          <Import Project="{Path.Combine(repo, "sdk", "Sdk", "Sdk.targets")}" />
        </Project>
        """;

    // Each project in its own folder with the same fences: no repository props, the same SDK, no feeds.
    private static string Project(string work, string name, string text)
    {
        var folder = Path.Combine(work, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "nuget.config"), "<configuration><packageSources><clear /></packageSources></configuration>");
        var path = Path.Combine(folder, name + ".csproj");
        File.WriteAllText(path, text);
        return path;
    }

    private static void CopyInto(string file, string folder)
    {
        Directory.CreateDirectory(folder);
        File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
    }

    private static (double Seconds, string Log) DotnetBuild(string project)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var argument in new[] { "build", project, "-nologo", "-tl:off", "-v:n" })
        {
            start.ArgumentList.Add(argument);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var log = stdout.Result + stderr.Result;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet build {project} failed:\n{log}");
        }

        return (seconds, log);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Prodigy.Build.Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root (Prodigy.Build.Sdk.sln).");
    }

    private static string Built(string repo, string relative)
    {
        var path = Path.Combine(repo, relative);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{relative} is not built; the benchmark builds it when run with -c Release.", path);
    }
}
