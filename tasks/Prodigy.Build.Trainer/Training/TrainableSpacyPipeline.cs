using System.Text.Json.Nodes;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Core.Tokenization;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Scoring;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Training;

/// <summary>The planned pipeline and the torch parameters and models of its components.</summary>
public sealed class TrainableSpacyPipeline : IDisposable
{
    private readonly TrainingRun _run;
    private readonly SpacyPipelinePlan _plan;
    private readonly Dictionary<string, IComponentParameters> _parameters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TorchTok2Vec> _encoders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TorchTransitionParser> _parsers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TorchBowTextcat> _textcats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HostBowTextcat> _hostTextcats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TorchSpancat> _spancats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TorchEnsembleTextcat> _ensembles = new(StringComparer.Ordinal);
    private readonly HashSet<string> _frozen;
    private readonly byte[] _tokenizer;
    private string? _vectorsName;
    private string _configText = "";

    private TrainableSpacyPipeline(TrainingRun run, SpacyPipelinePlan plan, HashSet<string> frozen, byte[] tokenizer, uint seed)
    {
        _run = run;
        _plan = plan;
        _frozen = frozen;
        _tokenizer = tokenizer;
        Numpy = new NumpyRandom(seed);
        _masks = new DropoutMasks(Numpy);
    }

    private readonly DropoutMasks _masks;

    /// <summary>
    /// numpy's global generator as this pipeline's layers draw from it (initial weights, then the dropout
    /// masks): seeded with the run's seed as spaCy's <c>init_nlp</c> seeds it before <c>nlp.initialize</c>;
    /// the training loop seeds it again as spaCy's <c>train</c> does before its first step.
    /// </summary>
    public NumpyRandom Numpy { get; }

    public SpacyPipelinePlan Plan => _plan;

    /// <summary>The torch encoder of a tok2vec component (or of a component's inline tok2vec).</summary>
    public TorchTok2Vec Encoder(string component) => _encoders[component];

    /// <summary>The torch model of a text classifier component.</summary>
    public TorchBowTextcat Textcat(string component) => _textcats[component];

    /// <summary>The torch parameters of a component, by the plan's names.</summary>
    public ThincParameters Parameters(string component) => (ThincParameters)_parameters[component];

    /// <summary>Whether the pipeline trains in managed code (its params are host arrays; TorchSharp is not started).</summary>
    public bool IsManaged { get; private init; }

    /// <summary>A component's params in a managed pipeline.</summary>
    public HostParameters HostParameters(string component) => (HostParameters)_parameters[component];

    /// <summary>A bag-of-words text classifier of a managed pipeline.</summary>
    public HostBowTextcat HostTextcat(string component) => _hostTextcats[component];

    /// <summary>The torch model of a <c>spacy.TextCatEnsemble.v2</c> text classifier component.</summary>
    public TorchEnsembleTextcat Ensemble(string component) => _ensembles[component];

    /// <summary>The token vectors a component reads, as training computes them (dropout given), for tests and tools.</summary>
    public Func<IReadOnlyList<TrainingDoc>, BatchLayout, Tensor> TokenVectors(string component, double dropout) =>
        Encode(_plan.Component(component), dropout, [], null, new(StringComparer.Ordinal));

    /// <summary>The torch model of a span categorizer component.</summary>
    public TorchSpancat Spancat(string component) => _spancats[component];

    public IEnumerable<Parameter> TrainableParameters => _parameters.Where(p => !_frozen.Contains(p.Key)).SelectMany(p => p.Value is ThincParameters t ? t.All : []);

    /// <summary>The managed params the optimizer updates (a managed pipeline's, frozen components left out).</summary>
    public IEnumerable<HostParameter> HostTrainableParameters => _parameters.Where(p => !_frozen.Contains(p.Key)).SelectMany(p => p.Value is HostParameters h ? h.All : []);

    /// <summary>The optimizer of the trained params: thinc's Adam on torch tensors or on managed arrays.</summary>
    public IPipelineOptimizer CreateOptimizer(LoopSettings loop) =>
        IsManaged ? new HostAdamOptimizer(HostTrainableParameters, loop) : TorchOptimizer(loop);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private AdamOptimizer TorchOptimizer(LoopSettings loop) => new(TrainableParameters, loop);

