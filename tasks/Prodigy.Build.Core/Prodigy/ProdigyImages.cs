using System.Globalization;
using System.Text.Json;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>A problem with an image task, at the example it is in.</summary>
public sealed record ImageProblem(string Code, string Message, string Source, int Position);

/// <summary>
/// Prodigy's image annotations (<c>image.manual</c>: <c>image</c>, <c>width</c>, <c>height</c>, and
/// <c>spans</c> with a <c>label</c> and <c>points</c>; rectangles also <c>x</c>, <c>y</c>, <c>width</c>,
/// <c>height</c>, <c>center</c>): validated, and exported as COCO JSON for detection libraries.
/// </summary>
public static class ProdigyImages
{
    // Prodigy's UI works in floating-point pixels; a corner on the border may land a hair outside.
    private const double Tolerance = 1e-6;

    /// <summary>The problems of one image task: no image or size, a shape without a label, a point outside the image.</summary>
    public static IReadOnlyList<ImageProblem> Validate(ProdigyExample example)
    {
        var problems = new List<ImageProblem>();
        var where = example.Dataset is null ? "" : $"dataset '{example.Dataset}', example {example.Position}: ";
        void Problem(string code, string message) => problems.Add(new ImageProblem(code, where + message, example.Source, example.Position));

        if (example.Image is not { Length: > 0 })
        {
            Problem("PRD2211", "an image task needs an \"image\" (a path, URL or data URI); this example has none. Declare only image.manual annotations as ImageDataset.");
            return problems;
        }

        var width = example.Width;
        var height = example.Height;
        if (width is not > 0 || height is not > 0)
        {
            Problem("PRD2211", "an image task needs its \"width\" and \"height\" in pixels (Prodigy's image.manual writes them); this example has " +
                (width is null && height is null ? "neither." : $"width {Show(width)} and height {Show(height)}."));
            return problems;
        }

        for (var i = 0; i < example.Spans.Count; i++)
        {
            var span = example.Spans[i];
            var name = $"shape {i + 1}";
            if (span.Label is not { Length: > 0 })
            {
                Problem("PRD2212", $"{name} has no \"label\"; every shape of an image task needs one.");
            }

            var points = ShapePoints(span);
            if (points is null)
            {
                Problem("PRD2214", $"{name} ({span.Label}) has no \"points\" as a list of [x, y] pixel pairs, nor x, y, width and height.");
                continue;
            }

            if (points.Count < 3)
            {
                Problem("PRD2214", $"{name} ({span.Label}) has {points.Count} point(s); a polygon needs at least 3 and a rectangle 4.");
            }

            foreach (var (x, y) in points)
            {
                if (x < -Tolerance || y < -Tolerance || x > width + Tolerance || y > height + Tolerance || double.IsNaN(x) || double.IsNaN(y))
                {
                    Problem("PRD2213", $"{name} ({span.Label}) has the point ({Show(x)}, {Show(y)}) outside the {Show(width)}x{Show(height)} image.");
                    break;
                }
            }

            if (span.X is { } rx && span.Y is { } ry && span.Width is { } rw && span.Height is { } rh
                && (rw < 0 || rh < 0 || rx < -Tolerance || ry < -Tolerance || rx + rw > width + Tolerance || ry + rh > height + Tolerance))
            {
                Problem("PRD2213", $"{name} ({span.Label}) is the rectangle x={Show(rx)} y={Show(ry)} width={Show(rw)} height={Show(rh)}, which is not inside the {Show(width)}x{Show(height)} image.");
            }
        }

        return problems;
    }

