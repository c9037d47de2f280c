namespace Prodigy.Build.Core.Config;

/// <summary>
/// Generates the <c>config.cfg</c> that <c>python -m spacy init config</c> (spaCy 3.5.4, no
/// spacy-transformers) writes: spaCy's quickstart template for the request, auto-filled with the
/// components' and training defaults, serialized as thinc does (section order, compact JSON values,
/// one blank line between sections, no final newline).
/// </summary>
public static class SpacyConfigGenerator
{
    /// <summary>The components this generator knows.</summary>
    public static IReadOnlyList<string> SupportedComponents { get; } = ["ner", "textcat", "textcat_multilabel", "spancat"];

    private const string Tok2VecWidth = "${components.tok2vec.model.encode.width}";

    /// <summary>The filled config text, byte-identical to <c>spacy init config</c>'s output.</summary>
    public static string Generate(SpacyConfigRequest request) => GenerateDocument(request).ToString();

    /// <summary>The filled config as an editable document.</summary>
    public static SpacyConfigDocument GenerateDocument(SpacyConfigRequest request)
    {
        Validate(request);
        var components = request.Components;
        var accuracy = request.Optimize == SpacyOptimize.Accuracy;
        var hasTok2Vec = NeedsTok2Vec(components, request.Optimize);
        string[] pipeline = hasTok2Vec ? ["tok2vec", .. components] : [.. components];

        var doc = SpacyConfigDocument.CreateEmpty();
        Section(doc, "paths",
            ("train", ConfigValues.Null),
            ("dev", ConfigValues.Null),
            ("vectors", accuracy && SpacyLanguages.RecommendedWordVectors(request.Lang) is { } vectors
                ? ConfigValues.String(vectors)
                : ConfigValues.Null),
            ("init_tok2vec", ConfigValues.Null));
        Section(doc, "system",
            ("gpu_allocator", ConfigValues.Null),
            ("seed", "0"));
        Section(doc, "nlp",
            ("lang", ConfigValues.String(request.Lang)),
            ("pipeline", ConfigValues.StringList(pipeline)),
            ("batch_size", request.Gpu ? "128" : "1000"),
            ("disabled", "[]"),
            ("before_creation", ConfigValues.Null),
            ("after_creation", ConfigValues.Null),
            ("after_pipeline_creation", ConfigValues.Null),
            ("tokenizer", ConfigValues.StringDict(("@tokenizers", "spacy.Tokenizer.v1"))));
        Section(doc, "components");
        foreach (var component in components)
        {
            switch (component)
            {
                case "ner": Ner(doc); break;
                case "textcat": TextCat(doc, component, exclusive: true, accuracy); break;
                case "textcat_multilabel": TextCat(doc, component, exclusive: false, accuracy); break;
                case "spancat": SpanCat(doc); break;
            }
        }

        if (hasTok2Vec)
        {
            Tok2Vec(doc, accuracy);
        }

        Corpora(doc);
        Training(doc, components);
        Section(doc, "pretraining");
        Section(doc, "initialize",
            ("vectors", "${paths.vectors}"),
            ("init_tok2vec", "${paths.init_tok2vec}"),
            ("vocab_data", ConfigValues.Null),
            ("lookups", ConfigValues.Null),
            ("before_init", ConfigValues.Null),
            ("after_init", ConfigValues.Null));
        Section(doc, "initialize.components");
        Section(doc, "initialize.tokenizer");
        return doc;
    }

    /// <summary>
    /// Whether spaCy's quickstart adds the shared <c>tok2vec</c>: any component that listens to it
    /// (ner, spancat), or a text classifier with <c>accuracy</c> (the ensemble listens); a pipeline of
    /// only bag-of-words text classifiers (efficiency) has none.
    /// </summary>
    public static bool NeedsTok2Vec(IReadOnlyList<string> components, SpacyOptimize optimize) =>
        components.Any(c => c is "ner" or "spancat")
        || (optimize == SpacyOptimize.Accuracy && components.Any(c => c is "textcat" or "textcat_multilabel"));

