using System.Text.Json;
using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

public sealed class SpanCategorizerComponentTests
{
    private static readonly string Folder = SharedPipelines.Folder("spancat");

    private static SpanCategorizerComponent Load(string? folder = null) =>
        Assert.IsType<SpanCategorizerComponent>(SpanCategorizerComponent.Create(PipelineTestContexts.After(folder ?? Folder, "spancat")));

    [Fact]
    public void Settings_come_from_config_and_cfg()
    {
        var spancat = Load();
        Assert.Equal(["FASHION_BRAND"], spancat.Labels);
        Assert.Equal("sc", spancat.SpansKey);
        Assert.Equal(0.5f, spancat.Threshold);
        Assert.Null(spancat.MaxPositive);
        Assert.True(spancat.AllowOverlap);
        Assert.Equal([1, 2, 3], spancat.SuggesterSizes);
        Assert.Equal("tok2vec", spancat.Tok2VecUpstream);
        Assert.Equal(96, spancat.Width);
    }

    [Fact]
    public void Tree_walks_as_thinc_walked_the_model()
    {
        var layout = SharedPipelines.Json("spancat", "model-layout.json").GetProperty("components").GetProperty("spancat").GetProperty("walk");
        TextCategorizerComponentTests.AssertWalk(layout, Load().Tree);
    }