    /// <summary>
    /// The pipeline as training starts: each fresh component's weights drawn as spaCy's initialize draws
    /// them from numpy's generator seeded with <paramref name="seed"/> (<see cref="ThincInitialization"/>),
    /// a sourced one's taken from the base model. A pipeline trained with torch seeds torch's generator
    /// with it too (a GPU's dropout masks); a managed one never touches torch.
    /// </summary>
    public static TrainableSpacyPipeline Create(TrainingRun run, IReadOnlyList<Example> train, int seed = 0)
    {
        var config = new ResolvedConfig(SpacyConfigDocument.Parse(run.ConfigText), "config.cfg");
        var loadedBase = LoadBase(run, config);
        var basePipeline = loadedBase?.Pipeline;
        var kept = loadedBase?.Kept ?? [];
        var configText = run.ConfigText;
        var settings = run.Settings;
        if (kept.Count > 0)
        {
            configText = WithKeptComponents(run.ConfigText, loadedBase!.Value.Config, kept, run.Log);
            config = new ResolvedConfig(SpacyConfigDocument.Parse(configText), "config.cfg");
            settings = TrainingSettings.From(config);
        }

        var vectors = PipelineVectors.Find(run, config);
        var baseLabels = basePipeline is null ? null : PipelineLabels.Of(basePipeline.Components);
        var labels = PipelineLabels.Collect(settings, train, run.LabelsFile, baseLabels);
        if (baseLabels is not null)
        {
            // A kept component is frozen: it keeps the base's labels, whatever the data has (spaCy does not initialize it).
            foreach (var name in kept)
            {
                switch (basePipeline!.Components.First(c => c.Name == name).Factory)
                {
                    case "ner":
                        labels.Ner.Clear();
                        labels.Ner.AddRange(baseLabels.Ner);
                        break;
                    case "spancat":
                        labels.Spancat.Clear();
                        labels.Spancat.AddRange(baseLabels.Spancat);
                        break;
                    case "textcat" or "textcat_multilabel":
                        labels.Textcat[name] = [.. baseLabels.Textcat.GetValueOrDefault(name) ?? []];
                        break;
                }
            }

            foreach (var (component, added) in labels.AddedTo(baseLabels, settings))
            {
                if (added.Count > 0 && basePipeline!.Components.Any(c => c.Name == component))
                {
                    run.Log($"Base model: [{component}] labels added: {string.Join(", ", added)}");
                }
            }
        }

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var example in train)
        {
            foreach (var entity in example.Entities ?? [])
            {
                counts[entity.Label] = counts.GetValueOrDefault(entity.Label) + entity.End - entity.Start;
            }
        }

        SpacyPipelinePlan plan;
        try
        {
            plan = SpacyPipelinePlan.Create(config, new SpacyVocab { Vectors = vectors?.Vectors ?? new SpacyVectors() }, name => config.String($"components.{name}", "factory") switch
            {
                "ner" => new ComponentLabels
                {
                    Labels = labels.Ner,
                    TokenCounts = counts,
                    BaseClasses = (basePipeline?.Components.FirstOrDefault(c => c.Name == name) as EntityRecognizerComponent)?.Classes,
                },
                "spancat" => new ComponentLabels { Labels = labels.Spancat },
                _ => new ComponentLabels { Labels = labels.Textcat.GetValueOrDefault(name) ?? [] },
            });
        }
        catch (SpacyPipelineException e)
        {
            throw new TrainerInputException(e.Code, e.Reason, e.Path);
        }

        var frozen = config.Raw("training", "frozen_components") is null ? [] : config.StringList("training", "frozen_components").ToHashSet(StringComparer.Ordinal);
        foreach (var key in new[] { "frozen_components", "annotating_components" })
        {
            var listed = config.Raw("training", key) is null ? [] : config.StringList("training", key);
            if (listed.FirstOrDefault(n => !plan.Components.Any(c => c.Name == n)) is { } unknown)
            {
                throw new TrainerInputException("PRD2301", $"[training] {key} names '{unknown}', which is not in [nlp] pipeline ({string.Join(", ", plan.Components.Select(c => c.Name))}); name components of the pipeline", config.Path);
            }
        }
        // On the CPU, a pipeline whose components are all bag-of-words text classifiers (or frozen ones
        // carried from the base model) trains in managed code: TorchSharp's native libraries, a third of
        // such a run's memory, are never loaded.
        var managed = run.Device is null && plan.Components.All(c =>
            TrainsInManagedCode(config, c) || (frozen.Contains(c.Name) && basePipeline?.Components.Any(b => b.Name == c.Name) == true));
        var model = new TrainableSpacyPipeline(run, plan, frozen, TokenizerBytes(run), unchecked((uint)seed)) { _vectorsName = vectors?.Name, _configText = configText, IsManaged = managed };
        var device = managed ? null : run.ResolveDevice();
        if (!managed)
        {
            SeedTorch(seed);
        }

        // spaCy does not initialize a sourced component: its fresh values (the rows of labels it adds) come
        // from a generator of their own, so that the components initialized draw what they draw in spaCy.
        var sourcedNumpy = new NumpyRandom(unchecked((uint)seed));

