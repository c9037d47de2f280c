using Prodigy.Build.Core.CommandLine;
using Prodigy.Build.Core.Config;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Inference;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;
using TorchSharp;

namespace Prodigy.Build.Trainer;

/// <summary>
/// <c>prodigy-build-train</c>: <c>train</c> a pipeline from a spaCy corpus and config, <c>evaluate</c> a
/// trained pipeline on a corpus. Errors are printed in MSBuild's canonical form
/// (<c>file(line,col): error PRD23xx: message</c>) so that the SDK turns them into build errors.
/// </summary>
public static class TrainerCommandLine
{
    public const string ToolName = "prodigy-build-train";

    /// <summary>The commands, as the usage lists them.</summary>
    internal static readonly string[] Commands = ["train", "evaluate", "train-curve"];

    private const string Usage = """
        Usage:
          prodigy-build-train train --config config.cfg --output DIR [--train train.spacy] [--dev dev.spacy]
                                    [--gpu-id -1] [--base-model DIR] [--label-stats] [--metrics FILE.json] [--threads N]
                                    [--name pipeline] [--version 0.0.0] [--vectors DIR]
          prodigy-build-train evaluate --model DIR --data dev.spacy|data.jsonl [--gpu-id -1] [--metrics FILE.json]
          prodigy-build-train train-curve --config config.cfg --output DIR [--train ...] [--dev ...] [--samples 4]
                                    [--seeds 1] [--show-plot] [--label-stats] [--cache DIR] [--gpu-id -1] [--threads N]
                                    [--vectors DIR]

        --train/--dev default to [paths] train/dev of the config (relative to the current folder).
        --gpu-id: -1 for the CPU (default), else the CUDA device (needs ProdigyTorchBackend=cuda).
        --base-model: a spaCy pipeline folder to start from (a model-best/model-last, spaCy's, or a package's
          name/name-x.y.z layout): the components the config trains are sourced with their weights (labels may
          be added), the others kept as they are, and its tokenizer and vectors used. A pipeline sharing no
          component gives its tokenizer only. The opt-in CRF NER continues a CRF model of this SDK instead.
        --threads: TorchSharp's CPU threads, and the most threads the evaluations' inference runs on
          (default: the number of cores; a neural model's float sums, and so the model, depend on it).
        --vectors: a spaCy pipeline folder whose word vectors (vocab/vectors) to train with and save, in place
          of [initialize] vectors (spacy train's --paths.vectors); needed by include_static_vectors = true.
        --name/--version: meta.json's name and version of model-best/ and model-last/ (spaCy's defaults:
          pipeline, 0.0.0); the name is letters, digits and underscores.
        evaluate --model: a spaCy pipeline folder (nlp.to_disk, spacy train or Prodigy's train output; runs
          without TorchSharp, tokenizes the texts itself and is scored as spacy evaluate scores it) or a model of this SDK.
        evaluate --data: a .spacy corpus, or a Prodigy JSONL export, converted as data-to-spacy converts it
          (answers honoured, texts without tokens tokenized with the model's tokenizer) for the model's components.
        """;

    /// <summary>The process entry: Ctrl+C (or the build's interrupt) stops training at the next batch; the saved models stay.</summary>
    public static int Start(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        return Run(args, Console.Out, cancellation.Token);
    }

