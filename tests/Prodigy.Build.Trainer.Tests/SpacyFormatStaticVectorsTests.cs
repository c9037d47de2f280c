using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Scoring;
using Prodigy.Build.Trainer.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// include_static_vectors (spaCy's accuracy configs) in the spaCy-format trainer: the vectors come
/// from the folder [paths] vectors names (or a base pipeline), the written pipeline carries them and
/// its tok2vec computes what the torch encoder computes, the W gradient is spaCy's StaticVectors.v2
/// backprop, and a missing or unusable vectors source is PRD2312.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class SpacyFormatStaticVectorsTests : IDisposable
{
    private const int VectorWidth = 6;
    private readonly TorchRuntimeFixture _fixture;
    private readonly ITestOutputHelper _log;
    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-spacy-vectors-").FullName;
    private readonly string _vectorsFolder;

    // Words of the tiny data with a vector; every other token (the adjectives, "My", ".") has none.
    private static readonly string[] WithVectors = ["Nike", "Adidas", "Gucci", "shoes", "jacket", "bag", "is", "from", "This"];

    public SpacyFormatStaticVectorsTests(TorchRuntimeFixture fixture, ITestOutputHelper log)
    {
        _fixture = fixture;
        _log = log;
        _vectorsFolder = Path.Combine(_directory, "tiny_vectors");
        var random = new Random(3);
        var vocab = new SpacyVocab
        {
            Vectors = new SpacyVectors
            {
                Width = VectorWidth,
                Rows = WithVectors.Length,
                Data = Enumerable.Range(0, WithVectors.Length * VectorWidth).Select(_ => (random.NextSingle() * 2) - 1).ToArray(),
                KeyToRow = WithVectors.Select((w, i) => (w, i)).ToDictionary(p => SpacyStrings.GetId(p.w), p => p.i),
            },
        };
        vocab.Write(Path.Combine(_vectorsFolder, "vocab"));
        File.WriteAllText(Path.Combine(_vectorsFolder, "meta.json"), """{"lang": "en", "name": "tiny", "vectors": {"width": 6, "vectors": 9, "keys": 9, "name": "en_tiny.vectors", "mode": "default"}}""");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private (Configuration.TrainingSettings Settings, string Text) Config(string? vectors, int maxSteps = 10) =>
        TinyData.Config(["ner"], maxSteps, optimize: SpacyOptimize.Accuracy, vectors: vectors);

    private TrainableSpacyPipeline Create(string? vectors, List<Example> train)
    {
        Assert.NotNull(_fixture.Info);
        var (settings, text) = Config(vectors);
        return TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = _log.WriteLine }, train);
    }

    [Fact]
    public void The_written_pipeline_has_the_vectors_and_its_tok2vec_computes_what_torch_computes()
    {
        var train = TinyData.Examples(64, 5);
        using var model = Create(_vectorsFolder, train);
        Assert.True(model.Parameters("tok2vec").Has("embed.static_vectors.W"));
        GradientCheck.Train(model, Config(_vectorsFolder).Settings, train.Select(TrainingDoc.From).ToList());

        var folder = Path.Combine(_directory, "model");
        model.Write(folder, new ScoreSet(), new Dictionary<string, double>());

        // The vectors are saved as they were read, and meta.json describes them as spaCy does.
        Assert.Equal(File.ReadAllBytes(Path.Combine(_vectorsFolder, "vocab", "vectors")), File.ReadAllBytes(Path.Combine(folder, "vocab", "vectors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_vectorsFolder, "vocab", "key2row")), File.ReadAllBytes(Path.Combine(folder, "vocab", "key2row")));
        var meta = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "meta.json")))!["vectors"]!;
        Assert.Equal(VectorWidth, (int)meta["width"]!);
        Assert.Equal(WithVectors.Length, (int)meta["vectors"]!);
        Assert.Equal(WithVectors.Length, (int)meta["keys"]!);
        Assert.Equal("en_tiny.vectors", (string?)meta["name"]);

        var pipeline = SpacyPipeline.Load(folder);
        var docs = TinyData.Examples(8, 6).Select(TrainingDoc.From).ToList();
        var annotated = docs.Select(d => new PipelineDoc(d.Doc.Text, d.Doc.Tokens)).ToList();
        pipeline.Annotate(annotated);
        var encoder = model.Encoder("tok2vec");
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        using var output = encoder.Forward(docs, layout, train: false, 0);
        var rows = output.data<float>().ToArray();
        for (var d = 0; d < docs.Count; d++)
        {
            var expected = annotated[d].Tok2VecOutputs["tok2vec"];
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - rows[(layout.Starts[d] * encoder.Width) + i]) <= 1e-4, $"doc {d} value {i}: reader {expected[i]}, torch {rows[(layout.Starts[d] * encoder.Width) + i]}");
            }
        }
    }

    [Fact]
    public void The_CPU_training_pass_with_static_vectors_computes_what_autograd_computes()
    {
        // Tokens without a vector among them: their W gradient is spaCy's (V[-1]) on both paths.
        var train = TinyData.Examples(6, 13);
        using var model = Create(_vectorsFolder, train);
        GradientCheck.AssertHostPassMatchesAutograd(model, train.Select(TrainingDoc.From).Where(d => d.Length > 0).ToList(), dropout: 0.1);
    }

    [Fact]
    public void The_W_gradient_is_spaCys_StaticVectors_backprop()
    {
        var train = TinyData.Examples(4, 7);
        using var model = Create(_vectorsFolder, train);
        var encoder = model.Encoder("tok2vec");
        var w = model.Parameters("tok2vec")["embed.static_vectors.W"];
        var docs = train.Select(TrainingDoc.From).ToList();
        var layout = new BatchLayout(docs.Select(d => d.Length).ToList());
        torch.random.manual_seed(5);
        using var upstream = torch.randn([layout.Total, w.shape[0]]);
        float[] output;
        using (var scope = torch.NewDisposeScope())
        {
            var projected = encoder.StaticVectors(docs, layout, train: false, 0, torch.CPU);
            output = projected.data<float>().ToArray();
            (projected * upstream).sum().backward();
        }

        // Forward: V[row] Wᵀ, zeros for a token without a vector. Backward: dW = Σ_t d_t ⊗ V[rows[t]],
        // where a token without a vector reads numpy's V[-1], the table's last row.
        var vectors = SpacyVocab.Read(Path.Combine(_vectorsFolder, "vocab")).Vectors;
        var weights = w.detach().data<float>().ToArray();
        var d_out = upstream.data<float>().ToArray();
        var nO = (int)w.shape[0];
        var expected = new double[nO * VectorWidth];
        var t = 0;
        var missing = 0;
        foreach (var doc in docs)
        {
            foreach (var token in doc.Doc.Tokens)
            {
                var row = vectors.Find(SpacyStrings.GetId(token.Text));
                missing += row < 0 ? 1 : 0;
                var v = vectors.Row(row < 0 ? vectors.Rows - 1 : row).ToArray();
                for (var o = 0; o < nO; o++)
                {
                    var value = row < 0 ? 0 : Enumerable.Range(0, VectorWidth).Sum(k => (double)weights[(o * VectorWidth) + k] * v[k]);
                    // Float32 against double: within 1e-4 (Assert.Equal's decimal rounding fails at a rounding boundary).
                    Assert.True(Math.Abs(value - output[(t * nO) + o]) < 1e-4, $"token {t} output {o}: expected {value}, got {output[(t * nO) + o]}");
                    for (var k = 0; k < VectorWidth; k++)
                    {
                        expected[(o * VectorWidth) + k] += d_out[(t * nO) + o] * v[k];
                    }
                }

                t++;
            }
        }

        Assert.True(missing > 0, "the test data should have tokens without a vector");
        var gradient = w.grad!.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], gradient[i], 3);
        }
    }

    [Fact]
    public void Training_with_vectors_saves_pipelines_the_reader_scores_as_training_did()
    {
        Assert.NotNull(_fixture.Info);
        var (settings, text) = Config(_vectorsFolder, 60);
        var output = Path.Combine(_directory, "run");
        var dev = TinyData.Examples(30, 8);
        var logged = new List<string>();
        var result = PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = output, Log = l => { logged.Add(l); _log.WriteLine(l); } }, TinyData.Examples(150, 7), dev);
        Assert.Contains(logged, l => l.StartsWith("Vectors: 9 rows x 6", StringComparison.Ordinal));
        Assert.DoesNotContain(logged, l => l.Contains("TorchSharp-format", StringComparison.Ordinal));

        var pipeline = SpacyPipeline.Load(Path.Combine(output, "model-best"));
        Assert.Equal(VectorWidth, pipeline.Vocab.Vectors.Width);
        var docs = dev.Select(e => TrainingDoc.ToPipelineDoc(e.Words, e.Spaces, e.Norms)).ToList();
        pipeline.Annotate(docs);
        var entities = dev.Sum(e => e.Entities!.Count);
        var found = docs.Zip(dev).Sum(p => p.First.Entities.Count(e => p.Second.Entities!.Contains(new LabeledSpan(e.Start, e.End, e.Label))));
        var predicted = docs.Sum(d => d.Entities.Count);
        var f = predicted + entities == 0 ? 0 : 2.0 * found / (predicted + entities);
        Assert.Equal(result.BestScores.Values["ents_f"]!.Value, f, 6);
    }

    [Fact]
    public void A_spaCy_pipeline_as_base_model_brings_its_vectors()
    {
        Assert.NotNull(_fixture.Info);
        var (settings, text) = Config(_vectorsFolder, 10);
        var first = Path.Combine(_directory, "first");
        PipelineTrainer.Train(new TrainingRun { Settings = settings, ConfigText = text, OutputDirectory = first, Log = _log.WriteLine }, TinyData.Examples(40, 9), TinyData.Examples(10, 10));

        // The continued run names no vectors: the base pipeline's are used and saved again.
        var (continuedSettings, continuedText) = Config(null, 10);
        continuedText = continuedText.Replace("include_static_vectors = false", "include_static_vectors = true", StringComparison.Ordinal);
        continuedSettings = Configuration.TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(continuedText), "continued.cfg"));
        var logged = new List<string>();
        var second = Path.Combine(_directory, "second");
        PipelineTrainer.Train(new TrainingRun { Settings = continuedSettings, ConfigText = continuedText, OutputDirectory = second, BaseModel = Path.Combine(first, "model-best"), Log = l => { logged.Add(l); _log.WriteLine(l); } }, TinyData.Examples(40, 11), TinyData.Examples(10, 12));

        Assert.Contains(logged, l => l.StartsWith("Vectors: 9 rows x 6", StringComparison.Ordinal) && l.Contains("the base model", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_vectorsFolder, "vocab", "vectors")), File.ReadAllBytes(Path.Combine(second, "model-last", "vocab", "vectors")));
    }

    [Theory]
    [InlineData(null, "no word vectors are given")]
    [InlineData("en_core_web_lg", "spaCy packages are not installed")]
    [InlineData("missing/folder", "are not a folder")]
    [InlineData("EMPTY", "has no vectors file")]
    public void A_vectors_source_that_cannot_be_used_is_PRD2312(string? vectors, string message)
    {
        Assert.NotNull(_fixture.Info);
        if (vectors == "EMPTY")
        {
            vectors = Directory.CreateDirectory(Path.Combine(_directory, "no-vectors")).FullName;
        }

        var (settings, text) = Config(vectors ?? _vectorsFolder);
        if (vectors is null)
        {
            text = text.Replace($"vectors = \"{_vectorsFolder}\"", "vectors = null", StringComparison.Ordinal);
            Assert.Contains("include_static_vectors = true", text, StringComparison.Ordinal);
        }

        var error = Assert.Throws<TrainerInputException>(() => TrainableSpacyPipeline.Create(new TrainingRun { Settings = settings, ConfigText = text, Log = _log.WriteLine }, TinyData.Examples(4, 1)));
        Assert.Equal("PRD2312", error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