        try
        {
            foreach (var component in plan.Components)
            {
                if (managed)
                {
                    var hostParameters = new HostParameters(component);
                    model._parameters[component.Name] = hostParameters;
                    if (TrainsInManagedCode(config, component))
                    {
                        var textcat = settings.Textcats.First(t => t.Component == component.Name);
                        model._hostTextcats[component.Name] = new HostBowTextcat(hostParameters, textcat.NgramSize, textcat.Exclusive, supportsMissingLabels: !textcat.Exclusive);
                    }
                }
                else
                {
                    var sourced = basePipeline?.Components.Any(c => c.Name == component.Name) == true;
                    model.AddTorchComponent(config, settings, component, device!, basePipeline, ThincInitialization.Draw(component, sourced ? sourcedNumpy : model.Numpy));
                }

                if (basePipeline?.Components.FirstOrDefault(c => c.Name == component.Name) is { } source)
                {
                    CopyBaseWeights(run.BaseModel!, source, model._parameters[component.Name]);
                }

                model._parameters[component.Name].SetTrainable(!frozen.Contains(component.Name));
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }

        return model;
    }

    // A component trained with TorchSharp: its params as torch tensors and its model.
    private void AddTorchComponent(ResolvedConfig config, TrainingSettings settings, ComponentPlan component, Device device, SpacyPipeline? basePipeline, Dictionary<string, float[]> initial)
    {
        var parameters = new ThincParameters(component, device, initial);
        _parameters[component.Name] = parameters;
        var section = $"components.{component.Name}";
        switch (component.Factory)
        {
            case "tok2vec":
                _encoders[component.Name] = Encoder(config, parameters, "", $"{section}.model", _plan.Vocab.Vectors);
                break;
            case "ner":
                if (component.Tok2VecUpstream is null)
                {
                    _encoders[component.Name] = Encoder(config, parameters, "tok2vec.", $"{section}.model.tok2vec", _plan.Vocab.Vectors);
                }

                var baseClasses = (basePipeline?.Components.FirstOrDefault(c => c.Name == component.Name) as EntityRecognizerComponent)?.Classes.Count;
                _parsers[component.Name] = new TorchTransitionParser(
                    parameters,
                    config.Int(section, "update_with_oracle_cut_size", 100),
                    useNegatives: settings.Ner?.IncorrectSpansKey is not null,
                    Numpy,
                    firstUnseenClass: baseClasses ?? int.MaxValue);
                break;
            case "spancat":
                if (component.Tok2VecUpstream is null)
                {
                    _encoders[component.Name] = Encoder(config, parameters, "tok2vec.", $"{section}.model.tok2vec", _plan.Vocab.Vectors);
                }

                var spancat = settings.Spancat!;
                _spancats[component.Name] = new TorchSpancat(parameters, spancat.SpansKey, spancat.SuggesterSizes, _masks);
                break;
            default:
                var textcat = settings.Textcats.First(t => t.Component == component.Name);
                if (config.String($"{section}.model", "@architectures") == "spacy.TextCatEnsemble.v2")
                {
                    if (component.Tok2VecUpstream is null)
                    {
                        _encoders[component.Name] = Encoder(config, parameters, "tok2vec.", $"{section}.model.tok2vec", _plan.Vocab.Vectors);
                    }

                    var ngramSize = config.Int($"{section}.model.linear_model", "ngram_size", 1);
                    _ensembles[component.Name] = new TorchEnsembleTextcat(parameters, ngramSize, textcat.Exclusive, supportsMissingLabels: !textcat.Exclusive, _masks);
                }
                else
                {
                    _textcats[component.Name] = new TorchBowTextcat(parameters, textcat.NgramSize, textcat.Exclusive, supportsMissingLabels: !textcat.Exclusive);
                }

                break;
        }
    }

    // A bag-of-words text classifier: its model is a sparse linear layer that managed code trains as fast as torch.
    private static bool TrainsInManagedCode(ResolvedConfig config, ComponentPlan component) =>
        component.Factory is "textcat" or "textcat_multilabel"
        && config.String($"components.{component.Name}.model", "@architectures") != "spacy.TextCatEnsemble.v2";

    // Out of line, so that a managed run never compiles a call into torch (whose static constructor loads the native libraries).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void SeedTorch(int seed) => torch.random.manual_seed(seed);

