using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model.SpacyFormat;
using Prodigy.Build.Trainer.Training;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// Fresh weights as spaCy draws them: thinc's initializers from numpy's generator, in spaCy's order.
/// The ground truth is spaCy's own: shared/spacy/pipelines/ner was trained by spaCy for 300 steps from
/// seed 0, and a HashEmbed row that no training token hashes to gets no gradient, so Adam leaves it as
/// initialized, but for the decoupled weight decay every step applies to the whole table.
/// </summary>
public sealed class ThincInitializationTests
{
    private static string NerPipeline => Path.Combine(SharedData.Root, "spacy", "pipelines", "ner", "pipeline");

    [Fact]
    public void HashEmbed_rows_no_token_reaches_are_spaCys_initial_rows_of_seed_0()
    {
        var config = ResolvedConfig.Load(Path.Combine(NerPipeline, "config.cfg"));
        var spacy = SpacyPipeline.Load(NerPipeline);
        var plan = SpacyPipelinePlan.Create(config, new SpacyVocab(), _ => new ComponentLabels { Labels = ["BRAND"] });
        var tok2vec = plan.Component("tok2vec");
        // The tok2vec is the first component spaCy's initialize runs, so its tables are the first draws after the seed.
        var initial = ThincInitialization.Draw(tok2vec, new NumpyRandom(0));

        // The rows the training tokens reach: those of the corpus's tokens, and those of the tokenizer's
        // tokens of its texts, which spaCy's Corpus trains on (nlp.make_doc(text)); 4 of these 1,235
        // texts tokenize otherwise ("edit:" is one token in the corpus), and their "):" reaches SHAPE rows
        // no corpus token does.
        var tokenizer = Core.Tokenization.Tokenizer.ForLanguage("en");
        var train = new List<PipelineDoc>();
        foreach (var doc in DocBin.Read(Path.Combine(SharedData.Root, "spacy", "baselines", "corpus", "fashion_brands", "train.spacy")))
        {
            train.Add(TrainingDoc.ToPipelineDoc(doc.Words, doc.Spaces ?? doc.Words.Select(_ => true).ToList(), doc.Norms));
            var tokens = tokenizer.Tokenize(doc.Text);
            train.Add(TrainingDoc.ToPipelineDoc(tokens.Select(x => x.Text).ToList(), tokens.Select(x => x.Whitespace).ToList(), tokens.Select(x => x.Norm).ToList()));
        }

        var component = spacy.Components.OfType<Tok2VecComponent>().Single();
        var tables = tok2vec.Parameters.Where(p => p.Key.StartsWith("embed.hashembed.", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, tables.Count);
        var checkedRows = 0;
        for (var t = 0; t < tables.Count; t++)
        {
            var reached = new HashSet<uint>();
            foreach (var doc in train)
            {
                reached.UnionWith(component.HashRows(doc, t));
            }

            var trained = tok2vec.ValueIn(spacy.Components.First(c => c.Name == "tok2vec").Tree, tables[t])!.ToFloats();
            var ours = initial[tables[t].Key];
            Assert.Equal(trained.Length, ours.Length);
            var width = (int)tables[t].Shape[1];
            var ratios = new List<double>();
            for (var row = 0; row < tables[t].Shape[0]; row++)
            {
                if (reached.Contains((uint)row))
                {
                    continue;
                }

                for (var c = 0; c < width; c++)
                {
                    ratios.Add(trained[(row * width) + c] / (double)ours[(row * width) + c]);
                }
            }

            Assert.True(ratios.Count > 10 * width, $"table {t}: only {ratios.Count / width} rows unreached");
            // Every unreached value is ours times one factor, the decay of 301 updates (learn rate 0.001
            // times L2 0.01 each), give or take float32's rounding of each; a value drawn otherwise would be
            // anything in +-0.1.
            var decay = Math.Pow(1 - 1e-5, 301);
            Assert.True(ratios.All(r => Math.Abs(r - decay) < 5e-5), $"table {t}: spaCy's unreached rows are ours times {ratios.Min()} to {ratios.Max()}, not {decay}; {ratios.Count(r => Math.Abs(r - decay) < 5e-5)} of {ratios.Count} match");
            checkedRows += ratios.Count / width;
        }

        Assert.True(checkedRows > 1000, $"{checkedRows} rows checked");
    }
}