    /// <summary>A shape's outline: its points, or a rectangle's four corners from x, y, width and height.</summary>
    public static IReadOnlyList<(double X, double Y)>? ShapePoints(ProdigyExampleSpan span)
    {
        if (span.Points is { } points)
        {
            return points;
        }

        if (span.X is { } x && span.Y is { } y && span.Width is { } w && span.Height is { } h)
        {
            return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)];
        }

        return null;
    }

    /// <summary>
    /// COCO's object detection format: <c>images</c> (id, file_name, width, height), <c>categories</c>
    /// (one per label, sorted, ids from 1), <c>annotations</c> (bbox as [x, y, width, height] from the
    /// top-left corner, segmentation as one flat polygon [x1, y1, x2, y2, ...], area: the polygon's by the
    /// shoelace formula, width x height for a rectangle; iscrowd 0). Only accepted examples are exported
    /// (rejected and ignored ones are not ground truth); an image annotated more than once (same input
    /// hash) is one image with every accepted example's shapes. Validate first.
    /// </summary>
    public static byte[] ToCoco(string datasetName, IEnumerable<ProdigyExample> examples)
    {
        var images = new List<(int Id, string FileName, double Width, double Height)>();
        var imageIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var shapes = new List<(int ImageId, string Label, IReadOnlyList<(double X, double Y)> Points, bool IsRect)>();
        foreach (var example in examples)
        {
            if (!example.IsAccepted || example.Image is null || example.Width is not { } width || example.Height is not { } height)
            {
                continue;
            }

            var key = example.InputHash is { } hash ? "#" + hash.ToString(CultureInfo.InvariantCulture) : example.Image;
            if (!imageIds.TryGetValue(key, out var imageId))
            {
                imageId = images.Count + 1;
                imageIds[key] = imageId;
                images.Add((imageId, FileName(example, imageId), width, height));
            }

            foreach (var span in example.Spans)
            {
                if (span.Answer is "reject" or "ignore" || span.Label is not { Length: > 0 } label || ShapePoints(span) is not { Count: >= 3 } points)
                {
                    continue;
                }

                var isRect = span.Type == "rect" || (span.Points is null && span.Width is not null);
                shapes.Add((imageId, label, points, isRect));
            }
        }

        var categories = shapes.Select(s => s.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select((label, index) => (Label: label, Id: index + 1)).ToDictionary(c => c.Label, c => c.Id, StringComparer.Ordinal);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("info");
            writer.WriteString("description", $"Prodigy dataset '{datasetName}' (exported by prodigy-build db-out)");
            writer.WriteString("version", "1.0");
            writer.WriteEndObject();
            writer.WriteStartArray("licenses");
            writer.WriteEndArray();
            writer.WriteStartArray("images");
            foreach (var image in images)
            {
                writer.WriteStartObject();
                writer.WriteNumber("id", image.Id);
                writer.WriteString("file_name", image.FileName);
                writer.WriteNumber("width", image.Width);
                writer.WriteNumber("height", image.Height);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("categories");
            foreach (var (label, id) in categories.OrderBy(c => c.Value))
            {
                writer.WriteStartObject();
                writer.WriteNumber("id", id);
                writer.WriteString("name", label);
                writer.WriteString("supercategory", "");
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("annotations");
            var annotationId = 0;
            foreach (var shape in shapes)
            {
                var minX = shape.Points.Min(p => p.X);
                var minY = shape.Points.Min(p => p.Y);
                var maxX = shape.Points.Max(p => p.X);
                var maxY = shape.Points.Max(p => p.Y);
                writer.WriteStartObject();
                writer.WriteNumber("id", ++annotationId);
                writer.WriteNumber("image_id", shape.ImageId);
                writer.WriteNumber("category_id", categories[shape.Label]);
                writer.WriteStartArray("bbox");
                writer.WriteNumberValue(minX);
                writer.WriteNumberValue(minY);
                writer.WriteNumberValue(maxX - minX);
                writer.WriteNumberValue(maxY - minY);
                writer.WriteEndArray();
                writer.WriteNumber("area", shape.IsRect ? (maxX - minX) * (maxY - minY) : PolygonArea(shape.Points));
                writer.WriteStartArray("segmentation");
                writer.WriteStartArray();
                foreach (var (x, y) in shape.Points)
                {
                    writer.WriteNumberValue(x);
                    writer.WriteNumberValue(y);
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
                writer.WriteNumber("iscrowd", 0);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    /// <summary>The area of a simple polygon (shoelace formula), in square pixels.</summary>
    public static double PolygonArea(IReadOnlyList<(double X, double Y)> points)
    {
        var sum = 0.0;
        for (var i = 0; i < points.Count; i++)
        {
            var (x1, y1) = points[i];
            var (x2, y2) = points[(i + 1) % points.Count];
            sum += (x1 * y2) - (x2 * y1);
        }

        return Math.Abs(sum) / 2;
    }

    // The image's file: Prodigy's "path" (image loaders keep it), meta.file, the image itself unless it
    // is a data URI, the task's "text" (the file name image loaders show); else a name from the id.
    private static string FileName(ProdigyExample example, int imageId)
    {
        if (example.TryGet("path", out var path) && path.ValueKind == JsonValueKind.String && path.GetString() is { Length: > 0 } p)
        {
            return p;
        }

        if (example.TryGet("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
            && meta.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.String && file.GetString() is { Length: > 0 } f)
        {
            return f;
        }

        var image = example.Image!;
        if (!image.StartsWith("data:", StringComparison.Ordinal))
        {
            return image;
        }

        if (example.Text is { Length: > 0 } text)
        {
            return text;
        }

        var mime = image[5..Math.Max(5, image.IndexOf(';'))];
        var extension = mime.StartsWith("image/", StringComparison.Ordinal) ? "." + mime[6..].Replace("jpeg", "jpg", StringComparison.Ordinal) : "";
        return string.Create(CultureInfo.InvariantCulture, $"image_{imageId}{extension}");
    }

    private static string Show(double? value) => value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "none";
}
