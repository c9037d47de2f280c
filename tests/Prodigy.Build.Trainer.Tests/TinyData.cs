using Prodigy.Build.Core.Config;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>Small, learnable data and spaCy's generated configs shrunk to train in seconds.</summary>
internal static class TinyData
{
    private static readonly string[] Brands = ["Nike", "Adidas", "Gucci", "Prada", "Zara", "Puma", "Levis", "Chanel"];
    private static readonly string[] Things = ["shoes", "jacket", "bag", "shirt", "jeans", "dress"];
    private static readonly string[] Good = ["great", "lovely", "perfect", "excellent"];
    private static readonly string[] Bad = ["awful", "broken", "terrible", "cheap"];

    /// <summary>spaCy's config for the components, with a small encoder and a short schedule.</summary>
    public static (TrainingSettings Settings, string Text) Config(IReadOnlyList<string> components, int maxSteps = 120, int evalFrequency = 40, int seed = 0, SpacyOptimize optimize = SpacyOptimize.Efficiency, string? vectors = null)
    {
        var document = SpacyConfigGenerator.GenerateDocument(new SpacyConfigRequest("en", components, optimize));
        if (optimize == SpacyOptimize.Accuracy)
        {
            // The accuracy configs name en_core_web_lg's vectors: these tests give a folder of their own or none.
            document.SetRaw("paths", "vectors", vectors is null ? "null" : $"\"{vectors}\"");
            document.SetRaw("components.tok2vec.model.embed", "include_static_vectors", vectors is null ? "false" : "true");
        }

        document.SetRaw("components.tok2vec.model.encode", "width", "32");
        document.SetRaw("components.tok2vec.model.encode", "depth", "2");
        document.SetRaw("components.tok2vec.model.embed", "rows", "[500,100,250,250]");
        document.SetRaw("training", "max_steps", maxSteps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        document.SetRaw("training", "eval_frequency", evalFrequency.ToString(System.Globalization.CultureInfo.InvariantCulture));
        document.SetRaw("training", "patience", "1000");
        document.SetRaw("system", "seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        document.SetRaw("training.batcher.size", "start", "40");
        document.SetRaw("training.batcher.size", "stop", "40");
        var text = document.ToString();
        return (TrainingSettings.From(new ResolvedConfig(SpacyConfigDocument.Parse(text), "tiny.cfg")), text);
    }

    /// <summary>"I love my Nike shoes ." with the brand as an entity, a sentiment category and spans.</summary>
    public static List<Example> Examples(int count, int seed, bool entities = true, bool cats = false, bool multilabel = false, bool spans = false)
    {
        var random = new Random(seed);
        var result = new List<Example>();
        for (var i = 0; i < count; i++)
        {
            var brand = Brands[random.Next(Brands.Length)];
            var thing = Things[random.Next(Things.Length)];
            var positive = random.Next(2) == 0;
            var adjective = positive ? Good[random.Next(Good.Length)] : Bad[random.Next(Bad.Length)];
            var words = random.Next(2) == 0
                ? new[] { "My", brand, thing, "is", adjective, "." }
                : new[] { "This", adjective, thing, "from", brand, "arrived", "." };
            var brandIndex = Array.IndexOf(words, brand);
            var catValues = new Dictionary<string, double>();
            if (cats)
            {
                catValues["POSITIVE"] = positive ? 1 : 0;
                catValues["NEGATIVE"] = positive ? 0 : 1;
            }

            if (multilabel)
            {
                catValues["PRAISE"] = positive ? 1 : 0;
                catValues["FOOTWEAR"] = thing == "shoes" ? 1 : 0;
            }

            result.Add(new Example
            {
                Words = words,
                Spaces = words.Select((_, k) => k < words.Length - 2).ToArray(),
                Norms = words.Select(w => w.ToLowerInvariant()).ToArray(),
                Entities = entities ? [new LabeledSpan(brandIndex, brandIndex + 1, "BRAND")] : null,
                EntityMissing = entities ? new bool[words.Length] : null,
                Cats = catValues,
                SpanGroups = spans
                    ? new Dictionary<string, IReadOnlyList<LabeledSpan>> { ["sc"] = [new LabeledSpan(brandIndex, brandIndex + 1, "BRAND"), new LabeledSpan(Array.IndexOf(words, thing), Array.IndexOf(words, thing) + 1, "ITEM")] }
                    : new Dictionary<string, IReadOnlyList<LabeledSpan>>(),
            });
        }

        return result;
    }
}
