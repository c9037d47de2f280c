using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>Answers of a dataset, or of one label in it.</summary>
public sealed class AnswerCounts
{
    public int Accept { get; internal set; }

    public int Reject { get; internal set; }

    public int Ignore { get; internal set; }

    /// <summary>Examples without an <c>answer</c> (Prodigy reads them as accepted).</summary>
    public int None { get; internal set; }

    public int Total => Accept + Reject + Ignore + None;

    internal void Add(string? answer)
    {
        switch (answer)
        {
            case "accept": Accept++; break;
            case "reject": Reject++; break;
            case "ignore": Ignore++; break;
            default: None++; break;
        }
    }
}

/// <summary>
/// A dataset's statistics, as <c>prodigy stats -l</c> shows them: how many examples, how they were
/// answered, how many distinct inputs and annotators, and per label how often it was accepted,
/// rejected and ignored. A label counts once per span (entities, span categories, image shapes; a
/// span's own answer wins, as ner.teach writes it), once per binary <c>label</c>, and once per
/// accepted choice option.
/// </summary>
public sealed class ProdigyDatasetStats
{
    public required string Name { get; init; }

    /// <summary>The file, or <c>database#dataset</c>.</summary>
    public required string Source { get; init; }

    public AnswerCounts Answers { get; } = new();

    public int Examples => Answers.Total;

    public int Inputs { get; private set; }

    public int Annotators { get; private set; }

    public SortedDictionary<string, AnswerCounts> Labels { get; } = new(StringComparer.Ordinal);

    public static ProdigyDatasetStats Compute(string name, string source, IEnumerable<ProdigyExample> examples)
    {
        var stats = new ProdigyDatasetStats { Name = name, Source = source };
        var inputs = new HashSet<long>();
        var annotators = new HashSet<string>(StringComparer.Ordinal);
        foreach (var example in examples)
        {
            var answer = example.Answer;
            stats.Answers.Add(answer);
            if (example.InputHash is { } inputHash)
            {
                inputs.Add(inputHash);
            }
            else if (example.Text is { } text)
            {
                inputs.Add(ProdigyHashes.InputHash(text));
            }

            if (example.AnnotatorId is { } annotator)
            {
                annotators.Add(annotator);
            }

            if (example.Label is { Length: > 0 } label)
            {
                stats.Label(label).Add(answer);
            }

            foreach (var span in example.Spans)
            {
                if (span.Label is { Length: > 0 } spanLabel)
                {
                    stats.Label(spanLabel).Add(span.Answer ?? answer);
                }
            }

            foreach (var option in example.Accept)
            {
                stats.Label(option).Add(answer);
            }
        }

        stats.Inputs = inputs.Count;
        stats.Annotators = annotators.Count;
        return stats;
    }

    private AnswerCounts Label(string label)
    {
        if (!Labels.TryGetValue(label, out var counts))
        {
            Labels[label] = counts = new AnswerCounts();
        }

        return counts;
    }

    /// <summary>The table the <c>stats</c> command prints.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Dataset '{Name}' ({Source})\n");
        void Row(string name, object value) => text.Append(CultureInfo.InvariantCulture, $"  {name,-14}{value}\n");
        Row("Annotations", Examples);
        Row("Accept", Answers.Accept);
        Row("Reject", Answers.Reject);
        Row("Ignore", Answers.Ignore);
        if (Answers.None > 0)
        {
            Row("No answer", Answers.None);
        }

        Row("Inputs", Inputs);
        Row("Annotators", Annotators);
        if (Labels.Count > 0)
        {
            var width = Math.Max(5, Labels.Keys.Max(l => l.Length));
            text.Append(CultureInfo.InvariantCulture, $"  {"Label".PadRight(width)}  {"accept",7} {"reject",7} {"ignore",7} {"total",7}\n");
            foreach (var (label, counts) in Labels)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {label.PadRight(width)}  {counts.Accept + counts.None,7} {counts.Reject,7} {counts.Ignore,7} {counts.Total,7}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>Writes the statistics of several datasets as JSON (what the <c>Stats</c> target saves).</summary>
    public static byte[] ToJson(IEnumerable<ProdigyDatasetStats> datasets)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("datasets");
            foreach (var stats in datasets)
            {
                writer.WriteStartObject();
                writer.WriteString("name", stats.Name);
                writer.WriteString("source", stats.Source);
                writer.WriteNumber("examples", stats.Examples);
                writer.WritePropertyName("answers");
                WriteCounts(writer, stats.Answers);
                writer.WriteNumber("inputs", stats.Inputs);
                writer.WriteNumber("annotators", stats.Annotators);
                writer.WriteStartObject("labels");
                foreach (var (label, counts) in stats.Labels)
                {
                    writer.WritePropertyName(label);
                    WriteCounts(writer, counts);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    private static void WriteCounts(Utf8JsonWriter writer, AnswerCounts counts)
    {
        writer.WriteStartObject();
        writer.WriteNumber("accept", counts.Accept);
        writer.WriteNumber("reject", counts.Reject);
        writer.WriteNumber("ignore", counts.Ignore);
        writer.WriteNumber("none", counts.None);
        writer.WriteNumber("total", counts.Total);
        writer.WriteEndObject();
    }
}
