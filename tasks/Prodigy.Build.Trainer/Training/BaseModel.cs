using Prodigy.Build.Core.Config;
using System.Text.Json;
using Prodigy.Build.Core.Tokenization;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// A model-best/ or model-last/ of this SDK to continue training from, as spaCy resumes a pipeline:
/// every weight is carried over by parameter name; output layers whose component gained labels keep
/// the base model's values for the old labels (which come first, <see cref="PipelineLabels.Collect"/>)
/// and their fresh initialisation for the new ones. Anything else that does not fit is an error.
/// This is the opt-in CRF trainer's base model: for it, a spaCy pipeline folder gives its tokenizer only
/// (<see cref="IsSpacyPipeline"/>). The default trainer sources a spaCy pipeline's components with their
/// weights instead (<see cref="TrainableSpacyPipeline"/>).
/// </summary>
public sealed class BaseModel : IDisposable
{
    private const string ErrorCode = "PRD2309";

    /// <summary>The file spaCy's <c>nlp.to_disk</c> writes the tokenizer's rules to (msgpack).</summary>
    private const string SpacyTokenizerFile = "tokenizer";

    // Loaded only by Load: the weights by parameter name, on the CPU.
    private Dictionary<string, Tensor> _weights = new(StringComparer.Ordinal);

    private BaseModel()
    {
    }

    public string Folder { get; private init; } = "";

    public TrainingSettings Settings { get; private init; } = null!;

    public PipelineLabels Labels { get; private init; } = new();

    /// <summary>
    /// Whether <paramref name="directory"/> is a spaCy pipeline folder rather than a model of this SDK: it
    /// has spaCy's <c>tokenizer</c> file and no weights.bin (the CRF trainer takes only its tokenizer).
    /// </summary>
    public static bool IsSpacyPipeline(string directory) =>
        !File.Exists(Path.Combine(directory, ModelDirectory.WeightsFile)) && File.Exists(Path.Combine(directory, SpacyTokenizerFile));

    /// <summary>
    /// The tokenizer rules a model trained from <paramref name="directory"/> ships (and its corpus must be
    /// tokenized with): a spaCy pipeline's, else the base model's own tokenizer.rules.json, else none.
    /// </summary>
    public static string? TokenizerRulesOf(string directory)
    {
        var path = IsSpacyPipeline(directory) ? directory : Path.Combine(directory, ModelDirectory.TokenizerFile);
        if (!Path.Exists(path))
        {
            return null;
        }

        try
        {
            _ = TokenizerRules.Load(path); // fail before training, not at the first save
        }
        catch (TokenizerRulesException e)
        {
            throw new TrainerInputException(ErrorCode, $"the base model's tokenizer rules cannot be used: {e.Message}", directory);
        }

        return path;
    }

