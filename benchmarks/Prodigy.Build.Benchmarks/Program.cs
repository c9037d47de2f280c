using Prodigy.Build.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/Prodigy.Build.Benchmarks -- tokenizer [--shared DIR] [--mb 5] [--passes 5] [--langs en,de,...]
//        dotnet run -c Release --project benchmarks/Prodigy.Build.Benchmarks -- corpus [--examples 50000] [--runs 3] [--tool path/Prodigy.Build.Tool.dll]
//        dotnet run -c Release --project benchmarks/Prodigy.Build.Benchmarks -- incremental [--rounds 10] [--gb 1]
//        dotnet run -c Release --project benchmarks/Prodigy.Build.Benchmarks -- training [--runs name,name] [--seeds 0,1,2] [--trainer path/Prodigy.Build.Trainer.dll]
//        dotnet run -c Release --project benchmarks/Prodigy.Build.Benchmarks -- pipelines [--threads 1,2] [--passes 5] [--pipelines ner,spancat,textcat,textcat_multilabel]
//        dotnet run -c Release --project benchmarks/Prodigy.Build.Benchmarks -- databases [--passes 3]   (servers from .ci/database-servers)
var arguments = args.ToList();
if (arguments.Count == 0 || arguments[0] is "-h" or "--help")
{
    Console.WriteLine("Benchmarks: tokenizer [--shared DIR] [--mb 5] [--passes 5] [--langs en,de,fr,es,it,nl,pt,xx]");
    Console.WriteLine("            corpus [--shared DIR] [--examples 50000] [--runs 3] [--tool Prodigy.Build.Tool.dll]");
    Console.WriteLine("            incremental [--shared DIR] [--rounds 10] [--gb 1]");
    Console.WriteLine("            training [--shared DIR] [--runs fashion_brands-ner-efficiency,...] [--seeds 0,1,2] [--trainer Prodigy.Build.Trainer.dll]");
    Console.WriteLine("            pipelines [--shared DIR] [--threads 1,2] [--passes 5] [--pipelines ner,spancat,textcat,textcat_multilabel]");
    Console.WriteLine("            databases [--shared DIR] [--passes 3]  (PostgreSQL and MariaDB from PRODIGY_TEST_POSTGRES / PRODIGY_TEST_MYSQL)");
    return arguments.Count == 0 ? 2 : 0;
}

string Option(string name, string fallback)
{
    var i = arguments.IndexOf("--" + name);
    return i >= 0 && i + 1 < arguments.Count ? arguments[i + 1] : fallback;
}

var shared = Option("shared", SharedLocator.Find());
switch (arguments[0])
{
    case "tokenizer":
        TokenizerBenchmark.Run(
            shared,
            double.Parse(Option("mb", "5"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Option("passes", "5"), System.Globalization.CultureInfo.InvariantCulture),
            Option("langs", "en,de,fr,es,it,nl,pt,xx").Split(','));
        return 0;
    case "corpus":
        CorpusBenchmark.Run(
            shared,
            Option("tool", ToolLocator.Find()),
            int.Parse(Option("examples", "50000"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Option("runs", "3"), System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "training":
        TrainingBenchmark.Run(
            shared,
            Option("trainer", Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "tasks", "Prodigy.Build.Trainer", "bin", "Release", "net10.0", "Prodigy.Build.Trainer.dll"))),
            Option("runs", string.Join(",", TrainingBenchmark.DefaultRuns)).Split(','),
            Option("seeds", "0,1,2").Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToList());
        return 0;
    case "pipelines":
        PipelineBenchmark.Run(
            shared,
            Option("threads", "1,2").Split(',').Select(t => int.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToList(),
            int.Parse(Option("passes", "5"), System.Globalization.CultureInfo.InvariantCulture),
            Option("pipelines", string.Join(",", PipelineBenchmark.Pipelines.Select(p => p.Name))).Split(','));
        return 0;
    case "databases":
        DatabaseBenchmark.Run(shared, int.Parse(Option("passes", "3"), System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "incremental":
        IncrementalBenchmark.Run(
            shared,
            int.Parse(Option("rounds", "10"), System.Globalization.CultureInfo.InvariantCulture),
            double.Parse(Option("gb", "1"), System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    default:
        Console.Error.WriteLine($"unknown benchmark '{arguments[0]}'");
        return 2;
}