    /// <summary>
    /// <c>[training.score_weights]</c>: spaCy's <c>combine_score_weights</c> over the components'
    /// default weights in pipeline order (a later component's value for a key already present replaces
    /// it in place), each non-zero weight divided by their sum and rounded to 2 decimals.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, double?>> ScoreWeights(IReadOnlyList<string> components, string spansKey = "sc")
    {
        var keys = new List<string>();
        var values = new Dictionary<string, double?>(StringComparer.Ordinal);
        void Add(string key, double? value)
        {
            if (!values.ContainsKey(key))
            {
                keys.Add(key);
            }

            values[key] = value;
        }

        foreach (var component in components)
        {
            switch (component)
            {
                case "ner":
                    Add("ents_f", 1.0);
                    Add("ents_p", 0.0);
                    Add("ents_r", 0.0);
                    Add("ents_per_type", null);
                    break;
                case "textcat" or "textcat_multilabel":
                    Add("cats_score", 1.0);
                    foreach (var key in new[] { "cats_score_desc", "cats_micro_p", "cats_micro_r", "cats_micro_f", "cats_macro_p", "cats_macro_r", "cats_macro_f", "cats_macro_auc", "cats_f_per_type" })
                    {
                        Add(key, null);
                    }

                    break;
                case "spancat":
                    Add($"spans_{spansKey}_f", 1.0);
                    Add($"spans_{spansKey}_p", 0.0);
                    Add($"spans_{spansKey}_r", 0.0);
                    break;
            }
        }

        var sum = values.Values.Sum(v => v ?? 0.0);
        return keys.Select(k =>
        {
            var v = values[k];
            if (v is { } value && value != 0.0 && sum > 0)
            {
                v = (double)Math.Round((decimal)(value / sum), 2, MidpointRounding.ToEven);
            }

            return KeyValuePair.Create(k, v);
        }).ToList();
    }

