using System.Text;

namespace Prodigy.Build.Core.Config;

/// <summary>
/// The label files of <c>spacy init labels</c> (one <c>&lt;component&gt;.json</c> per component, read
/// back by <c>spacy.read_labels.v1</c> from <c>[initialize.components.&lt;c&gt;.labels]</c>).
/// </summary>
/// <remarks>
/// spaCy writes each component's <c>label_data</c> with <c>srsly.write_json</c> (ujson,
/// <c>indent=2</c>, ASCII with <c>\uXXXX</c> escapes, no final newline). The order is the
/// component's: <c>ner</c> sorts its labels (its labels come from the transition moves and are
/// returned sorted); <c>textcat</c>, <c>textcat_multilabel</c> and <c>spancat</c> keep the order in which
/// <c>initialize</c> first met each label in the training corpus. Pass labels in corpus order
/// (duplicates are dropped, the first occurrence wins).
/// </remarks>
public static class LabelFiles
{
    /// <summary>The file name spaCy uses for a component's labels.</summary>
    public static string FileName(string component) => component + ".json";

    /// <summary>The labels in the order spaCy writes them for <paramref name="component"/>.</summary>
    public static IReadOnlyList<string> Order(string component, IEnumerable<string> labelsInCorpusOrder)
    {
        ArgumentNullException.ThrowIfNull(labelsInCorpusOrder);
        var unique = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var label in labelsInCorpusOrder)
        {
            ArgumentNullException.ThrowIfNull(label);
            if (seen.Add(label))
            {
                unique.Add(label);
            }
        }

        if (component == "ner")
        {
            // Python's sorted(): by code point.
            unique.Sort(SpacyConfigDocument.PythonStringCompare);
        }

        return unique;
    }

    /// <summary>The file text: <c>srsly.write_json(path, labels)</c>.</summary>
    public static string ToJson(IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            return "[]";
        }

        var builder = new StringBuilder("[\n");
        for (var i = 0; i < labels.Count; i++)
        {
            builder.Append("  ");
            ConfigValues.AppendJson(builder, labels[i]);
            builder.Append(i + 1 < labels.Count ? ",\n" : "\n");
        }

        return builder.Append(']').ToString();
    }

    /// <summary>The file text for a component, labels given in corpus order.</summary>
    public static string ToJson(string component, IEnumerable<string> labelsInCorpusOrder) =>
        ToJson(Order(component, labelsInCorpusOrder));

    /// <summary>Writes <c>&lt;directory&gt;/&lt;component&gt;.json</c> atomically; returns its path.</summary>
    public static string Write(string directory, string component, IEnumerable<string> labelsInCorpusOrder)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(component);
        var path = Path.Combine(directory, FileName(component));
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(ToJson(component, labelsInCorpusOrder)));
        return path;
    }

    /// <summary>Writes every component's file (in ordinal component order); returns component → path.</summary>
    public static IReadOnlyDictionary<string, string> WriteAll(string directory, IReadOnlyDictionary<string, IReadOnlyList<string>> labelsPerComponent)
    {
        ArgumentNullException.ThrowIfNull(labelsPerComponent);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var component in labelsPerComponent.Keys.Order(StringComparer.Ordinal))
        {
            result[component] = Write(directory, component, labelsPerComponent[component]);
        }

        return result;
    }
}
