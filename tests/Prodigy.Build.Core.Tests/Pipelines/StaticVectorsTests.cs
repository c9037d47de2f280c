using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Hashing;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Pipelines.Thinc;
using Prodigy.Build.Core.Serialization;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>
/// MultiHashEmbed.v2 with include_static_vectors (no spaCy ground truth covers it): a tiny synthetic
/// model, its thinc tree checked by name and its output against a direct, one-document-at-a-time
/// computation of spaCy's formulas.
/// </summary>
public sealed class StaticVectorsTests : IDisposable
{
    private const int Width = 4, Pieces = 2, VectorWidth = 3;
    private static readonly int[] TableRows = [7, 5];
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "prd-sv-" + Guid.NewGuid().ToString("N"));

    public StaticVectorsTests()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, "config.cfg"), """
            [components.tok2vec.model]
            @architectures = "spacy.Tok2Vec.v2"

            [components.tok2vec.model.embed]
            @architectures = "spacy.MultiHashEmbed.v2"
            width = ${components.tok2vec.model.encode.width}
            attrs = ["NORM","SHAPE"]
            rows = [7,5]
            include_static_vectors = true

            [components.tok2vec.model.encode]
            @architectures = "spacy.MaxoutWindowEncoder.v2"
            width = 4
            depth = 2
            window_size = 1
            maxout_pieces = 2
            """);
    }

    public void Dispose() => Directory.Delete(_folder, true);

    private static readonly SpacyVectors Vectors = new()
    {
        Width = VectorWidth,
        Rows = 2,
        Data = [0.5f, -1f, 2f, 1.5f, 0.25f, -0.75f],
        KeyToRow = new Dictionary<ulong, int> { [SpacyStrings.GetId("Gucci")] = 0, [SpacyStrings.GetId("bag")] = 1 },
    };

    private ComponentContext Context(SpacyVectors vectors) => new()
    {
        Config = ResolvedConfig.Load(Path.Combine(_folder, "config.cfg")),
        Name = "tok2vec",
        Directory = _folder,
        Previous = [],
        Vocab = new SpacyVocab { Vectors = vectors },
    };

    private static byte[] Int(long value)
    {
        var writer = new MsgPackWriter();
        writer.WriteInt64(value);
        return writer.ToArray();
    }

    /// <summary>A model file for the tree: random weights of the shapes the architecture has.</summary>
    private static ThincModelData SyntheticModel(ThincLayer root)
    {
        var random = new Random(7);
        NdArray Random(params long[] shape)
        {
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = random.NextSingle() * 2 - 1;
            }

            return NdArray.FromFloats(values, shape);
        }

        var data = new ThincModelData();
        var hashTables = 0;
        foreach (var (layer, index) in root.Walk().Select((l, i) => (l, i)))
        {
            var node = new ThincNodeData { Index = index, Name = layer.Name };
            switch (layer.Name)
            {
                case "hashembed":
                    node.Params.Add(new("E", Random(TableRows[hashTables], Width)));
                    node.Attrs.Add(new("column", Int(hashTables)));
                    node.Attrs.Add(new("seed", Int(8 + hashTables)));
                    hashTables++;
                    break;
                case "static_vectors":
                    node.Params.Add(new("W", Random(Width, VectorWidth)));
                    break;
                case "maxout":
                    // The embed mix takes 3 x 4 (two tables and the vectors); a window block 3 x 4 too.
                    node.Params.Add(new("W", Random(Width, Pieces, 3 * Width)));
                    node.Params.Add(new("b", Random(Width, Pieces)));
                    break;
                case "layernorm":
                    node.Params.Add(new("G", Random(Width)));
                    node.Params.Add(new("b", Random(Width)));
                    break;
            }

            if (layer.Name.StartsWith("with_array(residual", StringComparison.Ordinal))
            {
                node.Attrs.Add(new("pad", Int(2)));
            }

            data.Nodes.Add(node);
        }

        return data;
    }

    private static PipelineDoc Doc(params string[] words) =>
        new(string.Join(" ", words), words.Select((w, i) => new Token(w, i, 0, true, w.ToLowerInvariant())).ToList());

    [Fact]
    public void Tree_is_named_and_walked_as_thinc_builds_it()
    {
        var model = Tok2VecModel.Build(Context(Vectors), "components.tok2vec.model");
        const string block = "residual(expand_window>>maxout>>layernorm>>dropout)";
        Assert.Equal(
            "extract_features>>list2ragged>>with_array(ints-getitem>>hashembed|ints-getitem>>hashembed)|static_vectors"
            + ">>with_array(maxout>>layernorm>>dropout)>>ragged2list"
            + $">>with_array({block}>>{block})",
            model.Tree.Name);
        var walk = model.Tree.Walk().Select(l => l.Name).ToList();
        Assert.Equal("extract_features>>list2ragged>>with_array(ints-getitem>>hashembed|ints-getitem>>hashembed)|static_vectors", walk[3]);
        Assert.Equal(["extract_features>>list2ragged>>with_array(ints-getitem>>hashembed|ints-getitem>>hashembed)", "static_vectors"], walk.Skip(7).Take(2));
        Assert.Equal(2, walk.Count(n => n == "hashembed"));
        Assert.Equal(3, walk.Count(n => n == "maxout"));
    }

    [Fact]
    public void Output_equals_spaCy_formulas_for_each_document_of_a_batch()
    {
        var context = Context(Vectors);
        var model = Tok2VecModel.Build(context, "components.tok2vec.model");
        var data = SyntheticModel(model.Tree);
        model.Tree.Bind(data, "synthetic");
        model.LoadWeights("synthetic");

        PipelineDoc[] docs = [Doc("Gucci", "bag", "is", "red"), Doc("bag"), Doc("no", "vector", "here")];
        var nodes = model.Tree.Walk().ToList();
        for (var d = 0; d < docs.Length; d++)
        {
            var expected = Reference(docs[d], nodes);
            var actual = model.Predict(docs[d]);
            Assert.Equal(expected.Length, actual.Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"doc {d} value {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }

    [Fact]
    public void Static_vectors_without_vectors_in_the_vocab_are_PRD2422()
    {
        var context = Context(new SpacyVectors());
        var error = Assert.Throws<SpacyPipelineException>(() => Tok2VecModel.Build(context, "components.tok2vec.model"));
        Assert.Equal("PRD2422", error.Code);
        Assert.Contains("include_static_vectors", error.Message, StringComparison.Ordinal);
    }

    // spaCy's formulas, written out directly for one document (double precision, no batching).
    private static float[] Reference(PipelineDoc doc, List<ThincLayer> nodes)
    {
        var n = doc.Length;
        var hashes = nodes.Where(l => l.Name == "hashembed").ToList();
        var staticW = nodes.Single(l => l.Name == "static_vectors").Floats("W");
        var maxouts = nodes.Where(l => l.Name == "maxout").ToList();
        var norms = nodes.Where(l => l.Name == "layernorm").ToList();
        string[] attrs = ["NORM", "SHAPE"];
        var concat = new double[n, 3 * Width];
        Span<uint> h = stackalloc uint[4];
        for (var t = 0; t < n; t++)
        {
            for (var c = 0; c < 2; c++)
            {
                var e = hashes[c].Floats("E");
                var id = SpacyStrings.GetId(attrs[c] == "NORM" ? doc.Tokens[t].Norm : LexicalAttributes.Shape(doc.Tokens[t].Text));
                MurmurHash.Hash3X64_128(id, (uint)(8 + c), h);
                for (var k = 0; k < 4; k++)
                {
                    var row = (int)(h[k] % (uint)TableRows[c]);
                    for (var j = 0; j < Width; j++)
                    {
                        concat[t, c * Width + j] += e[row * Width + j];
                    }
                }
            }

            var vectorRow = Vectors.Find(SpacyStrings.GetId(doc.Tokens[t].Text));
            for (var j = 0; j < Width && vectorRow >= 0; j++)
            {
                for (var i = 0; i < VectorWidth; i++)
                {
                    concat[t, 2 * Width + j] += staticW[j * VectorWidth + i] * Vectors.Data[vectorRow * VectorWidth + i];
                }
            }
        }

        var x = MaxoutNorm(concat, maxouts[0], norms[0]);

        // The encoder on this document alone, with 2 zero rows each side (with_array's pad).
        const int pad = 2;
        var padded = new double[n + 2 * pad, Width];
        for (var t = 0; t < n; t++)
        {
            for (var j = 0; j < Width; j++)
            {
                padded[t + pad, j] = x[t, j];
            }
        }

        for (var b = 1; b <= 2; b++)
        {
            var rows = padded.GetLength(0);
            var window = new double[rows, 3 * Width];
            for (var t = 0; t < rows; t++)
            {
                for (var k = -1; k <= 1; k++)
                {
                    for (var j = 0; j < Width && t + k >= 0 && t + k < rows; j++)
                    {
                        window[t, (k + 1) * Width + j] = padded[t + k, j];
                    }
                }
            }

            var y = MaxoutNorm(window, maxouts[b], norms[b]);
            for (var t = 0; t < rows; t++)
            {
                for (var j = 0; j < Width; j++)
                {
                    padded[t, j] += y[t, j];
                }
            }
        }

        var output = new float[n * Width];
        for (var t = 0; t < n; t++)
        {
            for (var j = 0; j < Width; j++)
            {
                output[t * Width + j] = (float)padded[t + pad, j];
            }
        }

        return output;
    }

    private static double[,] MaxoutNorm(double[,] x, ThincLayer maxout, ThincLayer norm)
    {
        var w = maxout.Floats("W");
        var b = maxout.Floats("b");
        var g = norm.Floats("G");
        var shift = norm.Floats("b");
        var rows = x.GetLength(0);
        var nI = x.GetLength(1);
        var y = new double[rows, Width];
        for (var t = 0; t < rows; t++)
        {
            for (var o = 0; o < Width; o++)
            {
                var best = double.NegativeInfinity;
                for (var p = 0; p < Pieces; p++)
                {
                    double z = b[o * Pieces + p];
                    for (var i = 0; i < nI; i++)
                    {
                        z += w[(o * Pieces + p) * nI + i] * x[t, i];
                    }

                    best = Math.Max(best, z);
                }

                y[t, o] = best;
            }

            double mean = 0, variance = 0;
            for (var o = 0; o < Width; o++)
            {
                mean += y[t, o] / Width;
            }

            for (var o = 0; o < Width; o++)
            {
                variance += (y[t, o] - mean) * (y[t, o] - mean) / Width;
            }

            for (var o = 0; o < Width; o++)
            {
                y[t, o] = (y[t, o] - mean) / Math.Sqrt(variance + 1e-8) * g[o] + shift[o];
            }
        }

        return y;
    }
}
