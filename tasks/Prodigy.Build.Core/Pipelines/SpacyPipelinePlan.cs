using System.Text.Json.Nodes;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines.Thinc;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>What a trainer knows of a component's labels before building its model.</summary>
public sealed class ComponentLabels
{
    /// <summary>The labels in the component's order (textcat: as the cfg lists them).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>
    /// For <c>ner</c>: per label, how many training tokens carry it (spaCy's <c>get_actions</c>
    /// frequencies, which order the moves); labels without a count get 0.
    /// </summary>
    public IReadOnlyDictionary<string, long> TokenCounts { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// For <c>ner</c> continuing a base model: the base's classes in its order. They keep their places
    /// (their output rows are the base's) and each new label's B, I, L and U follow, as spaCy's
    /// <c>add_label</c> appends them.
    /// </summary>
    public IReadOnlyList<(int Move, string Label)>? BaseClasses { get; init; }
}

/// <summary>
/// A component of a pipeline about to be written: the layer tree its architecture builds from
/// config.cfg (dims set for its labels), its params by name for a trainer to fill, and its cfg and
/// moves files. Planned components stand in for the real ones while later components resolve their
/// listeners.
/// </summary>
public sealed class ComponentPlan : IPipelineComponent
{
    internal ComponentPlan(string name, string factory, IReadOnlyList<string> labels, ThincLayer tree, IReadOnlyList<ModelParameter> parameters, JsonNode cfg)
    {
        Name = name;
        Factory = factory;
        Labels = labels;
        Tree = tree;
        Parameters = parameters;
        Cfg = cfg;
    }

    public string Name { get; }

    public string Factory { get; }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>Always null: a plan has no model file yet.</summary>
    public ThincModelData? Model => null;

    public ThincLayer Tree { get; }

    /// <summary>The params by name (<see cref="ModelParameter.Key"/>), in a stable order.</summary>
    public IReadOnlyList<ModelParameter> Parameters { get; }

    /// <summary>The cfg file.</summary>
    public JsonNode Cfg { get; }

    /// <summary>For <c>ner</c>: the moves (type, label) in class order, which is the model's output order.</summary>
    public IReadOnlyList<(int Move, string Label)> Moves { get; internal init; } = [];

    /// <summary>For <c>ner</c>: the moves file's frequencies (move type → label → count).</summary>
    internal SortedDictionary<string, SortedDictionary<string, long>>? MoveFrequencies { get; init; }

    /// <summary>For <c>ner</c>: the cfg's incorrect_spans_key, saved in the moves file as neg_key.</summary>
    internal string? NegativeKey { get; init; }

    /// <summary>For components reading a listener: the tok2vec component it listens to.</summary>
    public string? Tok2VecUpstream { get; internal init; }

    /// <summary>Whether <paramref name="other"/> (say a loaded component's tree) was built by the same architecture: the same nodes in walk order.</summary>
    public bool HasArchitectureOf(ThincLayer other)
    {
        var planned = Tree.Walk().ToList();
        var walk = other.Walk().ToList();
        return planned.Count == walk.Count && planned.Zip(walk).All(p => p.First.Name == p.Second.Name);
    }

    /// <summary>
    /// The value <paramref name="parameter"/> has in a bound tree of the same architecture (the node at
    /// the same walk place), or null when that node has none.
    /// </summary>
    public NdArray? ValueIn(ThincLayer bound, ModelParameter parameter)
    {
        var index = Tree.Walk().TakeWhile(l => !ReferenceEquals(l, parameter.Layer)).Count();
        return bound.Walk().ElementAtOrDefault(index)?.Data?.Param(parameter.Param);
    }

    /// <summary>A param by name.</summary>
    public ModelParameter Parameter(string key) => Parameters.FirstOrDefault(p => p.Key == key)
        ?? throw new KeyNotFoundException($"component '{Name}' has no param '{key}'");

    public void Predict(IReadOnlyList<PipelineDoc> docs) =>
        throw new InvalidOperationException($"component '{Name}' is a plan for writing; load the written folder to predict");

    internal SpacyComponentFiles ToFiles() => new()
    {
        Name = Name,
        Cfg = Cfg.DeepClone(),
        Model = Tree.ToModelData(),
        Moves = MoveFrequencies is null ? null : MovesFile(),
    };