    public static int Run(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        void Say(string line)
        {
            output.WriteLine(line);
            output.Flush();
        }

        try
        {
            // @file: one argument per line (how the SDK's tasks pass arguments).
            args = ResponseFiles.Expand(args);
        }
        catch (ResponseFileNotFoundException e)
        {
            Say($"{ToolName}: error PRD2300: {e.Message}");
            return 2;
        }

        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Say(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        Dictionary<string, string> options;
        try
        {
            options = ParseOptions(args.AsSpan(1));
        }
        catch (ArgumentException e)
        {
            Say($"{ToolName}: error PRD2300: {e.Message}\n{Usage}");
            return 2;
        }

        // --threads bounds the evaluations' managed inference as it bounds TorchSharp (the default: the processor count).
        var parallelism = Core.Pipelines.SpacyPipeline.DefaultParallelism;
        try
        {
            if (options.ContainsKey("threads"))
            {
                Core.Pipelines.SpacyPipeline.DefaultParallelism = IntegerOption(options, "threads", 0);
            }

            return args[0] switch
            {
                "train" => Train(options, Say, cancellationToken),
                "evaluate" => Evaluate(options, Say),
                "train-curve" => TrainCurve(options, Say, cancellationToken),
                _ => throw new ArgumentException($"unknown command '{args[0]}'; the commands are {string.Join(", ", Commands)}"),
            };
        }
        catch (TrainingConfigException e)
        {
            Say($"{e.ConfigPath}: error PRD2301: {e.Message}");
            return 1;
        }
        catch (TorchBackendUnavailableException e)
        {
            Say($"{ToolName}: error PRD2302: {e.Message}");
            return 1;
        }
        catch (TrainerInputException e)
        {
            Say($"{e.Origin}: error {e.Code}: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            Say($"{ToolName}: error PRD2300: {e.Message}\n{Usage}");
            return 2;
        }
        finally
        {
            Core.Pipelines.SpacyPipeline.DefaultParallelism = parallelism;
        }
    }

    private static int Train(Dictionary<string, string> options, Action<string> say, CancellationToken cancellationToken)
    {
        var (configPath, output, config, settings, trainPath, devPath, device) = LoadTrainingInputs(options, say);
        var beforeCorpus = ResidentMegabytes();
        var train = ReadCorpus(trainPath, settings);
        var dev = ReadCorpus(devPath, settings);
        var afterCorpus = ResidentMegabytes();
        if (train.Count == 0)
        {
            throw new TrainerInputException("PRD2305", "the training corpus has no documents with tokens", trainPath);
        }

        if (dev.Count == 0)
        {
            throw new TrainerInputException("PRD2305", "the evaluation corpus has no documents with tokens", devPath);
        }

        say($"Training: {train.Count} | Evaluation: {dev.Count}");
        say(device is { } gpu ? $"Using GPU: {gpu.index}" : "Using CPU");
        var result = PipelineTrainer.Train(
            new TrainingRun
            {
                Settings = settings,
                ConfigText = File.ReadAllText(configPath),
                OutputDirectory = output,
                Device = device,
                StartCpuTorch = () => StartCpuTorch(options, say),
                LabelsFile = component => LabelsFile(config, component),
                Log = say,
                BaseModel = options.GetValueOrDefault("base-model"),
                Vectors = options.GetValueOrDefault("vectors"),
                ModelName = ModelName(options),
                ModelVersion = ModelVersion(options),
            },
            train,
            dev,
            cancellationToken);

        // Where the memory went: the process before the corpus, then with the corpus read, then the peak of training (TorchSharp's native libraries loaded or not).
        double peak;
        using (var process = System.Diagnostics.Process.GetCurrentProcess())
        {
            peak = process.PeakWorkingSet64 / (1024.0 * 1024.0);
        }

        say(string.Create(CultureInfo.InvariantCulture, $"Memory: peak {peak:F0} MB ({beforeCorpus:F0} MB before the corpus, {afterCorpus:F0} MB with it read; {(TorchNativeLoaded() ? "TorchSharp's native libraries loaded" : "TorchSharp's native libraries not loaded: the bag-of-words text classifiers trained in managed code")})"));
        var metrics = new JsonObject
        {
            ["peak_memory_mb"] = Math.Round(peak),
            ["score"] = result.BestScore,
            ["best_step"] = result.BestStep,
            ["steps"] = result.Steps,
            // spaCy numbers steps from 0: the last update's number, as its log's last row shows it.
            ["final_step"] = Math.Max(0, result.Steps - 1),
            ["epochs"] = result.Epochs,
            ["seconds"] = Math.Round(result.Seconds, 3),
            ["cancelled"] = result.Cancelled,
            ["scores"] = ScoresJson(result.BestScores),
        };
        var metricsPath = options.GetValueOrDefault("metrics") ?? Path.Combine(output, "metrics.json");
        WriteJson(metricsPath, metrics);
        if (options.ContainsKey("label-stats"))
        {
            foreach (var line in LabelStats.Table(result.BestScores))
            {
                say(line);
            }
        }

        if (result.Cancelled)
        {
            say($"Cancelled after {result.Steps} steps; the best model so far stays in {Path.Combine(output, "model-best")}");
            return 1;
        }

        say(string.Create(CultureInfo.InvariantCulture, $"Saved pipeline to output directory: {Path.Combine(output, "model-best")} (score {result.BestScore:0.00} at step {result.BestStep}) and {Path.Combine(output, "model-last")}; {result.Steps} steps, {result.Epochs} epochs in {result.Seconds:0.0} s"));
        return 0;
    }

    // What the process has mapped, where the system says (Linux); elsewhere whether this trainer started TorchSharp.
    private static bool TorchNativeLoaded() =>
        OperatingSystem.IsLinux() && File.Exists("/proc/self/maps")
            ? File.ReadLines("/proc/self/maps").Any(line => line.Contains("libtorch", StringComparison.Ordinal))
            : TorchRuntime.IsStarted;

    private static double ResidentMegabytes()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }

    private static int TrainCurve(Dictionary<string, string> options, Action<string> say, CancellationToken cancellationToken)
    {
        var samples = IntegerOption(options, "samples", 4);
        var seeds = IntegerOption(options, "seeds", 1);

        var (configPath, output, config, settings, trainPath, devPath, device) = LoadTrainingInputs(options, say);
        var train = ReadCorpus(trainPath, settings);
        var dev = ReadCorpus(devPath, settings);
        say("========================= Train curve diagnostic =========================");
        say($"Training: {train.Count} | Evaluation: {dev.Count} (the same evaluation set for every point)");
        var labelFiles = settings.Pipeline.Select(c => config.String($"initialize.components.{c}.labels", "path")).Where(p => p is not null && File.Exists(p)).Select(p => p!);
        // The cached points are valid while the data they were trained on is: corpus, labels and word vectors.
        var vectorsFolder = options.GetValueOrDefault("vectors") ?? (config.IsNull("initialize", "vectors") ? null : config.String("initialize", "vectors"));
        var vectorFiles = vectorsFolder is not null && Directory.Exists(vectorsFolder)
            ? new[] { "vectors", "key2row" }.Select(f => Path.Combine(Core.Pipelines.SpacyPipeline.ResolvePackageFolder(vectorsFolder), "vocab", f)).Where(File.Exists)
            : [];
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in new[] { trainPath, devPath }.Concat(labelFiles).Concat(vectorFiles))
        {
            using var stream = File.OpenRead(file);
            var buffer = new byte[1 << 16];
            for (int read; (read = stream.Read(buffer)) > 0;)
            {
                hash.AppendData(buffer, 0, read);
            }
        }

        var fingerprint = Convert.ToHexStringLower(hash.GetHashAndReset());
        var rows = LearningCurve.Run(
            new TrainingRun
            {
                Settings = settings,
                ConfigText = File.ReadAllText(configPath),
                Device = device,
                StartCpuTorch = () => StartCpuTorch(options, say),
                LabelsFile = component => LabelsFile(config, component),
                Log = say,
                Vectors = options.GetValueOrDefault("vectors"),
            },
            train,
            dev,
            samples,
            seeds,
            options.GetValueOrDefault("cache") ?? Path.Combine(output, "points"),
            fingerprint,
            cancellationToken);
        var components = LearningCurve.ComponentKeys(settings).Select(c => c.Name).ToList();
        say("");
        foreach (var line in CurveReport.Table(rows, components, withSpread: seeds > 1))
        {
            say(line);
        }

        say("");
        foreach (var line in CurveReport.Verdict(rows))
        {
            say(line);
        }

        if (options.ContainsKey("show-plot"))
        {
            say("");
            foreach (var line in CurveReport.AsciiPlot(rows))
            {
                say(line);
            }
        }

        if (options.ContainsKey("label-stats"))
        {
            foreach (var row in rows)
            {
                foreach (var (key, labels) in row.Points[0].LabelF.OrderBy(l => l.Key, StringComparer.Ordinal))
                {
                    say($"{row.Percent}% {key}: " + string.Join(", ", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Key} {l.Value * 100:0.00}"))));
                }
            }
        }

        Directory.CreateDirectory(output);
        WriteJson(Path.Combine(output, "curve.json"), CurveReport.Json(rows, components, seeds));
        Core.Config.AtomicFile.WriteAllBytes(Path.Combine(output, "curve.csv"), System.Text.Encoding.UTF8.GetBytes(CurveReport.Csv(rows, components)));
        Core.Config.AtomicFile.WriteAllBytes(Path.Combine(output, "curve.svg"), System.Text.Encoding.UTF8.GetBytes(CurveReport.Svg(rows, components)));
        say($"Saved the curve: {Path.Combine(output, "curve.json")}, curve.csv, curve.svg");
        return 0;
    }

    /// <summary>What train and train-curve both read: the config, its settings, the corpus paths (options, else [paths]) and the device.</summary>
    private static (string ConfigPath, string Output, ResolvedConfig Config, TrainingSettings Settings, string TrainPath, string DevPath, torch.Device? Device) LoadTrainingInputs(
        Dictionary<string, string> options, Action<string> say)
    {
        var configPath = Required(options, "config");
        var output = Required(options, "output");
        if (!File.Exists(configPath))
        {
            throw new TrainerInputException("PRD2303", $"the config does not exist: {configPath}", configPath);
        }

        var config = ResolvedConfig.Load(configPath);
        var settings = TrainingSettings.From(config);
        var trainPath = options.GetValueOrDefault("train") ?? config.String("paths", "train") ?? throw new TrainerInputException("PRD2304", "no training corpus: give --train or set [paths] train", configPath);
        var devPath = options.GetValueOrDefault("dev") ?? config.String("paths", "dev") ?? throw new TrainerInputException("PRD2304", "no evaluation corpus: give --dev or set [paths] dev", configPath);
        // A GPU run starts TorchSharp now; on the CPU the trainer starts it when a component needs it.
        return (configPath, output, config, settings, trainPath, devPath, IntegerOption(options, "gpu-id", -1) >= 0 ? StartTorch(options, say) : null);
    }

    private static void WriteJson(string path, JsonNode json) =>
        Core.Config.AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(json, new JsonSerializerOptions { WriteIndented = true }));

