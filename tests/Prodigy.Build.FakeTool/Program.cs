// A stand-in for prodigy-build: instant, deterministic, and driven by what the dataset files say.
//  - a line containing FAKE_ERROR    -> "<file>(<line>,<col>): error PRD2901: fake error", exit 1, nothing written
//  - a line containing FAKE_WARNING  -> "<file>(<line>,<col>): warning PRD2902: fake warning"
//  - a line containing FAKE_SLOW     -> waits up to 60 s; Ctrl+C/SIGINT stops it cleanly ("fake: cancelled", exit 1)
//  - a line containing FAKE_SILENT_FAIL -> exit 1 without an error line
//  - a line containing FAKE_PAUSE    -> sleeps 2 s (so that two builds overlap)
// Outputs: train.spacy and dev.spacy list the datasets and options they were made from.
// Database datasets (db:NAME,FILE): FILE is a text file standing in for Prodigy's database, whose lines
// "NAME: ..." are the dataset's examples; db-digest counts and hashes them (PRD2203 when there are none).
using System.Text;

var args0 = Expand(args);
if (args0.Count == 0)
{
    Console.Error.WriteLine("prodigy-build: error PRD2000: no command");
    return 2;
}

var command = args0[0];
var options = new List<(string Name, string? Value)>();
for (var i = 1; i < args0.Count; i++)
{
    var name = args0[i];
    if (name == "--gpu")
    {
        options.Add((name, null));
    }
    else if (i + 1 < args0.Count)
    {
        options.Add((name, args0[++i]));
    }
    else
    {
        Console.Error.WriteLine($"prodigy-build: error PRD2000: option '{name}' needs a value");
        return 2;
    }
}

string? Get(string name) => options.LastOrDefault(o => o.Name == name).Value;

Console.WriteLine($"fake prodigy-build {command}: {string.Join(" ", args0.Skip(1))}");
switch (command)
{
    case "spacy-config":
    {
        var output = Get("--output")!;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, Config(Get("--lang"), Get("--pipeline"), Get("--optimize"), options.Any(o => o.Name == "--gpu")));
        return 0;
    }

    case "data-to-spacy":
    {
        var output = Get("--output")!;
        var datasets = options.Where(o => o.Name is "--dataset" or "--eval-dataset").ToList();
        var failed = false;
        foreach (var (kind, spec) in datasets)
        {
            var path = spec![(spec!.IndexOf(':') + 1)..];
            if (path.StartsWith("db:", StringComparison.Ordinal))
            {
                continue;
            }

            var lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                var column = line.IndexOf("FAKE_", StringComparison.Ordinal) + 1;
                if (line.Contains("FAKE_ERROR", StringComparison.Ordinal))
                {
                    Console.WriteLine($"{path}({lineNumber},{column}): error PRD2901: fake error");
                    failed = true;
                }
                else if (line.Contains("FAKE_WARNING", StringComparison.Ordinal))
                {
                    Console.WriteLine($"{path}({lineNumber},{column}): warning PRD2902: fake warning");
                }
                else if (line.Contains("FAKE_PAUSE", StringComparison.Ordinal))
                {
                    Thread.Sleep(2000);
                }
                else if (line.Contains("FAKE_SILENT_FAIL", StringComparison.Ordinal))
                {
                    return 1;
                }
                else if (line.Contains("FAKE_SLOW", StringComparison.Ordinal))
                {
                    using var cancelled = new CancellationTokenSource();
                    Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancelled.Cancel(); };
                    Console.WriteLine("fake: working slowly");
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(60), cancelled.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        Console.WriteLine("fake: cancelled");
                        return 1;
                    }
                }
            }
        }

        if (failed)
        {
            return 1;
        }

        var components = datasets.Select(d => Component(d.Value!)).Distinct().ToList();
        var summary = new StringBuilder();
        foreach (var (kind, spec) in datasets)
        {
            summary.Append(kind).Append(' ').Append(spec).Append('\n');
        }

        foreach (var option in options.Where(o => o.Name is not ("--dataset" or "--eval-dataset" or "--output")))
        {
            summary.Append(option.Name).Append(' ').Append(option.Value).Append('\n');
        }

        Directory.CreateDirectory(Path.Combine(output, "labels"));
        WriteAtomically(Path.Combine(output, "train.spacy"), "train\n" + summary);
        WriteAtomically(Path.Combine(output, "dev.spacy"), "dev\n" + summary);
        WriteAtomically(Path.Combine(output, "config.cfg"), Config(Get("--lang"), string.Join(",", components), Get("--optimize"), options.Any(o => o.Name == "--gpu")));
        foreach (var component in components)
        {
            WriteAtomically(Path.Combine(output, "labels", component + ".json"), "[\"FAKE\"]");
        }

        Console.WriteLine($"fake: wrote {datasets.Count} datasets to {output}");
        return 0;
    }

    case "db-digest":
    {
        var text = new StringBuilder("# prodigy-build db-digest 1\n");
        foreach (var spec in options.Where(o => o.Name == "--dataset").Select(o => o.Value!))
        {
            var name = spec[3..spec.IndexOf(',')];
            var database = Path.GetFullPath(spec[(spec.IndexOf(',') + 1)..]);
            var examples = File.ReadAllLines(database).Where(l => l.StartsWith(name + ":", StringComparison.Ordinal)).ToList();
            if (examples.Count == 0)
            {
                Console.WriteLine($"{database}: error PRD2203: the database has no dataset '{name}'.");
                return 1;
            }

            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", examples))))[..32];
            text.Append($"dataset\t{spec}\t{examples.Count}\t{hash}\t{database}\n");
            text.Append($"depends\t{spec}\t{database}\n");
        }

        WriteAtomically(Get("--output")!, text.ToString());
        return 0;
    }

    default:
        Console.Error.WriteLine($"prodigy-build: error PRD2000: unknown command '{command}'");
        return 2;
}

static string Component(string spec)
{
    var component = spec[..spec.IndexOf(':')];
    var bracket = component.IndexOf('[');
    return bracket < 0 ? component : component[..bracket];
}

static string Config(string? lang, string? pipeline, string? optimize, bool gpu) =>
    $"[nlp]\nlang = \"{lang}\"\npipeline = [{string.Join(",", (pipeline ?? "").Split(',').Select(p => $"\"{p}\""))}]\n# optimize={optimize} gpu={gpu}\n";

static void WriteAtomically(string path, string text)
{
    var temp = path + ".tmp";
    File.WriteAllText(temp, text);
    File.Move(temp, path, overwrite: true);
}

static List<string> Expand(string[] args)
{
    var result = new List<string>();
    foreach (var arg in args)
    {
        if (arg.StartsWith('@'))
        {
            result.AddRange(File.ReadAllLines(arg[1..]).Where(l => l.Length > 0));
        }
        else
        {
            result.Add(arg);
        }
    }

    return result;
}