    // The moves file: msgpack {"moves": JSON of move type -> {label: frequency}, "cfg": {"neg_key": ...}}.
    private object MovesFile()
    {
        var json = new System.Text.StringBuilder("{");
        var firstMove = true;
        foreach (var (move, labels) in MoveFrequencies!)
        {
            json.Append(firstMove ? "" : ",");
            firstMove = false;
            SrslyJson.AppendString(json, move);
            json.Append(":{");
            var firstLabel = true;
            // srsly dumps each Counter in insertion order, which initialize_actions makes descending (frequency, label).
            foreach (var (label, count) in labels.OrderByDescending(l => l.Value).ThenByDescending(l => l.Key, StringComparer.Ordinal))
            {
                json.Append(firstLabel ? "" : ",");
                firstLabel = false;
                SrslyJson.AppendString(json, label);
                json.Append(':').Append(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            json.Append('}');
        }

        json.Append('}');
        return new List<KeyValuePair<object?, object?>>
        {
            new("moves", json.ToString()),
            new("cfg", new List<KeyValuePair<object?, object?>> { new("neg_key", NegativeKey) }),
        };
    }
}

/// <summary>
/// A spaCy pipeline planned from config.cfg and the labels, for a trainer to fill with weights and
/// write as a folder that <c>spacy.load</c> and <see cref="SpacyPipeline.Load"/> read: each
/// component's tree is built by the same builders the reader uses, so what is written is what
/// the reader (and spaCy, from the same config) expects.
/// </summary>
public sealed class SpacyPipelinePlan
{
    /// <summary>The factories a plan can be made for (the trainer's spaCy-format components).</summary>
    public static IReadOnlyList<string> PlannableFactories { get; } = ["tok2vec", "ner", "textcat", "textcat_multilabel", "spancat"];

    private SpacyPipelinePlan(ResolvedConfig config, SpacyVocab vocab, IReadOnlyList<ComponentPlan> components)
    {
        Config = config;
        Vocab = vocab;
        Components = components;
    }

    public ResolvedConfig Config { get; }

    public SpacyVocab Vocab { get; }

    public IReadOnlyList<ComponentPlan> Components { get; }

    public ComponentPlan Component(string name) => Components.FirstOrDefault(c => c.Name == name)
        ?? throw new KeyNotFoundException($"the plan has no component '{name}'");

    /// <summary>
    /// Whether every component of <c>[nlp] pipeline</c> can be planned, and if not, why (the first
    /// component or architecture that cannot).
    /// </summary>
    public static bool CanPlan(ResolvedConfig config, out string reason)
    {
        foreach (var name in config.StringList("nlp", "pipeline"))
        {
            var factory = config.String($"components.{name}", "factory") ?? "";
            if (!PlannableFactories.Contains(factory))
            {
                reason = $"component '{name}' ({factory})";
                return false;
            }

            var architecture = config.String($"components.{name}.model", "@architectures") ?? "";
            if (factory is "ner" && architecture != "spacy.TransitionBasedParser.v2")
            {
                reason = $"component '{name}' ({architecture})";
                return false;
            }

            if (factory is "textcat" or "textcat_multilabel" && architecture is not ("spacy.TextCatBOW.v2" or "spacy.TextCatEnsemble.v2"))
            {
                reason = $"component '{name}' ({architecture})";
                return false;
            }
        }

        reason = "";
        return true;
    }

    /// <summary>Builds every component's tree for its labels; errors are the reader's PRD24xx for the config.</summary>
    public static SpacyPipelinePlan Create(ResolvedConfig config, SpacyVocab vocab, Func<string, ComponentLabels> labels)
    {
        var components = new List<ComponentPlan>();
        foreach (var name in config.StringList("nlp", "pipeline"))
        {
            var factory = config.String($"components.{name}", "factory")
                ?? throw new SpacyPipelineException("PRD2404", $"[components.{name}] has no factory", config.Path);
            var context = new ComponentContext
            {
                Config = config,
                Name = name,
                Directory = "",
                Previous = components.ToList(),
                Vocab = vocab,
            };
            components.Add(factory switch
            {
                "tok2vec" => PlanTok2Vec(context),
                "ner" => PlanEntityRecognizer(context, labels(name)),
                "textcat" or "textcat_multilabel" => PlanTextCategorizer(context, factory, labels(name)),
                "spancat" => PlanSpanCategorizer(context, labels(name)),
                _ => throw new SpacyPipelineException(
                    "PRD2404",
                    $"component '{name}' has the factory '{factory}', which the trainer cannot write in spaCy's format yet; supported: {string.Join(", ", PlannableFactories)}",
                    config.Path),
            });
        }

        return new SpacyPipelinePlan(config, vocab, components);
    }