    private static int Evaluate(Dictionary<string, string> options, Action<string> say)
    {
        var model = Required(options, "model");
        var data = Required(options, "data");
        // A spaCy pipeline folder runs in managed code: TorchSharp is started only for this SDK's own models.
        var device = TrainedPipeline.IsSpacyPipelineFolder(model) ? null : StartTorch(options, say);
        using var pipeline = TrainedPipeline.Load(model, device);
        var examples = data.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)
            ? ProdigyEvaluationData.Read(data, model, pipeline.Settings, say)
            : ReadCorpus(data, pipeline.Settings);
        // spaCy's nlp.evaluate reports "speed": words per second of the pipeline over the docs (warm).
        pipeline.Score(examples.Take(16).ToList());
        var timer = System.Diagnostics.Stopwatch.StartNew();
        var scores = pipeline.Score(examples);
        var speed = examples.Sum(e => e.Length) / Math.Max(timer.Elapsed.TotalSeconds, 1e-9);
        scores.Values["speed"] = speed;
        var score = scores.Weighted(pipeline.Settings.ScoreWeights);
        foreach (var (key, value) in scores.Values.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var shown = value is not { } v ? "-" : key == "speed" ? v.ToString("0", CultureInfo.InvariantCulture) : (v * 100).ToString("0.00", CultureInfo.InvariantCulture);
            say(string.Create(CultureInfo.InvariantCulture, $"{key,-24} {shown,8}"));
        }

