using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Core.Tests.Pipelines;

/// <summary><see cref="SpacyPipeline.Annotate"/> runs batches at once; what it predicts must not depend on how many.</summary>
public sealed class ParallelAnnotateTests
{
    [Theory]
    [MemberData(nameof(SharedPipelines.Names), MemberType = typeof(SharedPipelines))]
    public void Many_batches_at_once_predict_bit_for_bit_what_one_at_a_time_does(string name)
    {
        // The 50 dev texts four times over, rotated: 200 documents, four batches of spaCy's 64 or fewer,
        // each text in a different batch and position every time.
        var texts = SharedPipelines.Predictions(name).Select(p => p.GetProperty("text").GetString()!).ToList();
        var many = Enumerable.Range(0, 4).SelectMany(r => texts.Skip(r * 13).Concat(texts.Take(r * 13))).ToList();
        Assert.True(many.Count > 3 * SpacyPipeline.BatchSize, "the documents fill fewer than four batches");

        var sequential = SpacyPipeline.Load(SharedPipelines.Folder(name));
        sequential.Parallelism = 1;
        var parallel = SpacyPipeline.Load(SharedPipelines.Folder(name));
        parallel.Parallelism = 4;
        var one = sequential.Process(many);
        var four = parallel.Process(many);

        var predicted = 0;
        for (var i = 0; i < many.Count; i++)
        {
            Assert.Equal(one[i].Entities, four[i].Entities);
            Assert.Equal(one[i].Cats.OrderBy(c => c.Key), four[i].Cats.OrderBy(c => c.Key));
            Assert.Equal(one[i].Spans.Keys.Order(), four[i].Spans.Keys.Order());
            foreach (var (key, spans) in one[i].Spans)
            {
                Assert.Equal(spans, four[i].Spans[key]);
            }

            Assert.Equal(one[i].Tok2VecOutputs.Keys.Order(), four[i].Tok2VecOutputs.Keys.Order());
            foreach (var (key, vectors) in one[i].Tok2VecOutputs)
            {
                Assert.Equal(vectors, four[i].Tok2VecOutputs[key]);
            }

            predicted += one[i].Entities.Count + one[i].Cats.Count + one[i].Spans.Values.Sum(s => s.Count) + one[i].Tok2VecOutputs.Count;
        }

        // Equal empty predictions would prove nothing (spancat's model finds no span above its threshold
        // in these texts, as spaCy's does not: there the tok2vec's vectors are what is compared).
        Assert.True(predicted > 0, $"{name} predicted nothing for {many.Count} texts");
    }

    [Fact]
    public void Parallelism_below_one_is_refused()
    {
        var pipeline = SpacyPipeline.Load(SharedPipelines.Folder("textcat"));
        Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Parallelism = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => SpacyPipeline.DefaultParallelism = 0);
    }
}