    private static ComponentPlan PlanTok2Vec(ComponentContext context)
    {
        var model = Tok2VecModel.Build(context, context.ModelSection);
        var parameters = new List<ModelParameter>();
        model.CollectParameters("", parameters);
        return new ComponentPlan(context.Name, "tok2vec", [], model.Tree, parameters, new JsonObject());
    }

    private static ComponentPlan PlanEntityRecognizer(ComponentContext context, ComponentLabels labels)
    {
        var config = context.Config;
        var section = context.Section;

        var frequencies = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        for (var move = BiluoTransitionSystem.Missing; move <= BiluoTransitionSystem.Out; move++)
        {
            frequencies[Key(move)] = new(StringComparer.Ordinal);
        }

        if (labels.BaseClasses is { } baseClasses)
        {
            // Frequencies that give back the base's order: up to its O, descending within each move type;
            // the labels added after that (a base continued before) and the new ones get negative
            // frequencies in the order added, as add_action writes them, so they stay at the end.
            var rank = baseClasses.Count + 1L;
            var added = -1L;
            var passedOut = false;
            var addedLabels = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var (move, label) in baseClasses)
            {
                if (!passedOut)
                {
                    frequencies[Key(move)][label] = rank--;
                    passedOut = move == BiluoTransitionSystem.Out;
                    continue;
                }

                if (!addedLabels.TryGetValue(label, out var frequency))
                {
                    addedLabels[label] = frequency = added--;
                }

                frequencies[Key(move)][label] = frequency;
            }

            foreach (var label in labels.Labels.Where(l => !baseClasses.Any(c => c.Label == l)))
            {
                for (var move = BiluoTransitionSystem.Begin; move <= BiluoTransitionSystem.Unit; move++)
                {
                    frequencies[Key(move)][label] = added;
                }

                added--;
            }
        }
        else
        {
            // BiluoPushDown.get_actions: B, I, L and U of every label with the count of tokens carrying it;
            // U and O with the empty label, count 1. The moves file keeps all six move types ("0" is Missing).
            foreach (var label in labels.Labels)
            {
                var count = labels.TokenCounts.GetValueOrDefault(label);
                for (var move = BiluoTransitionSystem.Begin; move <= BiluoTransitionSystem.Unit; move++)
                {
                    frequencies[Key(move)][label] = count;
                }
            }

            frequencies["4"][""] = 1;
            frequencies["5"][""] = 1;
        }

        var moves = MoveOrder.FromFrequencies(
            frequencies.Select(f => new KeyValuePair<string, IReadOnlyList<KeyValuePair<string, long>>>(f.Key, f.Value.ToList())),
            BiluoTransitionSystem.Accepts);
        var system = new BiluoTransitionSystem(moves);
        var model = TransitionParserModel.Build(context, context.ModelSection, system.ClassCount, system.FeatureCount);
        var parameters = new List<ModelParameter>();
        model.CollectParameters(parameters);
        var negativeKey = config.IsNull(section, "incorrect_spans_key") ? null : config.String(section, "incorrect_spans_key");
        var cfg = new JsonObject
        {
            ["moves"] = null,
            ["update_with_oracle_cut_size"] = config.Int(section, "update_with_oracle_cut_size", 100),
            ["multitasks"] = new JsonArray(),
            ["min_action_freq"] = 1,
            ["learn_tokens"] = false,
            ["beam_width"] = 1,
            ["beam_density"] = 0.0,
            ["beam_update_prob"] = 0.0,
            ["incorrect_spans_key"] = negativeKey,
        };
        return new ComponentPlan(context.Name, "ner", system.Labels, model.Tree, parameters, cfg)
        {
            Moves = moves,
            MoveFrequencies = frequencies,
            NegativeKey = negativeKey,
            Tok2VecUpstream = model.Input.Upstream,
        };
    }