        say(string.Create(CultureInfo.InvariantCulture, $"{"SCORE",-24} {score,8:0.00}"));
        foreach (var line in LabelStats.Table(scores))
        {
            say(line);
        }

        if (options.GetValueOrDefault("metrics") is { } metricsPath)
        {
            var metrics = new JsonObject { ["score"] = score, ["scores"] = ScoresJson(scores) };
            WriteJson(metricsPath, metrics);
        }

        return 0;
    }

    /// <summary>The scores as spaCy writes them (numbers, per-type tables, AUC per type, descriptions).</summary>
    internal static JsonObject ScoresJson(ScoreSet scores)
    {
        var json = new JsonObject();
        foreach (var (key, value) in scores.Values.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            json[key] = value is { } v && !double.IsNaN(v) ? JsonValue.Create(v) : null;
        }

        foreach (var (key, value) in scores.Descriptions)
        {
            json[key] = value;
        }

        foreach (var (key, table) in scores.PerType.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            json[key] = table is null ? null : new JsonObject(table.Select(t => new KeyValuePair<string, JsonNode?>(t.Key, new JsonObject { ["p"] = t.Value.P, ["r"] = t.Value.R, ["f"] = t.Value.F })));
        }

        foreach (var (key, table) in scores.AucPerType)
        {
            json[key] = new JsonObject(table.Select(t => new KeyValuePair<string, JsonNode?>(t.Key, t.Value is { } v && !double.IsNaN(v) ? JsonValue.Create(v) : null)));
        }

        return json;
    }

    // --name and --version become meta.json's name and version, checked before any training.
    private static string ModelName(Dictionary<string, string> options)
    {
        var name = options.GetValueOrDefault("name") ?? ModelDirectory.DefaultName;
        return ModelDirectory.IsValidName(name)
            ? name
            : throw new TrainerInputException("PRD2311", $"--name '{name}' cannot be a spaCy pipeline name: use letters, digits and underscores, not starting with a digit (e.g. fashion_ner)");
    }

    private static string ModelVersion(Dictionary<string, string> options)
    {
        var version = options.GetValueOrDefault("version") ?? ModelDirectory.DefaultVersion;
        return ModelDirectory.IsValidVersion(version)
            ? version
            : throw new TrainerInputException("PRD2311", $"--version '{version}' is not a version spaCy's packaging accepts: use dotted numbers such as 1.2.0");
    }

    // TorchSharp on the CPU, started by the trainer once it knows a component needs it.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static torch.Device StartCpuTorch(Dictionary<string, string> options, Action<string> say)
    {
        var device = StartTorch(options, say);
        say($"TorchSharp on the CPU: {torch.get_num_threads()} threads");
        return device;
    }

    private static torch.Device StartTorch(Dictionary<string, string> options, Action<string> say)
    {
        var gpu = IntegerOption(options, "gpu-id", -1);
        TorchRuntime.Initialize(gpu >= 0 ? TorchDevice.Cuda : TorchDevice.Cpu, new TorchRuntimeOptions { Log = say });
        if (options.ContainsKey("threads"))
        {
            torch.set_num_threads(IntegerOption(options, "threads", 0));
        }

        return gpu >= 0 ? new torch.Device(DeviceType.CUDA, gpu) : torch.CPU;
    }

    private static List<Example> ReadCorpus(string path, TrainingSettings settings)
    {
        if (!File.Exists(path))
        {
            throw new TrainerInputException("PRD2304", "the corpus does not exist; build it first (dotnet build -t:DataToSpacy)", path);
        }

        IReadOnlyList<SpacyDoc> docs;
        try
        {
            docs = DocBin.Read(path);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or NotSupportedException or EndOfStreamException)
        {
            throw new TrainerInputException("PRD2307", $"the corpus cannot be read as a spaCy DocBin: {e.Message}", path);
        }

        // spaCy's Corpus skips empty documents, for training and evaluation alike: they neither train nor count in a score.
        return docs.Where(d => d.Words.Count > 0).Select(d => Example.FromDoc(d, settings.Ner?.IncorrectSpansKey ?? "incorrect_spans")).ToList();
    }

    private static IReadOnlyList<string>? LabelsFile(ResolvedConfig config, string component)
    {
        var section = $"initialize.components.{component}.labels";
        if (config.String(section, "path") is not { } path || !File.Exists(path))
        {
            return null;
        }

        var labels = JsonSerializer.Deserialize<List<string>>(File.ReadAllText(path));
        return labels;
    }

    /// <summary>A whole-number option (<see cref="NumberOptions"/>), or <paramref name="fallback"/> when absent; a typo is a usage error naming the option and the value.</summary>
    internal static int IntegerOption(Dictionary<string, string> options, string name, int fallback)
    {
        var minimum = NumberOptions.First(o => o.Name == name).Minimum;
        if (!options.TryGetValue(name, out var text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw new ArgumentException($"--{name} '{text}' is not a whole number");
        }

        return value >= minimum
            ? value
            : throw new ArgumentException($"--{name} {value} is below its smallest value, {minimum}");
    }

    private static string Required(Dictionary<string, string> options, string name) =>
        options.GetValueOrDefault(name) ?? throw new ArgumentException($"--{name} is required");

    private static Dictionary<string, string> ParseOptions(ReadOnlySpan<string> args)
    {
        var flags = new HashSet<string>(StringComparer.Ordinal) { "label-stats", "show-plot" };
        var known = new HashSet<string>(StringComparer.Ordinal) { "config", "output", "train", "dev", "gpu-id", "base-model", "label-stats", "metrics", "threads", "model", "data", "samples", "seeds", "show-plot", "cache", "name", "version", "vectors" };
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || !known.Contains(args[i][2..]))
            {
                throw new ArgumentException($"unknown argument '{args[i]}'");
            }

            var name = args[i][2..];
            if (flags.Contains(name))
            {
                options[name] = "true";
            }
            else if (i + 1 < args.Length)
            {
                options[name] = args[++i];
            }
            else
            {
                throw new ArgumentException($"--{name} needs a value");
            }
        }

        // The numbers first, whatever the command: a typo is reported before any work starts.
        foreach (var (name, _) in NumberOptions)
        {
            IntegerOption(options, name, 0);
        }

        return options;
    }

    /// <summary>The whole-number options and their smallest values.</summary>
    private static readonly (string Name, int Minimum)[] NumberOptions = [("gpu-id", -1), ("threads", 1), ("samples", 1), ("seeds", 1)];
}

/// <summary>Bad input to the trainer: a code, the file (and the line and column when known), what is wrong.</summary>
public sealed class TrainerInputException(string code, string message, string? file = null, int line = 0, int column = 0) : Exception(message)
{
    public string Code { get; } = code;

    public string? File { get; } = file;

    public int Line { get; } = line;

    /// <summary>Where, as MSBuild reads it: <c>file(line,col)</c>, the file, or the tool's name.</summary>
    public string Origin => OriginOf(File, Line, column);

    /// <summary><c>file(line,col)</c>, the file, or the tool's name: the origin of an MSBuild canonical message.</summary>
    public static string OriginOf(string? file, int line, int column) =>
        file is null ? TrainerCommandLine.ToolName : line > 0 ? $"{file}({line},{Math.Max(column, 1)})" : file;
}