    // A spaCy pipeline folder as base model: loaded when it has components of the config's (sourced
    // with their weights) or components this trainer can carry (kept, frozen, see WithKeptComponents);
    // one with neither (say a tagger and parser) gives its tokenizer only. A component of the base that
    // cannot be carried beside components that are sourced is an error: the model would lose it.
    private static (SpacyPipeline Pipeline, SpacyConfigDocument Config, IReadOnlyList<string> Kept)? LoadBase(TrainingRun run, ResolvedConfig config)
    {
        if (run.BaseModel is not { } directory || !BaseModel.IsSpacyPipeline(directory))
        {
            return null;
        }

        var folder = SpacyPipeline.ResolvePackageFolder(directory);
        if (!File.Exists(Path.Combine(folder, "config.cfg")))
        {
            run.Log($"Base model: {directory} has a tokenizer and no config.cfg; it gives the tokenizer, the weights start fresh");
            return null;
        }

        ResolvedConfig baseConfig;
        try
        {
            baseConfig = ResolvedConfig.Load(Path.Combine(folder, "config.cfg"));
        }
        catch (Exception e) when (e is IOException or TrainingConfigException or FormatException)
        {
            throw new TrainerInputException("PRD2309", $"the base model's config.cfg cannot be read: {e.Message}", folder);
        }

        var names = config.StringList("nlp", "pipeline");
        var baseNames = baseConfig.StringList("nlp", "pipeline");
        var extras = baseNames.Where(n => !names.Contains(n)).ToList();
        string FactoryOf(string name) => baseConfig.String($"components.{name}", "factory") ?? "";
        var kept = extras.Where(n => SpacyPipelinePlan.PlannableFactories.Contains(FactoryOf(n))).ToList();
        var dropped = extras.Except(kept).ToList();
        if (!baseNames.Any(names.Contains) && kept.Count == 0)
        {
            run.Log($"Base model: the spaCy pipeline {directory} shares no component with the config and has none this trainer carries ({string.Join(", ", dropped.Select(n => $"{n}: {FactoryOf(n)}"))}); it gives the tokenizer, the weights start fresh");
            return null;
        }

        if (dropped.FirstOrDefault() is { } extra)
        {
            throw new TrainerInputException(
                "PRD2309",
                $"the base model has the component '{extra}' (factory '{FactoryOf(extra)}'), which the config does not train and this trainer cannot carry into a spaCy pipeline it writes (it carries {string.Join(", ", SpacyPipelinePlan.PlannableFactories)}); train from a base model without it, or train it with spaCy",
                folder);
        }

        try
        {
            var pipeline = SpacyPipeline.Load(folder);
            var sourced = pipeline.Components.Where(c => names.Contains(c.Name)).Select(c => c.Name).ToList();
            run.Log($"Base model: {directory} ({(sourced.Count > 0 ? string.Join(", ", sourced) + " sourced with their weights" : "no component of the config")}{(kept.Count > 0 ? $"; {string.Join(", ", kept)} kept as they are, frozen" : "")})");
            return (pipeline, baseConfig.Document, kept);
        }
        catch (SpacyPipelineException e)
        {
            throw new TrainerInputException(e.Code, $"the base model cannot be loaded: {e.Reason}", e.Path);
        }
    }