    /// <summary>
    /// Reads the base model's config, labels and weights (on the CPU). Builds a pipeline of the base
    /// model's own shape to read the weights into, which draws from torch's random generator: seed after this.
    /// </summary>
    public static BaseModel Load(string directory)
    {
        RequireFiles(directory);

        var settings = TrainingSettings.From(ResolvedConfig.Load(Path.Combine(directory, ModelDirectory.ConfigFile)));
        var labels = JsonSerializer.Deserialize<PipelineLabels>(File.ReadAllText(Path.Combine(directory, ModelDirectory.LabelsFile)))!;
        using var pipeline = new Pipeline(settings, labels, CPU);
        pipeline.load(Path.Combine(directory, ModelDirectory.WeightsFile));
        var weights = pipeline.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone(), StringComparer.Ordinal);
        return new BaseModel { Folder = directory, Settings = settings, Labels = labels, _weights = weights };
    }

    /// <summary>PRD2309 unless <paramref name="directory"/> has the files of a TorchSharp-format model (config.cfg, labels.json, weights.bin).</summary>
    public static void RequireFiles(string directory)
    {
        foreach (var file in new[] { ModelDirectory.ConfigFile, ModelDirectory.LabelsFile, ModelDirectory.WeightsFile })
        {
            if (!File.Exists(Path.Combine(directory, file)))
            {
                throw new TrainerInputException(ErrorCode, $"the base model has no {file}. Give a spaCy pipeline folder (a 'tokenizer' file: model-best/, model-last/ or any nlp.to_disk folder), or a model of the older TorchSharp format (config.cfg, labels.json, weights.bin).", directory);
            }
        }
    }

    /// <summary>
    /// Copies the weights into <paramref name="pipeline"/> (built with the labels that
    /// <see cref="PipelineLabels.Collect"/> gave for this base model) and logs the labels added.
    /// </summary>
    public void CopyInto(Pipeline pipeline, Action<string> log)
    {
        var dropped = Settings.Pipeline.Except(pipeline.Settings.Pipeline, StringComparer.Ordinal).ToList();
        if (dropped.Count > 0)
        {
            throw new TrainerInputException(ErrorCode, $"the base model has the component(s) {string.Join(", ", dropped)}, which the config's [nlp] pipeline ({string.Join(", ", pipeline.Settings.Pipeline)}) lacks. Keep the base model's components (its config.cfg lists them), or train without ProdigyBaseModel.", Folder);
        }

        var targets = pipeline.state_dict();
        if (_weights.Keys.FirstOrDefault(name => !targets.ContainsKey(name)) is { } unused)
        {
            throw new TrainerInputException(ErrorCode, $"the base model's parameter '{unused}' has no place in the config's pipeline: a component's architecture differs (e.g. TextCatEnsemble against TextCatBOW). Train with the base model's settings (its config.cfg), or without ProdigyBaseModel.", Folder);
        }

        var fresh = new List<string>();
        using (torch.no_grad())
        {
            foreach (var (name, target) in targets)
            {
                if (!_weights.TryGetValue(name, out var source))
                {
                    fresh.Add(name);
                    continue;
                }

                if (source.shape.SequenceEqual(target.shape))
                {
                    target.copy_(source);
                }
                else if (GrownLabelDimensions(name, source.shape, target.shape, pipeline.Labels) is { } dimensions)
                {
                    var region = target;
                    foreach (var dimension in dimensions)
                    {
                        region = region.narrow(dimension, 0, source.shape[dimension]);
                    }

                    region.copy_(source);
                }
                else
                {
                    throw new TrainerInputException(ErrorCode, $"the base model's parameter '{name}' has the shape [{string.Join(", ", source.shape)}], the config's [{string.Join(", ", target.shape)}]: the architecture or a size (tok2vec width, depth, rows, hidden_width, ngram_size ...) differs. Train with the base model's settings (its config.cfg), or without ProdigyBaseModel.", Folder);
                }
            }
        }

        log("Base model: weights loaded from " + Folder);
        foreach (var (component, added) in pipeline.Labels.AddedTo(Labels, pipeline.Settings).Where(a => a.Added.Count > 0))
        {
            log($"Base model: [{component}] labels added: {string.Join(", ", added)}");
        }

        if (fresh.Count > 0)
        {
            log($"Base model: {fresh.Count} parameter(s) of components it does not have start fresh ({string.Join(", ", fresh)})");
        }
    }

    /// <summary>
    /// The dimensions along which an output layer grew with its component's labels, or null when the
    /// difference is not label growth. Rows (NER tags, textcat's linear layer, spancat's output) or
    /// columns (the bag of words) are the label dimension; both for the NER tag transitions (tags are
    /// label-major, so the old labels' block keeps its place); hidden layers never depend on labels.
    /// </summary>
    private int[]? GrownLabelDimensions(string name, long[] baseShape, long[] shape, PipelineLabels labels)
    {
        // Parameter names are the modules' field paths ("_ner._output.weight", "_textcats.textcat._bow.weight").
        var segments = name.Split('.').Select(s => s.TrimStart('_')).ToArray();
        var textcatAt = Array.IndexOf(segments, "textcats");
        (int Base, int Now)? outputs = segments switch
        {
            [.., "ner", "output", _] or [.., "ner", "transitions"] => (Biluo.TagCount(Math.Max(Labels.Ner.Count, 1)), Biluo.TagCount(Math.Max(labels.Ner.Count, 1))),
            [.., "spancat", "output", _] => (Math.Max(Labels.Spancat.Count, 1), Math.Max(labels.Spancat.Count, 1)),
            _ when textcatAt >= 0 && textcatAt + 1 < segments.Length && labels.Textcat.TryGetValue(segments[textcatAt + 1], out var textcatLabels) =>
                (Math.Max(Labels.Textcat.GetValueOrDefault(segments[textcatAt + 1])?.Count ?? 0, 1), Math.Max(textcatLabels.Count, 1)),
            _ => null,
        };
        if (outputs is not { } counts || baseShape.Length != shape.Length || counts.Now <= counts.Base)
        {
            return null;
        }

        var differing = Enumerable.Range(0, shape.Length).Where(d => baseShape[d] != shape[d]).ToArray();
        return differing.Length > 0 && differing.All(d => baseShape[d] == counts.Base && shape[d] == counts.Now) ? differing : null;
    }

    public void Dispose()
    {
        foreach (var tensor in _weights.Values)
        {
            tensor.Dispose();
        }
    }
}
