using System.Globalization;
using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>
/// One annotated example of a dataset (a file's line, or a row of Prodigy's database), as Prodigy
/// stored it: the whole JSON object in <see cref="Content"/>, keys and values as they were, and typed
/// views of the keys Prodigy's recipes write. The .NET counterpart of one dict of Prodigy's
/// <c>connect().get_dataset_examples(name)</c>.
/// </summary>
public sealed class ProdigyExample
{
    private IReadOnlyList<ProdigyExampleSpan>? _spans;

    public ProdigyExample(JsonElement content, string source, int position, string? dataset = null, long? exampleId = null)
    {
        if (content.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("A Prodigy example is a JSON object.", nameof(content));
        }

        Content = content;
        Source = source;
        Position = position;
        Dataset = dataset;
        ExampleId = exampleId;
    }

    /// <summary>The task as stored.</summary>
    public JsonElement Content { get; }

    /// <summary>The file the example came from (a JSONL file, or the database file).</summary>
    public string Source { get; }

    /// <summary>The line in a JSONL file, or the 1-based position in a database dataset (its line in <c>db-out</c>'s output).</summary>
    public int Position { get; }

    /// <summary>The dataset's name, for an example from a database.</summary>
    public string? Dataset { get; }

    /// <summary>The row id in the database's <c>example</c> table.</summary>
    public long? ExampleId { get; }

    public string? Text => String("text");

    public long? InputHash => Integer("_input_hash");

    public long? TaskHash => Integer("_task_hash");

    /// <summary>The answer as stored (<c>accept</c>, <c>reject</c>, <c>ignore</c>), or null when there is none (Prodigy reads that as accept).</summary>
    public string? Answer => String("answer");

    public string? ViewId => String("_view_id");

    /// <summary>A binary classification task's <c>label</c>.</summary>
    public string? Label => String("label");

    /// <summary>A choice task's accepted option ids (as strings).</summary>
    public IReadOnlyList<string> Accept => Content.TryGetProperty("accept", out var accept) && accept.ValueKind == JsonValueKind.Array
        ? accept.EnumerateArray().Select(IdString).Where(id => id is not null).Select(id => id!).ToList()
        : [];

    public string? AnnotatorId => String("_annotator_id");

    public string? SessionId => String("_session_id");

    public long? Timestamp => Integer("_timestamp");

    /// <summary>An image task's <c>image</c>: a path, a URL or a data URI.</summary>
    public string? Image => String("image");

    /// <summary>An image task's width in pixels.</summary>
    public double? Width => Number("width");

    /// <summary>An image task's height in pixels.</summary>
    public double? Height => Number("height");

    /// <summary>The <c>spans</c>: entities, span categories, or image shapes.</summary>
    public IReadOnlyList<ProdigyExampleSpan> Spans => _spans ??= Content.TryGetProperty("spans", out var spans) && spans.ValueKind == JsonValueKind.Array
        ? spans.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object).Select(s => new ProdigyExampleSpan(s)).ToList()
        : [];

    /// <summary>Whether the example counts as accepted (Prodigy reads a missing answer as accept).</summary>
    public bool IsAccepted => Answer is null or "accept";

    /// <summary>Where the example is, for messages: <c>file:line</c>, or <c>database#dataset example N</c>.</summary>
    public string Location => Dataset is null
        ? $"{Source}:{Position}"
        : $"{Source}#{Dataset} example {Position}" + (ExampleId is { } id ? $" (id {id})" : "");

    /// <summary>The example as one line of JSONL, exactly as <c>prodigy db-out</c> prints it.</summary>
    public string ToJson() => ProdigyJson.Serialize(Content);

    /// <summary>The value of any key, as stored.</summary>
    public bool TryGet(string key, out JsonElement value) => Content.TryGetProperty(key, out value);

    /// <summary>The example as a text task for a spaCy corpus (PRD2012 when it has no text).</summary>
    public ProdigyTask ToTextTask() => ProdigyTask.Parse(ToJson(), Source, Position);

    /// <summary>Parses one stored task: PRD2011 (file, line, column) when it is not a JSON object.</summary>
    public static ProdigyExample Parse(ReadOnlySpan<byte> utf8Json, string source, int position, string? dataset = null, long? exampleId = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            var reason = e.Message.Split(" LineNumber:")[0].Split(" Path:")[0].TrimEnd();
            var where = dataset is null ? "" : $"dataset '{dataset}', example {position}{(exampleId is { } id ? $" (id {id})" : "")}: ";
            throw new ProdigyDataException(dataset is null ? "PRD2011" : "PRD2207",
                $"{where}malformed JSON: {reason} Each example must be one JSON object, as 'prodigy db-out' writes.",
                source, position, dataset is null ? ProdigyTask.ColumnOf(Encoding.UTF8.GetString(utf8Json), e.BytePositionInLine ?? 0) : 1);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                var where = dataset is null ? "" : $"dataset '{dataset}', example {position}: ";
                throw new ProdigyDataException(dataset is null ? "PRD2011" : "PRD2207",
                    $"{where}expected a JSON object (a Prodigy task), found {document.RootElement.ValueKind}.", source, position, 1);
            }

            return new ProdigyExample(document.RootElement.Clone(), source, position, dataset, exampleId);
        }
    }

    internal static ProdigyExample FromRow(ProdigyDatabaseRow row, string database, string dataset) =>
        Parse(row.Content, database, row.Position, dataset, row.ExampleId);

    private string? String(string key) =>
        Content.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? JsonStrings.GetString(value) : null;

    private long? Integer(string key) =>
        Content.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    private double? Number(string key) =>
        Content.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    internal static string? IdString(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.String => JsonStrings.GetString(id),
        JsonValueKind.Number => id.GetRawText(),
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        _ => null,
    };
}

/// <summary>One entry of an example's <c>spans</c>: a text span (<c>start</c>, <c>end</c>) or an image shape (<c>points</c>; rectangles also <c>x</c>, <c>y</c>, <c>width</c>, <c>height</c>, <c>center</c>).</summary>
public sealed class ProdigyExampleSpan(JsonElement content)
{
    public JsonElement Content { get; } = content;

    public string? Label => Content.TryGetProperty("label", out var value) && value.ValueKind == JsonValueKind.String ? JsonStrings.GetString(value) : null;

    public int? Start => Int("start");

    public int? End => Int("end");

    /// <summary>The span's own answer (ner.teach's suggestions), or null.</summary>
    public string? Answer => Content.TryGetProperty("answer", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>An image shape's type as Prodigy writes it: <c>rect</c>, <c>polygon</c>, <c>freehand</c>; null for text spans.</summary>
    public string? Type => Content.TryGetProperty("type", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public double? X => Number("x");

    public double? Y => Number("y");

    public double? Width => Number("width");

    public double? Height => Number("height");

    /// <summary>An image shape's corners as (x, y) pixels; null when the span has no well-formed <c>points</c>.</summary>
    public IReadOnlyList<(double X, double Y)>? Points
    {
        get
        {
            if (!Content.TryGetProperty("points", out var points) || points.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var result = new List<(double, double)>(points.GetArrayLength());
            foreach (var point in points.EnumerateArray())
            {
                if (point.ValueKind != JsonValueKind.Array || point.GetArrayLength() != 2
                    || point[0].ValueKind != JsonValueKind.Number || point[1].ValueKind != JsonValueKind.Number)
                {
                    return null;
                }

                result.Add((point[0].GetDouble(), point[1].GetDouble()));
            }

            return result;
        }
    }

    private int? Int(string key) =>
        Content.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    private double? Number(string key) =>
        Content.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Label} {Content.GetRawText()}");
}
