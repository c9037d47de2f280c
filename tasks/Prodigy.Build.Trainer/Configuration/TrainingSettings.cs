using Prodigy.Build.Core.Config;
namespace Prodigy.Build.Trainer.Configuration;

/// <summary>The shared token encoder: spaCy's Tok2Vec.v2 with MultiHashEmbed.v2 and MaxoutWindowEncoder.v2.</summary>
public sealed record Tok2VecSettings(int Width, int Depth, int WindowSize, int MaxoutPieces, IReadOnlyList<string> Attrs, IReadOnlyList<int> Rows, bool StaticVectorsRequested);

/// <summary>ner: spaCy's transition-based parser, or (opt-in, <see cref="CrfArchitecture"/>) this SDK's BILUO CRF, which spaCy cannot load.</summary>
public sealed record NerSettings(int HiddenWidth, int MaxoutPieces, string? IncorrectSpansKey, bool Crf = false)
{
    /// <summary>The registered name of the opt-in CRF NER architecture (trained and saved in the TorchSharp format).</summary>
    public const string CrfArchitecture = "prodigy_build.BiluoCrf.v1";

    /// <summary>The component's name in [nlp] pipeline (any name; its factory is ner).</summary>
    public string Name { get; init; } = "ner";
}

/// <summary>textcat / textcat_multilabel: TextCatBOW.v2 (bag of n-grams) or TextCatEnsemble.v2 (that plus a neural part over the encoder).</summary>
public sealed record TextcatSettings(string Component, bool Exclusive, int NgramSize, bool Neural, double Threshold);

/// <summary>spancat: SpanCategorizer.v1 with the n-gram suggester, mean_max_reducer and LinearLogistic.</summary>
public sealed record SpancatSettings(string SpansKey, IReadOnlyList<int> SuggesterSizes, int HiddenSize, double Threshold, int? MaxPositive)
{
    /// <summary>The component's name in [nlp] pipeline (any name; its factory is spancat).</summary>
    public string Name { get; init; } = "spancat";
}

/// <summary>The [training] section, its optimizer and batcher.</summary>
public sealed record LoopSettings(
    int Seed,
    double Dropout,
    int MaxEpochs,
    int MaxSteps,
    int Patience,
    int EvalFrequency,
    double LearnRate,
    double Beta1,
    double Beta2,
    double Eps,
    double L2,
    bool L2IsWeightDecay,
    double GradClip,
    double BatchStart,
    double BatchStop,
    double BatchCompound,
    double BatchTolerance,
    bool DiscardOversize);

