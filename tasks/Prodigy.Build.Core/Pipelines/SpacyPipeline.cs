using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// A spaCy 3 pipeline folder (what <c>nlp.to_disk</c> writes) loaded for inference in .NET: the
/// tokenizer it ships and each component of <c>[nlp] pipeline</c> with its weights. Predictions equal
/// spaCy's (tokens and entities exactly, scores to float32 rounding).
/// </summary>
/// <remarks>
/// Thread-safe: <see cref="Process(IReadOnlyList{string})"/> may be called from any number of threads
/// at once; the loaded weights are never written, and every call works on its own documents.
/// </remarks>
public sealed class SpacyPipeline
{
    private static readonly Dictionary<string, Func<ComponentContext, IPipelineComponent>> Factories = new(StringComparer.Ordinal)
    {
        ["tok2vec"] = Tok2VecComponent.Create,
        ["ner"] = EntityRecognizerComponent.Create,
        ["textcat"] = TextCategorizerComponent.Create,
        ["textcat_multilabel"] = TextCategorizerComponent.Create,
        ["spancat"] = SpanCategorizerComponent.Create,
    };

    private SpacyPipeline(string directory, ResolvedConfig config, Tokenizer tokenizer, SpacyVocab vocab, IReadOnlyList<IPipelineComponent> components)
    {
        Directory = directory;
        Config = config;
        Tokenizer = tokenizer;
        Vocab = vocab;
        Components = components;
    }

    /// <summary>The factories this reader runs.</summary>
    public static IReadOnlyCollection<string> SupportedFactories => Factories.Keys;

    public string Directory { get; }

    public ResolvedConfig Config { get; }

    public Tokenizer Tokenizer { get; }

    public SpacyVocab Vocab { get; }

    /// <summary>The components in pipeline order (disabled ones left out, as spaCy leaves them out of <c>nlp.pipeline</c>).</summary>
    public IReadOnlyList<IPipelineComponent> Components { get; }

    /// <summary><c>[nlp] lang</c>.</summary>
    public string Language => Config.String("nlp", "lang") ?? "xx";

    /// <summary>Whether <paramref name="directory"/> looks like a spaCy pipeline folder (config.cfg and meta.json).</summary>
    public static bool IsPipelineFolder(string directory)
    {
        var folder = ResolvePackageFolder(directory);
        return File.Exists(Path.Combine(folder, "config.cfg")) && File.Exists(Path.Combine(folder, "meta.json"));
    }

    /// <summary>
    /// The pipeline folder itself for a folder in spaCy's package layout: an installed or unpacked
    /// <c>en_core_web_sm/</c> holds its data in <c>en_core_web_sm-3.5.0/</c> (name-version) beside
    /// <c>__init__.py</c> and <c>meta.json</c>. Any other folder is returned as it is.
    /// </summary>
    public static string ResolvePackageFolder(string directory)
    {
        if (File.Exists(Path.Combine(directory, "config.cfg")) || !System.IO.Directory.Exists(directory))
        {
            return directory;
        }

        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var data = System.IO.Directory.EnumerateDirectories(directory, name + "-*")
            .Where(d => File.Exists(Path.Combine(d, "config.cfg")))
            .Order(StringComparer.Ordinal)
            .ToList();
        return data.Count == 1 ? data[0] : directory;
    }

