using System.Text;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Spacy;

namespace Prodigy.Build.Tool.Commands;

/// <summary>The config and label files written beside a corpus (what data-to-spacy adds to spaCy's init config).</summary>
internal static class ConfigStage
{
    public static IReadOnlyList<string> ComponentNames(IEnumerable<ComponentSummary> components) =>
        components.Select(c => CorpusComponents.Name(c.Component)).ToList();

    /// <summary>spaCy's generated config for these components, with an error a person can act on when spaCy has no recipe for it.</summary>
    public static SpacyConfigDocument Generate(string language, IReadOnlyList<string> components, string optimize, bool gpu)
    {
        try
        {
            return SpacyConfigGenerator.GenerateDocument(new SpacyConfigRequest(
                language, components, optimize == "accuracy" ? SpacyOptimize.Accuracy : SpacyOptimize.Efficiency, gpu));
        }
        catch (ArgumentException e)
        {
            throw new ToolException("PRD2022", $"cannot generate a spaCy config: {e.Message}");
        }
    }

    public static string WriteCorpusConfig(string output, CorpusSettings settings, IReadOnlyList<ComponentSummary> components, IReadOnlyList<SpacyDoc> trainDocs, string? userConfig)
    {
        var names = ComponentNames(components);
        SpacyConfigDocument config;
        if (userConfig is not null)
        {
            if (!File.Exists(userConfig))
            {
                throw new ToolException("PRD2023", "the config file given as ProdigyConfig does not exist.", userConfig);
            }

            try
            {
                config = SpacyConfigDocument.Load(userConfig);
            }
            catch (Exception e) when (e is FormatException or InvalidDataException or ArgumentException)
            {
                throw new ToolException("PRD2023", $"cannot read the config: {e.Message}", userConfig);
            }
        }
        else
        {
            config = Generate(settings.Language, names, settings.Optimize, settings.Gpu);
        }

        var spans = components.FirstOrDefault(c => c.Component == CorpusComponent.Spancat);
        var request = new CorpusConfigRequest
        {
            Components = names,
            Labels = LabelsInCorpusOrder(components, trainDocs),
            OutputDirectory = output,
            ConfigNames = userConfig is null ? new Dictionary<string, string>() : ConfigNamesOf(config, userConfig, names, spans?.SpansKey ?? "sc"),
            HasBinaryNer = components.Any(c => c.Component == CorpusComponent.Ner && c.HasBinaryAnnotations),
            SpansKey = spans?.SpansKey ?? "sc",
        };
        var path = Path.Combine(output, "config.cfg");
        string text;
        try
        {
            text = CorpusConfig.Create(config, request);
        }
        catch (ArgumentException e) when (userConfig is not null)
        {
            throw new ToolException("PRD2023", $"the config cannot take this corpus: {e.Message}", userConfig);
        }

        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));
        return path;
    }

    /// <summary>
    /// The component of a user's config that takes each exported component: the one of that name, else
    /// the one with that factory (<c>[components.my_ner] factory = "ner"</c>; for spancat the one whose
    /// spans_key is the data's when there are several). None or an ambiguous choice is PRD2023.
    /// </summary>
    internal static Dictionary<string, string> ConfigNamesOf(SpacyConfigDocument config, string configPath, IReadOnlyList<string> exported, string spansKey)
    {
        var resolved = new ResolvedConfig(config, configPath);
        var pipeline = resolved.StringList("nlp", "pipeline");
        string FactoryOf(string name) => resolved.String($"components.{name}", "factory") ?? name;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var component in exported)
        {
            if (pipeline.Contains(component) && FactoryOf(component) == component)
            {
                continue;
            }

            var candidates = pipeline.Where(n => FactoryOf(n) == component).ToList();
            if (component == "spancat" && candidates.Count > 1)
            {
                candidates = [.. candidates.Where(n => (resolved.String($"components.{n}", "spans_key") ?? "sc") == spansKey)];
            }

            result[component] = candidates switch
            {
                [var only] => only,
                [] => throw new ToolException("PRD2023", $"the config's [nlp] pipeline ({string.Join(", ", pipeline)}) has no {component} component for the {component} data; add one (any name, with factory = \"{component}\") or remove the {component} datasets.", configPath),
                _ => throw new ToolException("PRD2023", $"the config's [nlp] pipeline has several {component} components ({string.Join(", ", candidates)}) and the {component} data can train only one; keep one, or name the one to train '{component}'.", configPath),
            };
        }

        return result;
    }

    /// <summary>
    /// Each component's labels as spaCy's initialize meets them in the training docs (LabelFiles
    /// puts them in the order spaCy writes: ner sorted, the others in corpus order).
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> LabelsInCorpusOrder(IReadOnlyList<ComponentSummary> components, IReadOnlyList<SpacyDoc> trainDocs)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var component in components)
        {
            var labels = component.Component switch
            {
                CorpusComponent.Ner => trainDocs.SelectMany(d => d.Entities ?? []).Where(e => e.Iob == EntityIob.Begin).Select(e => e.Label),
                CorpusComponent.Spancat => trainDocs.SelectMany(d => d.SpanGroups.Where(g => g.Key == component.SpansKey).SelectMany(g => g.Value.Spans)).Select(s => s.Label),
                _ => trainDocs.SelectMany(d => d.Cats.Select(c => c.Key)),
            };
            result[CorpusComponents.Name(component.Component)] = labels.Distinct(StringComparer.Ordinal).ToList();
        }

        return result;
    }

    /// <summary>Writes labels/&lt;component&gt;.json as spaCy's init labels would.</summary>
    public static IEnumerable<string> WriteLabels(string output, IReadOnlyList<ComponentSummary> components, IReadOnlyList<SpacyDoc> trainDocs) =>
        LabelFiles.WriteAll(Path.Combine(output, "labels"), LabelsInCorpusOrder(components, trainDocs)).Values;
}