/// <summary>Everything the trainer reads from config.cfg: what it honours is documented in docs/training.md.</summary>
public sealed record TrainingSettings(
    string Language,
    IReadOnlyList<string> Pipeline,
    Tok2VecSettings Tok2Vec,
    NerSettings? Ner,
    IReadOnlyList<TextcatSettings> Textcats,
    SpancatSettings? Spancat,
    LoopSettings Loop,
    IReadOnlyList<KeyValuePair<string, double?>> ScoreWeights)
{
    /// <summary>The name of the shared tok2vec component (factory tok2vec), or null when the pipeline has none.</summary>
    public string? Tok2VecComponent { get; init; }

    public static TrainingSettings From(ResolvedConfig config)
    {
        var pipeline = config.StringList("nlp", "pipeline");
        if (pipeline.Count == 0)
        {
            throw new TrainingConfigException(config.Path, "[nlp] pipeline is empty");
        }

        var language = config.String("nlp", "lang") ?? "en";
        Tok2VecSettings? tok2vec = null;
        NerSettings? ner = null;
        SpancatSettings? spancat = null;
        string? tok2vecName = null;
        var textcats = new List<TextcatSettings>();
        var byFactory = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in pipeline)
        {
            var factory = config.String($"components.{name}", "factory") ?? name;
            var model = $"components.{name}.model";
            if (factory is "tok2vec" or "ner" or "spancat" && !byFactory.TryAdd(factory, name))
            {
                throw new TrainingConfigException(config.Path, $"[nlp] pipeline has two {factory} components, '{byFactory[factory]}' and '{name}': the trainer trains one {factory} per pipeline; train the other in a pipeline of its own");
            }

            switch (factory)
            {
                case "tok2vec":
                    tok2vec = ReadTok2Vec(config, model);
                    tok2vecName = name;
                    break;
                case "ner":
                    var crf = config.String(model, "@architectures") == NerSettings.CrfArchitecture;
                    if (!crf)
                    {
                        Require(config, model, "spacy.TransitionBasedParser.v2");
                    }

                    ner = new NerSettings(
                        config.Int(model, "hidden_width", 64),
                        config.Int(model, "maxout_pieces", 2),
                        config.String($"components.{name}", "incorrect_spans_key"),
                        crf)
                    {
                        Name = name,
                    };
                    break;
                case "textcat" or "textcat_multilabel":
                    textcats.Add(ReadTextcat(config, name, factory, model));
                    break;
                case "spancat":
                    Require(config, model, "spacy.SpanCategorizer.v1");
                    var suggester = $"components.{name}.suggester";
                    var misc = config.String(suggester, "@misc");
                    IReadOnlyList<int> sizes = misc switch
                    {
                        null or "spacy.ngram_suggester.v1" => config.IntList(suggester, "sizes") is { Count: > 0 } listed ? listed : [1, 2, 3],
                        "spacy.ngram_range_suggester.v1" => Enumerable.Range(config.Int(suggester, "min_size", 1), Math.Max(0, config.Int(suggester, "max_size", 3) - config.Int(suggester, "min_size", 1) + 1)).ToList(),
                        _ => throw new TrainingConfigException(config.Path, $"[{suggester}] @misc = \"{misc}\": the trainer implements spacy.ngram_suggester.v1 and spacy.ngram_range_suggester.v1"),
                    };
                    if (sizes.Count == 0 || sizes.Any(s => s < 1))
                    {
                        throw new TrainingConfigException(config.Path, $"[{suggester}] suggests the span lengths [{string.Join(", ", sizes)}]; give one or more lengths of 1 or more");
                    }

                    spancat = new SpancatSettings(
                        config.String($"components.{name}", "spans_key") ?? "sc",
                        sizes,
                        config.Int($"{model}.reducer", "hidden_size", 128),
                        config.Double($"components.{name}", "threshold", 0.5),
                        config.IsNull($"components.{name}", "max_positive") ? null : config.Int($"components.{name}", "max_positive", 0))
                    {
                        Name = name,
                    };
                    break;
                default:
                    throw new TrainingConfigException(config.Path, $"component '{name}' (factory '{factory}') is not one the trainer implements: tok2vec, ner, textcat, textcat_multilabel, spancat");
            }
        }

        // Components with their own tok2vec (no shared one) get the default encoder sizes.
        tok2vec ??= new Tok2VecSettings(96, 4, 1, 3, ["NORM", "PREFIX", "SUFFIX", "SHAPE"], [5000, 1000, 2500, 2500], false);

        const string training = "training";
        const string optimizer = "training.optimizer";
        const string batcher = "training.batcher";
        const string size = "training.batcher.size";
        if (config.String(optimizer, "@optimizers") is { } opt && opt != "Adam.v1")
        {
            throw new TrainingConfigException(config.Path, $"[{optimizer}] @optimizers = \"{opt}\": the trainer implements Adam.v1 only");
        }

        if (config.String(batcher, "@batchers") is { } batch && batch != "spacy.batch_by_words.v1")
        {
            throw new TrainingConfigException(config.Path, $"[{batcher}] @batchers = \"{batch}\": the trainer implements spacy.batch_by_words.v1 only");
        }

        double batchStart, batchStop, compound;
        if (config.HasSection(size))
        {
            var schedule = config.String(size, "@schedules");
            if (schedule is not null and not "compounding.v1")
            {
                throw new TrainingConfigException(config.Path, $"[{size}] @schedules = \"{schedule}\": the trainer implements compounding.v1 only");
            }

            batchStart = config.Double(size, "start", 100);
            batchStop = config.Double(size, "stop", 1000);
            compound = config.Double(size, "compound", 1.001);
        }
        else
        {
            batchStart = batchStop = config.Double(batcher, "size", 1000);
            compound = 1.0;
        }

        if (config.HasSection("training.optimizer.learn_rate"))
        {
            throw new TrainingConfigException(config.Path, "[training.optimizer.learn_rate] schedules are not implemented; give learn_rate a number");
        }

        var seedRaw = config.Raw(training, "seed");
        var loop = new LoopSettings(
            Seed: seedRaw is null or "null" ? 0 : config.Int(training, "seed", 0),
            Dropout: config.Double(training, "dropout", 0.1),
            MaxEpochs: config.Int(training, "max_epochs", 0),
            MaxSteps: config.Int(training, "max_steps", 20000),
            Patience: config.Int(training, "patience", 1600),
            EvalFrequency: Math.Max(1, config.Int(training, "eval_frequency", 200)),
            LearnRate: config.Double(optimizer, "learn_rate", 0.001),
            Beta1: config.Double(optimizer, "beta1", 0.9),
            Beta2: config.Double(optimizer, "beta2", 0.999),
            Eps: config.Double(optimizer, "eps", 1e-8),
            L2: config.Double(optimizer, "L2", 0.01),
            L2IsWeightDecay: config.Bool(optimizer, "L2_is_weight_decay", true),
            GradClip: config.Double(optimizer, "grad_clip", 1.0),
            BatchStart: batchStart,
            BatchStop: batchStop,
            BatchCompound: compound,
            BatchTolerance: config.Double(batcher, "tolerance", 0.2),
            DiscardOversize: config.Bool(batcher, "discard_oversize", false));

        var weights = config.Entries("training.score_weights")
            .Select(e => new KeyValuePair<string, double?>(e.Key, e.Value is "null" or "None" ? null : double.Parse(e.Value, System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        return new TrainingSettings(language, pipeline, tok2vec, ner, textcats, spancat, loop, weights) { Tok2VecComponent = tok2vecName };
    }

    private static Tok2VecSettings ReadTok2Vec(ResolvedConfig config, string model)
    {
        Require(config, model, "spacy.Tok2Vec.v2");
        var embed = model + ".embed";
        var encode = model + ".encode";
        Require(config, embed, "spacy.MultiHashEmbed.v2");
        Require(config, encode, "spacy.MaxoutWindowEncoder.v2");
        var attrs = config.StringList(embed, "attrs");
        var rows = config.IntList(embed, "rows");
        if (attrs.Count == 0 || attrs.Count != rows.Count)
        {
            throw new TrainingConfigException(config.Path, $"[{embed}] attrs and rows must be lists of the same length");
        }

        foreach (var attr in attrs)
        {
            if (attr is not ("NORM" or "LOWER" or "ORTH" or "PREFIX" or "SUFFIX" or "SHAPE"))
            {
                throw new TrainingConfigException(config.Path, $"[{embed}] attrs: '{attr}' is not one the trainer embeds (NORM, LOWER, ORTH, PREFIX, SUFFIX, SHAPE)");
            }
        }

        var staticVectors = config.Bool(embed, "include_static_vectors", false);

        return new Tok2VecSettings(
            config.Int(encode, "width", 96),
            config.Int(encode, "depth", 4),
            config.Int(encode, "window_size", 1),
            config.Int(encode, "maxout_pieces", 3),
            attrs,
            rows,
            staticVectors);
    }

    private static TextcatSettings ReadTextcat(ResolvedConfig config, string name, string factory, string model)
    {
        var architecture = config.String(model, "@architectures");
        var exclusive = factory == "textcat";
        switch (architecture)
        {
            case "spacy.TextCatBOW.v2":
                return new TextcatSettings(name, exclusive, config.Int(model, "ngram_size", 1), Neural: false, config.Double($"components.{name}", "threshold", 0.5));
            case "spacy.TextCatEnsemble.v2":
                var linear = model + ".linear_model";
                return new TextcatSettings(name, exclusive, config.Int(linear, "ngram_size", 1), Neural: true, config.Double($"components.{name}", "threshold", 0.5));
            default:
                throw new TrainingConfigException(config.Path, $"[{model}] @architectures = \"{architecture}\": for {factory} the trainer implements spacy.TextCatBOW.v2 and spacy.TextCatEnsemble.v2");
        }
    }

    private static void Require(ResolvedConfig config, string section, string architecture)
    {
        var actual = config.String(section, "@architectures");
        if (actual is not null && actual != architecture)
        {
            throw new TrainingConfigException(config.Path, $"[{section}] @architectures = \"{actual}\" is not implemented by the trainer (it implements {architecture})");
        }
    }
}