    [Fact]
    public void Spans_for_the_tok2vec_json_docs_equal_spaCy()
    {
        var spancat = Load();
        var tok2vec = SharedPipelines.Json("spancat", "tok2vec.json").GetProperty("docs").EnumerateArray().ToList();
        var predictions = SharedPipelines.Predictions("spancat");
        Assert.Equal(3, tok2vec.Count);
        for (var d = 0; d < tok2vec.Count; d++)
        {
            Assert.Equal(predictions[d].GetProperty("text").GetString(), tok2vec[d].GetProperty("text").GetString());
            var doc = PipelineTestContexts.DocumentOf(predictions[d]);
            doc.Tok2VecOutputs["tok2vec"] = tok2vec[d].GetProperty("output").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
            spancat.Predict([doc]);
            var expected = predictions[d].GetProperty("spans").GetProperty("sc").EnumerateArray().ToList();
            var ours = doc.Spans["sc"];
            Assert.Equal(expected.Select(s => (s.GetProperty("start").GetInt32(), s.GetProperty("end").GetInt32(), s.GetProperty("label").GetString()!)), ours.Select(s => (s.Start, s.End, s.Label)));
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].GetProperty("score").GetDouble(), ours[i].Score!.Value, 1e-5);
            }

            // spaCy keeps no span here (the short-trained model scores every candidate below 0.5): the
            // candidates must all have been scored, as probabilities below the threshold.
            var count = spancat.SuggestionCount(doc.Length);
            Assert.Equal((3 * doc.Length) - 3, count);
            var spans = new (int, int)[count];
            var scores = new float[count];
            spancat.Score(doc, spans, scores);
            Assert.All(scores, s => Assert.True(s is > 0f and < 0.5f, $"score {s}"));
            Assert.True(scores.Distinct().Count() > count / 2, "scores should differ between spans");
        }
    }

    [Fact]
    public void Load_and_Process_give_spaCys_spans_for_the_50_dev_texts()
    {
        var nlp = SpacyPipeline.Load(Folder);
        foreach (var prediction in SharedPipelines.Predictions("spancat"))
        {
            var doc = nlp.Process(prediction.GetProperty("text").GetString()!);
            var expected = prediction.GetProperty("spans").GetProperty("sc").EnumerateArray().ToList();
            Assert.Equal(expected.Select(s => (s.GetProperty("start").GetInt32(), s.GetProperty("end").GetInt32(), s.GetProperty("label").GetString()!)), doc.Spans["sc"].Select(s => (s.Start, s.End, s.Label)));
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].GetProperty("score").GetDouble(), doc.Spans["sc"][i].Score!.Value, 1e-5);
            }
        }
    }

    [Fact]
    public void Suggester_proposes_each_size_in_turn()
    {
        var spancat = Load();
        var spans = new (int Start, int End)[spancat.SuggestionCount(3)];
        Assert.Equal(6, spancat.Suggest(3, spans));
        Assert.Equal([(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (0, 3)], spans);
        Assert.Equal(1, spancat.SuggestionCount(1));
        Assert.Equal(0, spancat.SuggestionCount(0));
    }

    [Fact]
    public void Empty_document_gets_an_empty_span_group()
    {
        var doc = new PipelineDoc("", []);
        Load().Predict([doc]);
        Assert.Empty(doc.Spans["sc"]);
    }

    [Fact]
    public void Scores_equal_the_maxout_over_last_first_mean_max_of_each_span()
    {
        // The component applies the maxout's blocks per token; this is the model as thinc runs it:
        // extract_spans, concatenate(reduce_last, reduce_first, reduce_mean, reduce_max), maxout,
        // layernorm, linear, logistic, with the weights read straight from the model file.
        var spancat = Load();
        var model = Core.Pipelines.Thinc.ThincModelData.Read(Path.Combine(Folder, "spancat", "model"));
        var maxout = model.Nodes.Single(n => n.Name == "maxout");
        var norm = model.Nodes.Single(n => n.Name == "layernorm");
        var linear = model.Nodes.Single(n => n.Name == "linear");
        var (hidden, pieces, width) = ((int)maxout.Dim("nO")!, (int)maxout.Dim("nP")!, (int)maxout.Dim("nI")! / 4);
        var tok2vec = SharedPipelines.Json("spancat", "tok2vec.json").GetProperty("docs")[0];
        var doc = PipelineTestContexts.DocumentOf(SharedPipelines.Predictions("spancat")[0]);
        var tokens = tok2vec.GetProperty("output").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        doc.Tok2VecOutputs["tok2vec"] = tokens;

        var count = spancat.SuggestionCount(doc.Length);
        var spans = new (int Start, int End)[count];
        var scores = new float[count];
        spancat.Score(doc, spans, scores);

        var reduced = new float[count * 4 * width];
        for (var s = 0; s < count; s++)
        {
            var (start, end) = spans[s];
            var row = reduced.AsSpan(s * 4 * width, 4 * width);
            tokens.AsSpan((end - 1) * width, width).CopyTo(row[..width]);
            tokens.AsSpan(start * width, width).CopyTo(row.Slice(width, width));
            for (var i = 0; i < width; i++)
            {
                var mean = 0f;
                var max = float.NegativeInfinity;
                for (var t = start; t < end; t++)
                {
                    mean += tokens[t * width + i] * (float)(1.0 / (end - start));
                    max = Math.Max(max, tokens[t * width + i]);
                }

                row[2 * width + i] = mean;
                row[3 * width + i] = max;
            }
        }

        var z = new float[count * hidden * pieces];
        var h = new float[count * hidden];
        Ops.Maxout(reduced, count, 4 * width, maxout.Param("W")!.ToFloats(), hidden, pieces, maxout.Param("b")!.ToFloats(), z, h);
        Ops.LayerNormInPlace(h, count, hidden, norm.Param("G")!.ToFloats(), norm.Param("b")!.ToFloats(), z);
        var expected = new float[count];
        Ops.Affine(h, count, hidden, linear.Param("W")!.ToFloats(), 1, linear.Param("b")!.ToFloats(), expected);
        // Compared as logits: the short-trained model's probabilities are small, where 1e-5 would hide a wrong block.
        for (var s = 0; s < count; s++)
        {
            var logit = MathF.Log(scores[s] / (1 - scores[s]));
            Assert.Equal(expected[s], logit, 1e-4 * Math.Max(1, Math.Abs(expected[s])));
        }
    }

    [Fact]
    public void Multilabel_keeps_labels_at_the_threshold_in_span_then_label_order()
    {
        string[] labels = ["A", "B", "C"];
        (int, int)[] spans = [(0, 1), (1, 2), (0, 2)];
        float[] scores = [0.5f, 0.9f, 0.2f, 0.1f, 0.3f, 0.49f, 0.7f, 0.6f, 0.8f];
        var output = new List<PredictedSpan>();
        SpanCategorizerComponent.SelectSpans(spans, scores, labels, 0.5f, null, true, 2, output);
        Assert.Equal(
            [new(0, 1, "A", 0.5f), new(0, 1, "B", 0.9f), new(0, 2, "A", 0.7f), new(0, 2, "B", 0.6f), new(0, 2, "C", 0.8f)],
            output);

        // max_positive 2: the third-best label of (0, 2) goes, even though it passes the threshold.
        output.Clear();
        SpanCategorizerComponent.SelectSpans(spans, scores, labels, 0.5f, 2, true, 2, output);
        Assert.Equal([new(0, 1, "A", 0.5f), new(0, 1, "B", 0.9f), new(0, 2, "A", 0.7f), new(0, 2, "C", 0.8f)], output);
    }

    [Fact]
    public void Single_label_takes_the_argmax_and_without_overlap_the_best_spans_first()
    {
        string[] labels = ["A", "B"];
        (int, int)[] spans = [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3)];
        float[] scores = [0.6f, 0.1f, 0.2f, 0.3f, 0.1f, 0.55f, 0.4f, 0.9f, 0.7f, 0.2f];
        var output = new List<PredictedSpan>();
        SpanCategorizerComponent.SelectSpans(spans, scores, labels, 0.5f, 1, true, 3, output);
        Assert.Equal([new(0, 1, "A", 0.6f), new(2, 3, "B", 0.55f), new(0, 2, "B", 0.9f), new(1, 3, "A", 0.7f)], output);

        // Without overlaps: (0, 2) first, then (1, 3) and (0, 1) overlap it; (2, 3) does not.
        output.Clear();
        SpanCategorizerComponent.SelectSpans(spans, scores, labels, 0.5f, 1, false, 3, output);
        Assert.Equal([new(0, 2, "B", 0.9f), new(2, 3, "B", 0.55f)], output);

        // No threshold: every span keeps its argmax.
        output.Clear();
        SpanCategorizerComponent.SelectSpans(spans, scores, labels, null, 1, true, 3, output);
        Assert.Equal(5, output.Count);
    }

    [Fact]
    public void Unknown_suggester_is_PRD2433_naming_it()
    {
        var error = LoadWithConfig(c => c.Replace("spacy.ngram_suggester.v1", "spacy.preset_spans_suggester.v1"));
        Assert.Equal("PRD2433", error.Code);
        Assert.Contains("spacy.preset_spans_suggester.v1", error.Message);
    }

    [Fact]
    public void Unknown_reducer_is_PRD2434_naming_it()
    {
        var error = LoadWithConfig(c => c.Replace("spacy.mean_max_reducer.v1", "spacy.my_reducer.v1"));
        Assert.Equal("PRD2434", error.Code);
        Assert.Contains("spacy.my_reducer.v1", error.Message);
    }

    [Fact]
    public void Unknown_scorer_is_PRD2435_naming_it()
    {
        var error = LoadWithConfig(c => c.Replace("spacy.LinearLogistic.v1", "spacy.Softmax.v2"));
        Assert.Equal("PRD2435", error.Code);
        Assert.Contains("spacy.Softmax.v2", error.Message);
    }

    [Fact]
    public void Label_count_other_than_the_models_is_PRD2432()
    {
        var folder = PipelineTestContexts.CopyOf("spancat");
        var cfgPath = Path.Combine(folder, "spancat", "cfg");
        File.WriteAllText(cfgPath, File.ReadAllText(cfgPath).Replace("\"FASHION_BRAND\"", "\"FASHION_BRAND\", \"OTHER\""));
        var error = Assert.Throws<SpacyPipelineException>(() => Load(folder));
        Assert.Equal("PRD2432", error.Code);
    }

    [Fact]
    public void No_overlap_with_several_labels_per_span_is_PRD2436()
    {
        var folder = PipelineTestContexts.CopyOf("spancat");
        var cfgPath = Path.Combine(folder, "spancat", "cfg");
        var cfg = File.ReadAllText(cfgPath).Replace("\"max_positive\":null", "\"max_positive\":2").Replace("\"allow_overlap\":true", "\"allow_overlap\":false");
        File.WriteAllText(cfgPath, cfg);
        var error = Assert.Throws<SpacyPipelineException>(() => Load(folder));
        Assert.Equal("PRD2436", error.Code);
        Assert.Equal(cfgPath, error.Path);
    }

    private static SpacyPipelineException LoadWithConfig(Func<string, string> change)
    {
        var folder = PipelineTestContexts.CopyOf("spancat");
        var config = Path.Combine(folder, "config.cfg");
        File.WriteAllText(config, change(File.ReadAllText(config)));
        return Assert.Throws<SpacyPipelineException>(() => Load(folder));
    }
}
