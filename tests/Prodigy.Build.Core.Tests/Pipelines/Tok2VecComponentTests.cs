using System.Text.Json;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary>The tok2vec component against tok2vec.json: what spaCy's own tok2vec computed for three dev texts.</summary>
public sealed class Tok2VecComponentTests
{
    public static TheoryData<string> PipelinesWithTok2Vec => ["ner", "spancat"];

    // The tok2vec component alone, with the pipeline's own tokenizer (the other components are tested on their own).
    private static (Tokenizer Nlp, Tok2VecComponent Tok2Vec) Load(string name)
    {
        var folder = SharedPipelines.Folder(name);
        var tokenizer = new Tokenizer(TokenizerRules.Load(folder));
        return (tokenizer, Assert.IsType<Tok2VecComponent>(Tok2VecComponent.Create(PipelineTestContexts.After(folder, "tok2vec"))));
    }

    private static float[] Matrix(JsonElement rows) => rows.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();

    [Theory]
    [MemberData(nameof(PipelinesWithTok2Vec))]
    public void Attribute_ids_and_hash_rows_equal_thincs(string name)
    {
        var (nlp, tok2vec) = Load(name);
        foreach (var expected in SharedPipelines.Json(name, "tok2vec.json").GetProperty("docs").EnumerateArray())
        {
            var doc = new PipelineDoc(expected.GetProperty("text").GetString()!, nlp.Tokenize(expected.GetProperty("text").GetString()!));
            var tokens = expected.GetProperty("tokens").EnumerateArray().ToList();
            Assert.Equal(tokens.Select(t => t.GetProperty("text").GetString()), doc.Tokens.Select(t => t.Text));
            foreach (var attr in new[] { "NORM", "PREFIX", "SUFFIX", "SHAPE" })
            {
                Assert.Equal(tokens.Select(t => t.GetProperty("ids").GetProperty(attr).GetUInt64()), doc.AttrIds(attr));
            }

            var tables = expected.GetProperty("hash_tables").EnumerateArray().ToList();
            for (var t = 0; t < tables.Count; t++)
            {
                var rows = tables[t].GetProperty("rows").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetUInt32()));
                Assert.Equal(rows, tok2vec.HashRows(doc, t));
            }
        }
    }

    [Fact]
    public void Thincs_hash_of_a_key_gives_its_four_words()
    {
        var doc = SharedPipelines.Json("ner", "tok2vec.json").GetProperty("docs")[0];
        var token = doc.GetProperty("tokens")[0];
        var table = doc.GetProperty("hash_tables")[0];
        Span<uint> words = stackalloc uint[4];
        Hashing.MurmurHash.Hash3X64_128(token.GetProperty("ids").GetProperty("NORM").GetUInt64(), table.GetProperty("seed").GetUInt32(), words);
        Assert.Equal(table.GetProperty("hash_uint32")[0].EnumerateArray().Select(v => v.GetUInt32()), words.ToArray());
    }

    [Theory]
    [MemberData(nameof(PipelinesWithTok2Vec))]
    public void Embed_and_encoder_outputs_equal_spaCys(string name)
    {
        var (nlp, tok2vec) = Load(name);
        foreach (var expected in SharedPipelines.Json(name, "tok2vec.json").GetProperty("docs").EnumerateArray())
        {
            var doc = new PipelineDoc(expected.GetProperty("text").GetString()!, nlp.Tokenize(expected.GetProperty("text").GetString()!));
            AssertClose(Matrix(expected.GetProperty("embed_output")), tok2vec.Embed(doc));
            tok2vec.Predict([doc]);
            Assert.Equal(expected.GetProperty("output_shape")[1].GetInt32(), tok2vec.Width);
            AssertClose(Matrix(expected.GetProperty("output")), doc.Tok2VecOutputs["tok2vec"]);
        }
    }

    [Fact]
    public void Tree_walks_as_thinc_walked_the_model()
    {
        var layout = SharedPipelines.Json("ner", "model-layout.json").GetProperty("components").GetProperty("tok2vec").GetProperty("walk");
        TextCategorizerComponentTests.AssertWalk(layout, Load("ner").Tok2Vec.Tree);
    }

    [Fact]
    public void A_batch_gives_each_document_what_it_gets_alone()
    {
        var (nlp, tok2vec) = Load("ner");
        var texts = SharedPipelines.Predictions("ner").Take(8).Select(p => p.GetProperty("text").GetString()!).ToList();
        var batch = texts.Select(t => new PipelineDoc(t, nlp.Tokenize(t))).ToList();
        tok2vec.Predict(batch);
        foreach (var (text, i) in texts.Select((t, i) => (t, i)))
        {
            var alone = new PipelineDoc(text, nlp.Tokenize(text));
            tok2vec.Predict([alone]);
            Assert.Equal(alone.Tok2VecOutputs["tok2vec"], batch[i].Tok2VecOutputs["tok2vec"]);
        }
    }

    [Fact]
    public void Documents_encoded_together_get_what_each_gets_alone_in_any_order()
    {
        // Short documents of a batch run through the encoder together, between pad rows, and every run
        // works in one set of buffers sized by the largest so far: a document after a longer one finds
        // that one's values in them, and a longer one regrows them.
        var (nlp, tok2vec) = Load("ner");
        var byLength = SharedPipelines.Predictions("ner")
            .Select(p => p.GetProperty("text").GetString()!)
            .OrderBy(t => nlp.Tokenize(t).Count)
            .ToList();
        var middle = byLength[byLength.Count / 2];
        string[] texts = [byLength[0], byLength[1], byLength[2], middle, byLength[^1], byLength[0], middle, byLength[^2], byLength[1]];
        Assert.True(nlp.Tokenize(byLength[^1]).Count > 2 * nlp.Tokenize(middle).Count, "the texts must differ in length for the buffers to be regrown");
        Assert.True(texts.Take(4).Sum(t => nlp.Tokenize(t).Count + 8) < Tok2VecModel.RowsPerRun, "the short texts must share a run");
        var batch = texts.Select(t => new PipelineDoc(t, nlp.Tokenize(t))).ToList();
        tok2vec.Predict(batch);
        for (var i = 0; i < texts.Length; i++)
        {
            var alone = new PipelineDoc(texts[i], nlp.Tokenize(texts[i]));
            tok2vec.Predict([alone]);
            Assert.Equal(alone.Tok2VecOutputs["tok2vec"], batch[i].Tok2VecOutputs["tok2vec"]);
        }
    }

    [Fact]
    public void A_batchs_working_arrays_are_bounded_by_a_run_not_by_its_documents()
    {
        // Per document they were several rows x 288 floats, large objects that an evaluation over a dev
        // set left behind by the tens of megabytes. Now a document adds what it keeps, its output
        // (rows x 96), and little else: five times the documents cost about five times the outputs more.
        var (nlp, tok2vec) = Load("ner");
        var texts = SharedPipelines.Predictions("ner").Select(p => p.GetProperty("text").GetString()!).ToList();
        List<PipelineDoc> Docs(int count) => Enumerable.Range(0, count).Select(i => new PipelineDoc(texts[i % texts.Count], nlp.Tokenize(texts[i % texts.Count]))).ToList();
        long Allocated(List<PipelineDoc> docs)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            tok2vec.Predict(docs);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Allocated(Docs(texts.Count));
        var few = Docs(texts.Count);
        var many = Docs(5 * texts.Count);
        var moreOutputs = (many.Sum(d => (long)d.Length) - few.Sum(d => (long)d.Length)) * tok2vec.Width * sizeof(float);
        var more = Allocated(many) - Allocated(few);
        Assert.True(more < 2 * moreOutputs, $"{many.Count - few.Count} more documents allocated {more:N0} more bytes, for {moreOutputs:N0} bytes of outputs");
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-5, $"largest difference {worst}");
    }
}