    // spaCy's way to keep a base component that is not trained: in the config, sourced and frozen. The
    // component's sections are copied from the base's config.cfg, its name goes into [nlp] pipeline at
    // its place in the base's order and into [training] frozen_components, so the model written is the
    // base's component with its weights, and config.cfg says so.
    private static string WithKeptComponents(string configText, SpacyConfigDocument baseConfig, IReadOnlyList<string> kept, Action<string> log)
    {
        var document = SpacyConfigDocument.Parse(configText);
        var resolved = new ResolvedConfig(document, "config.cfg");
        var pipeline = resolved.StringList("nlp", "pipeline").ToList();
        var baseOrder = new ResolvedConfig(baseConfig, "base config.cfg").StringList("nlp", "pipeline").ToList();
        int BaseIndex(string name) => baseOrder.IndexOf(name) is >= 0 and var i ? i : int.MaxValue;
        foreach (var name in kept)
        {
            var at = pipeline.FindIndex(n => BaseIndex(n) > BaseIndex(name));
            pipeline.Insert(at < 0 ? pipeline.Count : at, name);
            foreach (var section in baseConfig.Sections.Where(s => s.Name == $"components.{name}" || s.Name.StartsWith($"components.{name}.", StringComparison.Ordinal)))
            {
                var target = document.GetOrAddSection(section.Name);
                foreach (var entry in section.Entries)
                {
                    target.SetRaw(entry.Key, entry.RawValue);
                }
            }

            // A kept component that listens to a tok2vec this run trains reads vectors its weights were not trained on (spaCy's W086).
            var listens = baseConfig.Sections.Where(s => s.Name.StartsWith($"components.{name}.", StringComparison.Ordinal))
                .Select(s => (s, s.Find("upstream")?.RawValue)).FirstOrDefault(p => p.Item2 is not null);
            if (listens.Item2 is { } upstream && !kept.Contains(upstream.Trim('"')) && pipeline.Contains(upstream.Trim('"')))
            {
                log($"Base model: warning: '{name}' is kept frozen but listens to '{upstream.Trim('"')}', which this run trains; its predictions may change (freeze '{upstream.Trim('"')}' too to keep them)");
            }
        }

        var frozen = resolved.Raw("training", "frozen_components") is null ? new List<string>() : resolved.StringList("training", "frozen_components").ToList();
        frozen.AddRange(kept.Where(k => !frozen.Contains(k)));
        document.SetRaw("nlp", "pipeline", JsonList(pipeline));
        document.SetRaw("training", "frozen_components", JsonList(frozen));
        return document.ToString();

        static string JsonList(IEnumerable<string> names) => "[" + string.Join(",", names.Select(n => System.Text.Json.JsonSerializer.Serialize(n))) + "]";
    }

    // Sourcing as spaCy does: the same architecture (node for node), every param taken; the label rows
    // of a component given new labels keep the base's values first (resized, spaCy's add_label), the
    // new rows start as a fresh model's. Anything else that differs is PRD2309 naming the param.
    private static void CopyBaseWeights(string baseModel, IPipelineComponent source, IComponentParameters parameters)
    {
        var plan = parameters.Plan;
        if (plan.Factory != source.Factory || !plan.HasArchitectureOf(source.Tree))
        {
            throw new TrainerInputException("PRD2309", $"the base model's component '{source.Name}' was built by another architecture than the config's [components.{plan.Name}.model]; use the base model's config or a matching architecture", baseModel);
        }

        foreach (var parameter in plan.Parameters)
        {
            var value = plan.ValueIn(source.Tree, parameter)
                ?? throw new TrainerInputException("PRD2309", $"the base model's component '{source.Name}' has no {parameter.Key}", baseModel);
            var values = value.ToFloats();
            if (value.Shape.SequenceEqual(parameter.Shape))
            {
                parameters.Set(parameter.Key, values);
                continue;
            }

            var labelRows = parameter.Key is "upper.W" or "upper.b" or "sparse_linear.W" or "sparse_linear.b" or "scorer.linear.W" or "scorer.linear.b";
            if (labelRows && value.Shape.Length == parameter.Shape.Length && value.Shape.Skip(1).SequenceEqual(parameter.Shape.Skip(1)) && value.Shape[0] < parameter.Shape[0])
            {
                var merged = parameters.Values(parameter.Key);
                values.CopyTo(merged, 0);
                parameters.Set(parameter.Key, merged);
                continue;
            }

            if (source.Factory is "textcat" or "textcat_multilabel" && plan.Parameters.Any(p => p.Key == "attention.Q") && value.Shape[0] < parameter.Shape[0])
            {
                // spaCy's E922: TextCatEnsemble.v2 cannot be resized, so its labels are fixed once trained.
                throw new TrainerInputException(
                    "PRD2309",
                    $"the base model's {source.Name} is a spacy.TextCatEnsemble.v2 with {value.Shape[0]} label(s) and the data adds more ({parameter.Shape[0]}); an ensemble cannot be given new labels (spaCy raises E922: it cannot be resized). Train it without the base model, keep to the base's labels ({string.Join(", ", source.Labels)}), or use spacy.TextCatBOW.v2, which can be resized",
                    baseModel);
            }

            throw new TrainerInputException(
                "PRD2309",
                $"the base model's {source.Name} {parameter.Key} has the shape ({string.Join(", ", value.Shape)}), the config gives ({string.Join(", ", parameter.Shape)}); train with the base model's sizes or without the base model",
                baseModel);
        }
    }

    private TorchTok2Vec Encoder(ResolvedConfig config, ThincParameters parameters, string prefix, string section, SpacyVectors vectors) => new(
        parameters,
        prefix,
        config.StringList($"{section}.embed", "attrs"),
        config.Int($"{section}.encode", "window_size", 1),
        config.Int($"{section}.encode", "depth", 4),
        vectors,
        _masks);

    /// <summary>
    /// One update of every trained component on a batch (spaCy's nlp.update); the losses by component.
    /// <paramref name="python"/> is Python's generator (the parser's cut sizes); the dropout masks draw from
    /// <see cref="Numpy"/>.
    /// </summary>
    public Dictionary<string, double> Update(IReadOnlyList<TrainingDoc> docs, double dropout, PythonRandom python)
    {
        var losses = new Dictionary<string, double>(StringComparer.Ordinal);
        var outputs = new List<(string Component, Tensor Output)>();
        var shared = new Dictionary<string, SharedTokenVectors>(StringComparer.Ordinal);
        Tensor? total = null;
        foreach (var component in _plan.Components)
        {
            if (_frozen.Contains(component.Name))
            {
                continue;
            }

            (Tensor Surrogate, double Loss)? result = null;
            switch (component.Factory)
            {
                case "tok2vec":
                    // spaCy's Tok2Vec.update runs over the whole batch before its listeners, whether or not one
                    // of them then learns from it: its dropout masks are drawn here either way. When none
                    // will read the output (a batch of documents only a bag-of-words textcat learns from,
                    // thousands of tokens each), only the draws are made.
                    if (AnyListenerLearns(component.Name, docs))
                    {
                        SharedVectors(component.Name, docs, docs, trainsEncoder: true, dropout, shared);
                    }
                    else
                    {
                        _encoders[component.Name].SkipTrainingPass(docs, dropout);
                    }

                    break;
                case "ner":
                    result = _parsers[component.Name].Update(docs, Encode(component, dropout, outputs, docs, shared), train: true, python);
                    break;
                case "spancat":
                    result = _spancats[component.Name].Update(docs, Encode(component, dropout, outputs, docs, shared), dropout);
                    break;
                case "textcat" or "textcat_multilabel" when _hostTextcats.TryGetValue(component.Name, out var managed):
                    // Its gradients go straight into the managed params; nothing to backpropagate through torch.
                    if (managed.Update(docs) is { } loss)
                    {
                        losses[component.Name] = loss;
                    }

                    break;
                default:
                    result = _ensembles.TryGetValue(component.Name, out var ensemble)
                        ? ensemble.Update(docs, Encode(component, dropout, outputs, docs, shared), dropout)
                        : _textcats[component.Name].Update(docs);
                    break;
            }

            if (result is { } r)
            {
                losses[component.Name] = r.Loss;
                total = total is null ? r.Surrogate : total.Plus(r.Surrogate);
            }
        }

        if (total is null)
        {
            SendEncoderGradients();
            return losses;
        }

        total.backward();
        SendEncoderGradients();

        // spaCy's tok2vec loss: the sum of squares of the gradients its listeners sent back.
        foreach (var (name, output) in outputs)
        {
            using var grad = output.grad;
            losses[name] = losses.GetValueOrDefault(name) + (grad is null ? 0 : (grad * grad).sum().item<float>());
        }

        return losses;
    }

    // A CPU training pass of a tok2vec hands its components a leaf; the gradient they sent into it goes
    // on through the encoder's own backward pass (nothing, when no component learned from it).
    private void SendEncoderGradients()
    {
        foreach (var encoder in _encoders.Values.Distinct())
        {
            encoder.BackwardPending();
        }
    }

    // The token vectors a component reads: its listener's tok2vec (trained unless frozen) or its inline
    // one. A tok2vec runs once per batch, over every document of it, as spaCy's Tok2Vec.update does
    // before its listeners receive the output (one dropout mask for all of them); each listener reads
    // the rows of the documents it learns from as its own node, whose gradient is that listener's part
    // of the tok2vec loss (spaCy sums the squares of each listener's gradient).
    private Func<IReadOnlyList<TrainingDoc>, BatchLayout, Tensor> Encode(
        ComponentPlan component,
        double dropout,
        List<(string Component, Tensor Output)> outputs,
        IReadOnlyList<TrainingDoc>? batch,
        Dictionary<string, SharedTokenVectors> shared)
    {
        var upstream = component.Tok2VecUpstream;
        var trainsEncoder = upstream is null || !_frozen.Contains(upstream);
        var encoder = _encoders[upstream ?? component.Name];
        return (subset, layout) =>
        {
            if (upstream is null)
            {
                return encoder.Forward(subset, layout, train: true, dropout);
            }

            var vectors = SharedVectors(upstream, batch ?? subset, subset, trainsEncoder, dropout, shared);

            var index = new long[layout.Total];
            for (var d = 0; d < subset.Count; d++)
            {
                var start = subset[d].Length > 0 ? vectors.Starts[subset[d]] : 0;
                for (var i = 0; i < layout.Lengths[d]; i++)
                {
                    index[layout.Starts[d] + i] = start + i;
                }
            }

            var output = vectors.Output.index_select(0, torch.tensor(index, device: vectors.Output.device));
            if (trainsEncoder)
            {
                output.retain_grad();
                outputs.Add((upstream, output));
            }

            return output;
        };
    }

    // Whether a trained listener of the tok2vec reads its output for this batch: a parser with gold in it;
    // a span categorizer or ensemble text classifier counts as reading it whatever the batch holds (a pass
    // computed for nobody costs time, never a different stream).
    private bool AnyListenerLearns(string tok2vec, IReadOnlyList<TrainingDoc> docs) =>
        _plan.Components.Any(c => c.Tok2VecUpstream == tok2vec && !_frozen.Contains(c.Name)
            && (!_parsers.TryGetValue(c.Name, out var parser) || parser.HasGoldIn(docs)));

    // The shared tok2vec's output for the batch (its documents with tokens, in order), run once per update
    // unless a listener needs a document it has not seen.
    private SharedTokenVectors SharedVectors(string upstream, IReadOnlyList<TrainingDoc> batch, IReadOnlyList<TrainingDoc> subset, bool trainsEncoder, double dropout, Dictionary<string, SharedTokenVectors> shared)
    {
        if (shared.TryGetValue(upstream, out var vectors) && subset.Where(d => d.Length > 0).All(vectors.Starts.ContainsKey))
        {
            return vectors;
        }

        var all = batch.Where(d => d.Length > 0).Concat(subset.Where(d => d.Length > 0)).Distinct().ToList();
        var allLayout = new BatchLayout(all.Select(d => d.Length).ToList());
        var starts = new Dictionary<TrainingDoc, int>(ReferenceEqualityComparer.Instance);
        for (var d = 0; d < all.Count; d++)
        {
            starts[all[d]] = allLayout.Starts[d];
        }

        vectors = new SharedTokenVectors(starts, _encoders[upstream].Forward(all, allLayout, train: trainsEncoder, trainsEncoder ? dropout : 0));
        shared[upstream] = vectors;
        return vectors;
    }

    /// <summary>A tok2vec's output for a batch, and where each document's rows start in it.</summary>
    private sealed record SharedTokenVectors(Dictionary<TrainingDoc, int> Starts, Tensor Output);

    /// <summary>Writes the pipeline folder with the current weights.</summary>
    public void Write(string directory, ScoreSet scores, IReadOnlyDictionary<string, double> losses, double? score = null, int? step = null, int? epoch = null) =>
        Write(directory, scores, losses, score, step, epoch, withVectors: true);

    private void Write(string directory, ScoreSet scores, IReadOnlyDictionary<string, double> losses, double? score, int? step, int? epoch, bool withVectors)
    {
        foreach (var parameters in _parameters.Values)
        {
            parameters.Export();
        }

        // metrics.json goes into the same swap as the folder: a cancelled write leaves the old pair whole.
        var otherFiles = new List<KeyValuePair<string, byte[]>>();
        if (score is not null)
        {
            var metrics = new JsonObject
            {
                ["score"] = score,
                ["step"] = step,
                ["epoch"] = epoch,
                ["trainer"] = "Prodigy.Build.Trainer " + ModelDirectory.TrainerVersion,
                ["parameters"] = _parameters.Values.Sum(p => p.Count),
            };
            otherFiles.Add(new(ModelDirectory.MetricsFile, System.Text.Encoding.UTF8.GetBytes(metrics.ToJsonString(ModelDirectory.JsonOptions))));
        }

        _plan.Write(directory, _configText, Meta(scores, losses), _tokenizer, otherFiles, withVectors);
    }

    /// <summary>
    /// Writes the folder and loads it with the reader (what evaluation scores). The word vectors, which
    /// training does not change, are neither written nor read again: the reader gets the table in memory
    /// (a 600 MB table written and read back every evaluation was time and a second copy in memory).
    /// </summary>
    public SpacyPipeline WriteAndLoad(string directory, ScoreSet scores, IReadOnlyDictionary<string, double> losses)
    {
        var vectors = _plan.Vocab.Vectors;
        var hasVectors = vectors.Rows > 0;
        Write(directory, scores, losses, null, null, null, withVectors: !hasVectors);
        return SpacyPipeline.Load(directory, hasVectors ? vectors : null);
    }

    /// <summary>spaCy's scores of the loaded folder on the dev examples (their own tokens, as spacy train evaluates).</summary>
    /// <remarks>
    /// <paramref name="devDocs"/> are the documents the pipeline predicts on: the tokenizer's tokens of
    /// each text, as spaCy's Corpus makes them; the predictions are aligned to the gold tokens to be scored.
    /// </remarks>
    public ScoreSet Score(SpacyPipeline pipeline, IReadOnlyList<Example> dev, IReadOnlyList<PipelineDoc> devDocs)
    {
        var docs = devDocs.Select(d => new PipelineDoc(d.Text, d.Tokens)).ToList();
        pipeline.Annotate(docs);
        var labels = PipelineLabels.Of(_plan.Components);
        var predictions = docs.Select(d => Prediction.FromDoc(d, labels)).ToList();
        return PipelineScores.Compute(
            _run.Settings,
            labels,
            dev,
            predictions,
            docs.Select(d => (IReadOnlyList<string>)d.Tokens.Select(t => t.Text).ToList()).ToList(),
            docs.Select(d => (IReadOnlyList<bool>)d.Tokens.Select(t => t.Whitespace).ToList()).ToList());
    }

    // meta.json as spacy train writes it: lang, name, version, the spaCy version range, empty
    // description fields, the vectors, labels, pipeline, components, disabled and performance (the
    // evaluation's scores and each component's loss).
    private JsonObject Meta(ScoreSet scores, IReadOnlyDictionary<string, double> losses)
    {
        var performance = TrainerCommandLine.ScoresJson(scores);

        // The tokenizer's scores (the dev texts are tokenized as spaCy's Corpus does) reach the
        // performance block only when score_weights names them, as spaCy's update_meta has it.
        foreach (var key in new[] { "token_acc", "token_p", "token_r", "token_f" })
        {
            if (!_run.Settings.ScoreWeights.Any(w => w.Key == key))
            {
                performance.Remove(key);
            }
        }

        foreach (var component in _plan.Components)
        {
            performance[component.Name + "_loss"] = losses.GetValueOrDefault(component.Name);
        }

        return new JsonObject
        {
            ["lang"] = _run.Settings.Language,
            ["name"] = _run.ModelName,
            ["version"] = _run.ModelVersion,
            ["spacy_version"] = ">=3.5.4,<3.6.0",
            ["description"] = "",
            ["author"] = "",
            ["email"] = "",
            ["url"] = "",
            ["license"] = "",
            ["spacy_git_version"] = "Unknown",
            ["vectors"] = new JsonObject
            {
                ["width"] = _plan.Vocab.Vectors.Width,
                ["vectors"] = _plan.Vocab.Vectors.Rows,
                ["keys"] = _plan.Vocab.Vectors.KeyToRow.Count,
                ["name"] = _vectorsName,
                ["mode"] = _plan.Vocab.Vectors.Mode,
            },
            ["labels"] = new JsonObject(_plan.Components.Select(c => new KeyValuePair<string, JsonNode?>(c.Name, new JsonArray([.. c.Labels.Select(l => JsonValue.Create(l))])))),
            ["pipeline"] = new JsonArray([.. _plan.Components.Select(c => JsonValue.Create(c.Name))]),
            ["components"] = new JsonArray([.. _plan.Components.Select(c => JsonValue.Create(c.Name))]),
            ["disabled"] = new JsonArray(),
            ["performance"] = performance,
        };
    }

    // The tokenizer file: a spaCy tokenizer or pipeline folder's as it is; rules JSON or the language's built-in rules converted.
    /// <summary>The tokenizer the pipeline ships with (what <c>nlp.make_doc</c> runs): the corpus's texts are tokenized by it, as spaCy's Corpus does.</summary>
    public static Tokenizer Tokenizer(TrainingRun run) => new(TokenizerRules.FromMsgPack(TokenizerBytes(run), "tokenizer"));

    private static byte[] TokenizerBytes(TrainingRun run)
    {
        var path = run.TokenizerRulesPath ?? (run.BaseModel is { } baseModel ? BaseModel.TokenizerRulesOf(baseModel) : null);
        if (path is not null)
        {
            var folder = Directory.Exists(path) ? SpacyPipeline.ResolvePackageFolder(path) : null;
            if (folder is not null && File.Exists(Path.Combine(folder, "tokenizer")))
            {
                return File.ReadAllBytes(Path.Combine(folder, "tokenizer"));
            }

            if (File.Exists(path) && !path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                return File.ReadAllBytes(path);
            }

            return TokenizerRules.Load(path).ToMsgPack();
        }

        // A language without built-in rules gets what spaCy's blank tokenizer has: whitespace only.
        return TokenizerRules.BuiltInLanguages.Contains(run.Settings.Language)
            ? TokenizerRules.BuiltIn(run.Settings.Language).ToMsgPack()
            : new TokenizerRules { Source = "blank", Language = run.Settings.Language, SpecialCases = new Dictionary<string, IReadOnlyList<SpecialCaseToken>>() }.ToMsgPack();
    }

    public void Dispose()
    {
        foreach (var encoder in _encoders.Values)
        {
            encoder.Dispose();
        }

        foreach (var parameters in _parameters.Values)
        {
            parameters.Dispose();
        }
    }
}
