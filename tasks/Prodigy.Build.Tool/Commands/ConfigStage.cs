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

    public static string WriteCorpusConfig(string output, CorpusSettings settings, IReadOnlyList<ComponentSummary> components, string? userConfig)
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
            OutputDirectory = output,
            HasBinaryNer = components.Any(c => c.Component == CorpusComponent.Ner && c.HasBinaryAnnotations),
            SpansKey = spans?.SpansKey ?? "sc",
        };
        var path = Path.Combine(output, "config.cfg");
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(CorpusConfig.Create(config, request)));
        return path;
    }

    /// <summary>
    /// Writes labels/&lt;component&gt;.json as spaCy's init labels would from the training docs:
    /// ner's labels sorted, the others in the order the training corpus first shows them.
    /// </summary>
    public static IEnumerable<string> WriteLabels(string output, IReadOnlyList<ComponentSummary> components, IReadOnlyList<SpacyDoc> trainDocs)
    {
        var directory = Path.Combine(output, "labels");
        var paths = new List<string>();
        foreach (var component in components)
        {
            var labels = component.Component switch
            {
                CorpusComponent.Ner => trainDocs.SelectMany(d => d.Entities ?? []).Where(e => e.Iob == EntityIob.Begin).Select(e => e.Label),
                CorpusComponent.Spancat => trainDocs.SelectMany(d => d.SpanGroups.Where(g => g.Key == component.SpansKey).SelectMany(g => g.Value.Spans)).Select(s => s.Label),
                _ => trainDocs.SelectMany(d => d.Cats.Select(c => c.Key)),
            };
            paths.Add(LabelFiles.Write(directory, CorpusComponents.Name(component.Component), labels));
        }

        return paths;
    }
}
