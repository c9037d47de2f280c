using System.Text.Json;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Pipelines.Thinc;

namespace Prodigy.Build.Core.Tests.Pipelines;

public sealed class TextCategorizerComponentTests
{
    public static TheoryData<string> TextcatPipelines => ["textcat", "textcat_multilabel"];

    [Theory]
    [MemberData(nameof(TextcatPipelines))]
    public void Cats_equal_spaCy_for_the_50_dev_texts(string pipeline)
    {
        var nlp = SpacyPipeline.Load(SharedPipelines.Folder(pipeline));
        var predictions = SharedPipelines.Predictions(pipeline);
        Assert.Equal(50, predictions.Count);

        // One batch and one text at a time: the batch must not change any document's scores.
        var batch = nlp.Process(predictions.Select(p => p.GetProperty("text").GetString()!).ToList());
        for (var i = 0; i < predictions.Count; i++)
        {
            var expected = predictions[i].GetProperty("cats").EnumerateObject().ToList();
            var single = nlp.Process(predictions[i].GetProperty("text").GetString()!);
            foreach (var doc in new[] { batch[i], single })
            {
                Assert.Equal(expected.Select(c => c.Name), doc.Cats.Keys);
                foreach (var cat in expected)
                {
                    Assert.True(
                        Math.Abs(cat.Value.GetDouble() - doc.Cats[cat.Name]) <= 1e-5,
                        $"text {i}, {cat.Name}: spaCy {cat.Value.GetDouble()}, ours {doc.Cats[cat.Name]}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(TextcatPipelines))]
    public void Labels_and_exclusivity_come_from_the_pipeline(string pipeline)
    {
        var component = Assert.IsType<TextCategorizerComponent>(Assert.Single(SpacyPipeline.Load(SharedPipelines.Folder(pipeline)).Components));
        var cfg = SharedPipelines.Json(pipeline, "model-layout.json").GetProperty("components").GetProperty(pipeline).GetProperty("cfg");
        Assert.Equal(cfg.GetProperty("labels").EnumerateArray().Select(l => l.GetString()), component.Labels);
        Assert.Equal(pipeline == "textcat", component.ExclusiveClasses);
        Assert.Equal(pipeline, component.Factory);
    }

    [Theory]
    [MemberData(nameof(TextcatPipelines))]
    public void Tree_walks_as_thinc_walked_the_model(string pipeline)
    {
        var component = Assert.IsType<TextCategorizerComponent>(Assert.Single(SpacyPipeline.Load(SharedPipelines.Folder(pipeline)).Components));
        AssertWalk(SharedPipelines.Json(pipeline, "model-layout.json").GetProperty("components").GetProperty(pipeline).GetProperty("walk"), component.Tree);
    }

    [Fact]
    public void A_batch_without_tokens_scores_zero_as_spaCy_skips_the_model()
    {
        var nlp = SpacyPipeline.Load(SharedPipelines.Folder("textcat"));
        var docs = nlp.Process(["", ""]);
        Assert.All(docs, d => Assert.All(d.Cats.Values, v => Assert.Equal(0f, v)));

        // With a token elsewhere in the batch, the empty document gets the bias's softmax instead.
        var mixed = nlp.Process(["", "docs"]);
        Assert.Equal(1f, mixed[0].Cats.Values.Sum(), 5);
    }

    [Fact]
    public void Ensemble_tree_has_thincs_names_in_walk_order()
    {
        using var folder = new EnsembleFolder(exclusive: true);
        var model = TextCategorizerComponent.BuildModel(folder.Context);

        // Derived from spacy/ml/models/textcat.py (3.5) and thinc 8.1's chain / concatenate / residual /
        // with_cpu / resizable naming; walk() is breadth-first.
        const string bow = "with_cpu(extract_ngrams>>resizable(sparse_linear))>>with_cpu(softmax_activation)";
        const string cnn = "tok2vec-listener>>list2ragged>>para-attn>>reduce_sum>>residual(maxout>>layernorm>>dropout)";
        string[] expected =
        [
            $"{bow}|{cnn}>>softmax", $"{bow}|{cnn}", "softmax", bow, cnn,
            "with_cpu(extract_ngrams>>resizable(sparse_linear))", "with_cpu(softmax_activation)",
            "tok2vec-listener>>list2ragged>>para-attn>>reduce_sum", "residual(maxout>>layernorm>>dropout)",
            "extract_ngrams>>resizable(sparse_linear)", "softmax_activation",
            "tok2vec-listener>>list2ragged>>para-attn", "reduce_sum", "maxout>>layernorm>>dropout",
            "extract_ngrams", "resizable(sparse_linear)", "tok2vec-listener>>list2ragged", "para-attn", "maxout>>layernorm", "dropout",
            "sparse_linear", "tok2vec-listener", "list2ragged", "maxout", "layernorm",
        ];
        Assert.Equal(expected, model.Root.Walk().Select(l => l.Name));
        Assert.Equal(["Q"], model.Root.Walk().Single(l => l.Name == "para-attn").ParamNames);
        Assert.Equal(["W", "b"], model.Root.Walk().Single(l => l.Name == "softmax").ParamNames);
    }

    [Fact]
    public void Multilabel_ensemble_ends_in_linear_then_logistic()
    {
        using var folder = new EnsembleFolder(exclusive: false);
        var names = TextCategorizerComponent.BuildModel(folder.Context).Root.Walk().Select(l => l.Name).ToList();
        Assert.EndsWith("|tok2vec-listener>>list2ragged>>para-attn>>reduce_sum>>residual(maxout>>layernorm>>dropout)>>linear>>logistic", names[0]);
        Assert.StartsWith("with_cpu(extract_ngrams>>resizable(sparse_linear))>>with_cpu(logistic)|", names[0]);
        Assert.Equal("linear>>logistic", names[2]);
        Assert.Equal(27, names.Count);
    }

    [Fact]
    public void Ensemble_combines_the_BOW_scores_and_the_attention_summary()
    {
        // The BOW part gets the shared textcat weights, so its scores are spaCy's cats. The maxout is
        // zero, so the residual adds LayerNorm(0) = its bias to the attention summary. The softmax
        // adds BOW class c and summary dim c, so the expected output follows in closed form.
        using var folder = new EnsembleFolder(exclusive: true);
        const int width = 8;
        var model = TextCategorizerComponent.BuildModel(folder.Context);
        var random = new Random(7);
        float[] Randoms(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var query = Randoms(width);
        var normBias = Randoms(width);
        var outputW = new float[2 * (2 + width)];
        outputW[0] = outputW[2] = 1;
        outputW[(2 + width) + 1] = outputW[(2 + width) + 3] = 1;
        var bow = ThincModelData.Read(Path.Combine(SharedPipelines.Folder("textcat"), "textcat", "model")).Nodes.Single(n => n.Name == "sparse_linear");
        var parameters = new Dictionary<string, List<KeyValuePair<string, NdArray>>>
        {
            ["sparse_linear"] = bow.Params,
            ["para-attn"] = [new("Q", NdArray.FromFloats(query, width))],
            ["maxout"] = [new("W", NdArray.FromFloats(new float[width * 3 * width], width, 3, width)), new("b", NdArray.FromFloats(new float[width * 3], width, 3))],
            ["layernorm"] = [new("G", NdArray.FromFloats(Randoms(width), width)), new("b", NdArray.FromFloats(normBias, width))],
            ["softmax"] = [new("W", NdArray.FromFloats(outputW, 2, 2 + width)), new("b", NdArray.FromFloats(new float[2], 2))],
        };
        var data = new ThincModelData
        {
            Nodes = model.Root.Walk().Select((layer, i) => new ThincNodeData
            {
                Index = i,
                Name = layer.Name,
                Dims = layer.Name switch
                {
                    "sparse_linear" => bow.Dims,
                    "maxout" => [new("nO", width), new("nI", width), new("nP", 3)],
                    _ => [],
                },
                Attrs = layer.Name == "sparse_linear" ? bow.Attrs : [],
                Params = parameters.GetValueOrDefault(layer.Name) ?? [],
            }).ToList(),
        };
        model.Root.Bind(data, "synthetic");
        model.LoadWeights("synthetic");

        var predictions = SharedPipelines.Predictions("textcat");
        var docs = predictions.Select(PipelineTestContexts.DocumentOf).ToList();
        foreach (var doc in docs)
        {
            doc.Tok2VecOutputs["tok2vec"] = Randoms(doc.Length * width);
        }

        var scores = new float[docs.Count * 2];
        model.Predict(docs, scores);
        for (var d = 0; d < docs.Count; d++)
        {
            var vectors = docs[d].Tok2VecOutputs["tok2vec"];
            var n = docs[d].Length;
            var attention = Enumerable.Range(0, n).Select(t => Math.Exp(Enumerable.Range(0, width).Sum(i => (double)vectors[(t * width) + i] * query[i]))).ToList();
            var summary = Enumerable.Range(0, 2).Select(i => Enumerable.Range(0, n).Sum(t => attention[t] / attention.Sum() * vectors[(t * width) + i]) + normBias[i]).ToList();
            var cats = predictions[d].GetProperty("cats");
            var logits = new[] { cats.GetProperty("DOCUMENTATION").GetDouble() + summary[0], cats.GetProperty("NOT_DOCUMENTATION").GetDouble() + summary[1] };
            var expected0 = Math.Exp(logits[0]) / (Math.Exp(logits[0]) + Math.Exp(logits[1]));
            Assert.Equal(expected0, scores[d * 2], 1e-5);
            Assert.Equal(1 - expected0, scores[(d * 2) + 1], 1e-5);
        }
    }

    [Fact]
    public void Ensemble_with_an_inline_tok2vec_puts_the_Tok2Vec_tree_where_the_listener_goes()
    {
        const string inline = """
            [components.textcat.model.tok2vec]
            @architectures = "spacy.Tok2Vec.v2"

            [components.textcat.model.tok2vec.embed]
            @architectures = "spacy.MultiHashEmbed.v2"
            width = 64
            attrs = ["NORM","PREFIX"]
            rows = [100,50]
            include_static_vectors = false

            [components.textcat.model.tok2vec.encode]
            @architectures = "spacy.MaxoutWindowEncoder.v2"
            width = 64
            depth = 2
            window_size = 1
            maxout_pieces = 3

            """;
        using var folder = new EnsembleFolder(exclusive: true, tok2vec: inline);
        var model = TextCategorizerComponent.BuildModel(folder.Context);
        var block = "residual(expand_window>>maxout>>layernorm>>dropout)";
        var tok2vec = "extract_features>>list2ragged>>with_array(ints-getitem>>hashembed|ints-getitem>>hashembed)>>with_array(maxout>>layernorm>>dropout)>>ragged2list"
            + $">>with_array({block}>>{block})";
        Assert.Contains($"|{tok2vec}>>list2ragged>>para-attn", model.Root.Name, StringComparison.Ordinal);
        Assert.DoesNotContain("tok2vec-listener", model.Root.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_labels_in_cfg_is_PRD2431_naming_the_file()
    {
        var folder = PipelineTestContexts.CopyOf("textcat");
        var cfg = Path.Combine(folder, "textcat", "cfg");
        File.WriteAllText(cfg, "{\"threshold\": 0.0}");
        var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(folder));
        Assert.Equal("PRD2431", error.Code);
        Assert.Equal(cfg, error.Path);
        Assert.Contains("labels", error.Message);
    }

    [Fact]
    public void Missing_cfg_is_PRD2430()
    {
        var folder = PipelineTestContexts.CopyOf("textcat_multilabel");
        File.Delete(Path.Combine(folder, "textcat_multilabel", "cfg"));
        var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(folder));
        Assert.Equal("PRD2430", error.Code);
    }

    [Fact]
    public void Label_count_other_than_the_models_is_PRD2432()
    {
        var folder = PipelineTestContexts.CopyOf("textcat");
        File.WriteAllText(Path.Combine(folder, "textcat", "cfg"), "{\"labels\": [\"DOCUMENTATION\", \"NOT_DOCUMENTATION\", \"OTHER\"]}");
        var error = Assert.Throws<SpacyPipelineException>(() => SpacyPipeline.Load(folder));
        Assert.Equal("PRD2432", error.Code);
        Assert.Contains("3 labels", error.Message);
        Assert.Contains("2 classes", error.Message);
    }

    /// <summary>Checks a tree's walk against model-layout.json's: names, params and each node's children.</summary>
    internal static void AssertWalk(JsonElement walk, ThincLayer root)
    {
        var ours = root.Walk().ToList();
        Assert.Equal(walk.EnumerateArray().Select(n => n.GetProperty("name").GetString()), ours.Select(l => l.Name));
        var index = new Dictionary<ThincLayer, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < ours.Count; i++)
        {
            index[ours[i]] = i;
        }

        foreach (var node in walk.EnumerateArray())
        {
            var layer = ours[node.GetProperty("index").GetInt32()];
            Assert.Equal(node.GetProperty("layers").EnumerateArray().Select(l => l.GetInt32()), layer.Layers.Select(l => index[l]));
            Assert.Equal(node.GetProperty("params").EnumerateObject().Select(p => p.Name).Order(), layer.ParamNames.Order());
        }
    }

    /// <summary>A pipeline folder whose config.cfg has a TextCatEnsemble.v2 textcat (no model file: trees only).</summary>
    private sealed class EnsembleFolder : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), $"prodigy-ensemble-{Guid.NewGuid():N}");

        public EnsembleFolder(bool exclusive, string? tok2vec = null)
        {
            Directory.CreateDirectory(Path.Combine(_root, "textcat"));
            var flag = exclusive ? "true" : "false";
            File.WriteAllText(Path.Combine(_root, "config.cfg"), $"""
                [nlp]
                lang = "en"
                pipeline = ["tok2vec","textcat"]

                [components]

                [components.textcat]
                factory = "textcat"
                threshold = 0.0

                [components.textcat.model]
                @architectures = "spacy.TextCatEnsemble.v2"
                nO = null

                [components.textcat.model.linear_model]
                @architectures = "spacy.TextCatBOW.v2"
                exclusive_classes = {flag}
                ngram_size = 1
                no_output_layer = false
                nO = null

                {tok2vec ?? "[components.textcat.model.tok2vec]\n@architectures = \"spacy.Tok2VecListener.v1\"\nwidth = 8\nupstream = \"*\"\n"}
                """);
            Context = PipelineTestContexts.After(_root, "textcat");
        }

        public ComponentContext Context { get; }

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