    private static string Key(int move) => move.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ComponentPlan PlanTextCategorizer(ComponentContext context, string factory, ComponentLabels labels)
    {
        // SparseLinear.v1's table: 2^18 rows (spaCy's TextCatBOW.v2 default; the config cannot change it).
        const int tableRows = 1 << 18;
        var model = TextCategorizerComponent.BuildModel(context);
        var parameters = new List<ModelParameter>();
        string? upstream = null;
        switch (model)
        {
            case BowTextClassifierModel bow:
                bow.PlanShapes(labels.Labels.Count, tableRows);
                bow.CollectParameters(parameters);
                break;
            case EnsembleTextClassifierModel ensemble:
                ensemble.PlanShapes(labels.Labels.Count, tableRows, context.Config.Double("training", "dropout", 0.1));
                ensemble.CollectParameters(parameters);
                upstream = ensemble.Tok2VecUpstream;
                break;
            default:
                throw context.Error("PRD2405", $"[{context.ModelSection}] the trainer writes spacy.TextCatBOW.v2 and spacy.TextCatEnsemble.v2 text classifiers in spaCy's format; '{context.Architecture(context.ModelSection)}' is not one of them");
        }

        var config = context.Config;
        var cfg = new JsonObject
        {
            ["labels"] = new JsonArray([.. labels.Labels.Select(l => JsonValue.Create(l))]),
            ["threshold"] = config.Double(context.Section, "threshold", factory == "textcat" ? 0.0 : 0.5),
        };
        if (factory == "textcat")
        {
            cfg["positive_label"] = null;
        }

        return new ComponentPlan(context.Name, factory, labels.Labels, model.Root, parameters, cfg)
        {
            Tok2VecUpstream = upstream,
        };
    }

    private static ComponentPlan PlanSpanCategorizer(ComponentContext context, ComponentLabels labels)
    {
        var component = SpanCategorizerComponent.Build(context);
        var config = context.Config;
        var section = context.Section;
        var hidden = config.Int($"{context.ModelSection}.reducer", "hidden_size", 128);
        if (hidden < 1)
        {
            throw context.Error("PRD2434", $"[{context.ModelSection}.reducer] hidden_size is {hidden}; give a width of 1 or more");
        }

        var parameters = component.PlanShapes(hidden, labels.Labels.Count);

        // The cfg spaCy 3.5's spancat factory saves: its settings from config.cfg, negative_weight null
        // (a multilabel spancat has no negative label) and allow_overlap true.
        var cfg = new JsonObject
        {
            ["labels"] = new JsonArray([.. labels.Labels.Select(l => JsonValue.Create(l))]),
            ["spans_key"] = config.String(section, "spans_key") ?? "sc",
            ["threshold"] = config.IsNull(section, "threshold") && config.Raw(section, "threshold") is not null ? null : config.Double(section, "threshold", 0.5),
            ["max_positive"] = config.IsNull(section, "max_positive") || config.Raw(section, "max_positive") is null ? null : config.Int(section, "max_positive", 0),
            ["negative_weight"] = null,
            ["allow_overlap"] = true,
        };
        return new ComponentPlan(context.Name, "spancat", labels.Labels, component.Tree, parameters, cfg)
        {
            Tok2VecUpstream = component.Tok2VecUpstream,
        };
    }

    /// <summary>
    /// Writes the pipeline folder (atomically: a temporary folder swapped in): config.cfg as given,
    /// meta.json, the tokenizer, the vocab and each component's cfg, model and moves files.
    /// Every param of every planned tree must have been set.
    /// </summary>
    /// <param name="directory">The pipeline folder to write (or replace).</param>
    /// <param name="configText">config.cfg, as trained.</param>
    /// <param name="meta">meta.json.</param>
    /// <param name="tokenizerMsgPack">The tokenizer file.</param>
    /// <param name="otherFiles">Files to write beside spaCy's (relative path, bytes), in the same swap.</param>
    /// <param name="withVectors">
    /// False: <c>vocab/</c> gets an empty vectors table, for a folder that is only loaded back with the
    /// vectors in memory (<see cref="SpacyPipeline.Load(string, SpacyVectors?)"/>): no one reads it as spaCy's.
    /// </param>
    public void Write(string directory, string configText, JsonObject meta, byte[] tokenizerMsgPack, IReadOnlyList<KeyValuePair<string, byte[]>>? otherFiles = null, bool withVectors = true)
    {
        var folder = new SpacyPipelineFolder
        {
            Config = SpacyConfigDocument.Parse(configText),
            Meta = meta,
            Tokenizer = MsgPackReader.Decode(tokenizerMsgPack),
            Vocab = withVectors ? Vocab : new SpacyVocab { Strings = Vocab.Strings, Lookups = Vocab.Lookups },
            Components = Components.Select(c => c.ToFiles()).ToList(),
            OtherFiles = otherFiles ?? [],
        };
        folder.Write(directory);
    }
}