    /// <summary>Loads a pipeline folder; errors are <see cref="SpacyPipelineException"/>s naming the file.</summary>
    /// <param name="directory">The folder (or a package folder with one pipeline inside).</param>
    /// <param name="vectors">
    /// Word vectors already in memory to use in place of the folder's <c>vocab/vectors</c> (the trainer's
    /// evaluation folders are written without them): the table is not read, or held, a second time.
    /// </param>
    public static SpacyPipeline Load(string directory, SpacyVectors? vectors = null)
    {
        directory = ResolvePackageFolder(Path.GetFullPath(directory));
        var configPath = Path.Combine(directory, "config.cfg");
        if (!File.Exists(configPath))
        {
            throw new SpacyPipelineException("PRD2407", "not a spaCy pipeline folder: it has no config.cfg (point at the folder nlp.to_disk or spacy train wrote, e.g. model-best)", directory);
        }

        var config = ResolvedConfig.Load(configPath);
        var vocabDirectory = Path.Combine(directory, "vocab");
        if (!System.IO.Directory.Exists(vocabDirectory))
        {
            throw new SpacyPipelineException("PRD2411", "the pipeline folder has no vocab/ folder; copy the whole folder spaCy wrote", vocabDirectory);
        }

        var vocab = SpacyVocab.Read(vocabDirectory);
        if (vectors is not null)
        {
            vocab = new SpacyVocab { Strings = vocab.Strings, Lookups = vocab.Lookups, Vectors = vectors };
        }
        var tokenizerPath = Path.Combine(directory, "tokenizer");
        if (!File.Exists(tokenizerPath))
        {
            throw new SpacyPipelineException("PRD2411", "the pipeline folder has no tokenizer file; copy the whole folder spaCy wrote", tokenizerPath);
        }

        TokenizerRules rules;
        try
        {
            rules = TokenizerRules.FromMsgPack(File.ReadAllBytes(tokenizerPath), tokenizerPath);
        }
        catch (TokenizerRulesException e)
        {
            throw new SpacyPipelineException("PRD2409", $"the tokenizer cannot be read: {e.Message}", tokenizerPath, e);
        }

        var names = config.StringList("nlp", "pipeline");
        var disabled = config.Raw("nlp", "disabled") is null ? [] : config.StringList("nlp", "disabled");
        var components = new List<IPipelineComponent>();
        foreach (var name in names)
        {
            if (disabled.Contains(name))
            {
                continue;
            }

            var factory = config.String($"components.{name}", "factory")
                ?? throw new SpacyPipelineException("PRD2404", $"[components.{name}] has no factory", configPath);
            if (!Factories.TryGetValue(factory, out var create))
            {
                throw new SpacyPipelineException(
                    "PRD2404",
                    $"component '{name}' has the factory '{factory}', which Prodigy.Build.Sdk cannot run; supported: {string.Join(", ", Factories.Keys)}",
                    configPath);
            }

            var componentDirectory = Path.Combine(directory, name);
            components.Add(create(new ComponentContext
            {
                Config = config,
                Name = name,
                Directory = componentDirectory,
                Previous = components.ToList(),
                Vocab = vocab,
            }));
        }

        return new SpacyPipeline(directory, config, new Tokenizer(rules), vocab, components);
    }

    /// <summary>How many documents go through the components at a time (spaCy's parser takes sub-batches of 64 of nlp.pipe's 256).</summary>
    public const int BatchSize = 64;

    /// <summary>
    /// Runs every component on documents already tokenized (spaCy's <c>nlp.pipe</c> of Docs), e.g. a
    /// corpus's own tokens, <see cref="BatchSize"/> documents at a time, so that the memory a batch
    /// needs does not grow with the number of documents.
    /// </summary>
    /// <remarks>
    /// Up to <see cref="Parallelism"/> batches run at once, each through every component in order. The
    /// batches are the same whatever it is, and no document's arithmetic depends on another batch's, so
    /// the predictions are identical on one thread or many.
    /// </remarks>
    public void Annotate(IReadOnlyList<PipelineDoc> docs)
    {
        var batches = (docs.Count + BatchSize - 1) / BatchSize;
        if (Parallelism == 1 || batches <= 1)
        {
            for (var b = 0; b < batches; b++)
            {
                AnnotateBatch(docs, b);
            }

            return;
        }

        try
        {
            Parallel.For(0, batches, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, b => AnnotateBatch(docs, b));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The caller sees what one thread would have thrown (a SpacyPipelineException, say), not the wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>How many batches of documents <see cref="Annotate"/> runs at once (default: <see cref="DefaultParallelism"/>; 1 runs them in order on the caller's thread).</summary>
    public int Parallelism
    {
        get => _parallelism;
        set => _parallelism = AtLeastOne(value);
    }

    /// <summary>The <see cref="Parallelism"/> of pipelines loaded from now on in this process (default: the processor count; the trainer's <c>--threads</c> sets it).</summary>
    public static int DefaultParallelism
    {
        get => _defaultParallelism;
        set => _defaultParallelism = AtLeastOne(value);
    }

    private static int _defaultParallelism = Environment.ProcessorCount;

    private int _parallelism = DefaultParallelism;

    private static int AtLeastOne(int value) => value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "at least 1");

    private void AnnotateBatch(IReadOnlyList<PipelineDoc> docs, int index)
    {
        var batch = docs.Skip(index * BatchSize).Take(BatchSize).ToList();
        foreach (var component in Components)
        {
            component.Predict(batch);
        }
    }

    /// <summary>Tokenizes and runs every component on one text.</summary>
    public PipelineDoc Process(string text) => Process([text])[0];

    /// <summary>Tokenizes and runs every component on a batch of texts (<see cref="BatchSize"/> documents at a time through each component, as <c>nlp.pipe</c> batches them).</summary>
    public IReadOnlyList<PipelineDoc> Process(IReadOnlyList<string> texts)
    {
        var docs = new PipelineDoc[texts.Count];
        for (var i = 0; i < docs.Length; i++)
        {
            docs[i] = new PipelineDoc(texts[i], Tokenizer.Tokenize(texts[i]));
        }

        Annotate(docs);
        return docs;
    }
}