    private static void Validate(SpacyConfigRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        SpacyLanguages.Validate(request.Lang);
        ArgumentNullException.ThrowIfNull(request.Components);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var component in request.Components)
        {
            if (!SupportedComponents.Contains(component))
            {
                throw new NotSupportedException(
                    $"component '{component}' is not supported; expected one of {string.Join(", ", SupportedComponents)}");
            }

            if (!seen.Add(component))
            {
                throw new ArgumentException($"component '{component}' appears twice in the pipeline", nameof(request));
            }
        }
    }

    private static void Ner(SpacyConfigDocument doc)
    {
        Section(doc, "components.ner",
            ("factory", ConfigValues.String("ner")),
            ("incorrect_spans_key", ConfigValues.Null),
            ("moves", ConfigValues.Null),
            ("scorer", ConfigValues.StringDict(("@scorers", "spacy.ner_scorer.v1"))),
            ("update_with_oracle_cut_size", "100"));
        Section(doc, "components.ner.model",
            ("@architectures", ConfigValues.String("spacy.TransitionBasedParser.v2")),
            ("state_type", ConfigValues.String("ner")),
            ("extra_state_tokens", "false"),
            ("hidden_width", "64"),
            ("maxout_pieces", "2"),
            ("use_upper", "true"),
            ("nO", ConfigValues.Null));
        Listener(doc, "components.ner.model.tok2vec");
    }

    private static void TextCat(SpacyConfigDocument doc, string name, bool exclusive, bool accuracy)
    {
        Section(doc, $"components.{name}",
            ("factory", ConfigValues.String(name)),
            ("scorer", ConfigValues.StringDict(("@scorers", exclusive ? "spacy.textcat_scorer.v2" : "spacy.textcat_multilabel_scorer.v2"))),
            ("threshold", ConfigValues.Float(exclusive ? 0.0 : 0.5)));
        if (accuracy)
        {
            Section(doc, $"components.{name}.model",
                ("@architectures", ConfigValues.String("spacy.TextCatEnsemble.v2")),
                ("nO", ConfigValues.Null));
            BagOfWords(doc, $"components.{name}.model.linear_model", exclusive);
            Listener(doc, $"components.{name}.model.tok2vec");
        }
        else
        {
            BagOfWords(doc, $"components.{name}.model", exclusive);
        }
    }

    private static void BagOfWords(SpacyConfigDocument doc, string section, bool exclusive) =>
        Section(doc, section,
            ("@architectures", ConfigValues.String("spacy.TextCatBOW.v2")),
            ("exclusive_classes", ConfigValues.Bool(exclusive)),
            ("ngram_size", "1"),
            ("no_output_layer", "false"),
            ("nO", ConfigValues.Null));

    private static void SpanCat(SpacyConfigDocument doc)
    {
        Section(doc, "components.spancat",
            ("factory", ConfigValues.String("spancat")),
            ("max_positive", ConfigValues.Null),
            ("scorer", ConfigValues.StringDict(("@scorers", "spacy.spancat_scorer.v1"))),
            ("spans_key", ConfigValues.String("sc")),
            ("threshold", ConfigValues.Float(0.5)));
        Section(doc, "components.spancat.model",
            ("@architectures", ConfigValues.String("spacy.SpanCategorizer.v1")));
        Section(doc, "components.spancat.model.reducer",
            ("@layers", ConfigValues.String("spacy.mean_max_reducer.v1")),
            ("hidden_size", "128"));
        Section(doc, "components.spancat.model.scorer",
            ("@layers", ConfigValues.String("spacy.LinearLogistic.v1")),
            ("nO", ConfigValues.Null),
            ("nI", ConfigValues.Null));
        Listener(doc, "components.spancat.model.tok2vec");
        Section(doc, "components.spancat.suggester",
            ("@misc", ConfigValues.String("spacy.ngram_suggester.v1")),
            ("sizes", ConfigValues.List("1", "2", "3")));
    }

    private static void Listener(SpacyConfigDocument doc, string section) =>
        Section(doc, section,
            ("@architectures", ConfigValues.String("spacy.Tok2VecListener.v1")),
            ("width", Tok2VecWidth),
            ("upstream", ConfigValues.String("*")));

    private static void Tok2Vec(SpacyConfigDocument doc, bool accuracy)
    {
        Section(doc, "components.tok2vec",
            ("factory", ConfigValues.String("tok2vec")));
        Section(doc, "components.tok2vec.model",
            ("@architectures", ConfigValues.String("spacy.Tok2Vec.v2")));
        Section(doc, "components.tok2vec.model.embed",
            ("@architectures", ConfigValues.String("spacy.MultiHashEmbed.v2")),
            ("width", Tok2VecWidth),
            ("attrs", ConfigValues.StringList(["NORM", "PREFIX", "SUFFIX", "SHAPE"])),
            ("rows", ConfigValues.List("5000", "1000", "2500", "2500")),
            ("include_static_vectors", ConfigValues.Bool(accuracy)));
        Section(doc, "components.tok2vec.model.encode",
            ("@architectures", ConfigValues.String("spacy.MaxoutWindowEncoder.v2")),
            ("width", accuracy ? "256" : "96"),
            ("depth", accuracy ? "8" : "4"),
            ("window_size", "1"),
            ("maxout_pieces", "3"));
    }

    private static void Corpora(SpacyConfigDocument doc)
    {
        Section(doc, "corpora");
        foreach (var split in new[] { "dev", "train" })
        {
            Section(doc, $"corpora.{split}",
                ("@readers", ConfigValues.String("spacy.Corpus.v1")),
                ("path", $"${{paths.{split}}}"),
                ("max_length", "0"),
                ("gold_preproc", "false"),
                ("limit", "0"),
                ("augmenter", ConfigValues.Null));
        }
    }

    private static void Training(SpacyConfigDocument doc, IReadOnlyList<string> components)
    {
        Section(doc, "training",
            ("dev_corpus", ConfigValues.String("corpora.dev")),
            ("train_corpus", ConfigValues.String("corpora.train")),
            ("seed", "${system.seed}"),
            ("gpu_allocator", "${system.gpu_allocator}"),
            ("dropout", ConfigValues.Float(0.1)),
            ("accumulate_gradient", "1"),
            ("patience", "1600"),
            ("max_epochs", "0"),
            ("max_steps", "20000"),
            ("eval_frequency", "200"),
            ("frozen_components", "[]"),
            ("annotating_components", "[]"),
            ("before_to_disk", ConfigValues.Null),
            ("before_update", ConfigValues.Null));
        Section(doc, "training.batcher",
            ("@batchers", ConfigValues.String("spacy.batch_by_words.v1")),
            ("discard_oversize", "false"),
            ("tolerance", ConfigValues.Float(0.2)),
            ("get_length", ConfigValues.Null));
        Section(doc, "training.batcher.size",
            ("@schedules", ConfigValues.String("compounding.v1")),
            ("start", "100"),
            ("stop", "1000"),
            ("compound", ConfigValues.Float(1.001)),
            ("t", ConfigValues.Float(0.0)));
        Section(doc, "training.logger",
            ("@loggers", ConfigValues.String("spacy.ConsoleLogger.v1")),
            ("progress_bar", "false"));
        Section(doc, "training.optimizer",
            ("@optimizers", ConfigValues.String("Adam.v1")),
            ("beta1", ConfigValues.Float(0.9)),
            ("beta2", ConfigValues.Float(0.999)),
            ("L2_is_weight_decay", "true"),
            ("L2", ConfigValues.Float(0.01)),
            ("grad_clip", ConfigValues.Float(1.0)),
            ("use_averages", "false"),
            ("eps", ConfigValues.Float(1e-8)),
            ("learn_rate", ConfigValues.Float(0.001)));
        var weights = doc.GetOrAddSection("training.score_weights");
        foreach (var (key, value) in ScoreWeights(components))
        {
            weights.SetRaw(key, value is { } v ? ConfigValues.Float(v) : ConfigValues.Null);
        }
    }

    private static void Section(SpacyConfigDocument doc, string name, params (string Key, string Value)[] entries)
    {
        var section = doc.GetOrAddSection(name);
        foreach (var (key, value) in entries)
        {
            section.SetRaw(key, value);
        }
    }
}
