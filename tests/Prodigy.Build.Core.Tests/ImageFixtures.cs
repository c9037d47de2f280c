using System.Text.Json;
using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tests.Shared;

/// <summary>Image tasks as image.manual writes them, and the rules of COCO's format that readers (pycocotools, detectron2, torchvision) rely on.</summary>
internal static class ImageFixtures
{
    // Two rectangles and a polygon on a 640x480 image, a rectangle on a second image, a rejected image.
    public static readonly string[] Tasks =
    [
        """{"image":"images/street.jpg","width":640,"height":480,"spans":[{"label":"CAR","type":"rect","x":10,"y":20,"width":100,"height":50,"center":[60,45],"points":[[10,20],[10,70],[110,70],[110,20]]},{"label":"PERSON","type":"rect","x":300.5,"y":100,"width":40,"height":120.25,"center":[320.5,160.125],"points":[[300.5,100],[300.5,220.25],[340.5,220.25],[340.5,100]]},{"label":"ROAD","type":"polygon","points":[[0,480],[320,240],[640,480]]}],"_input_hash":11,"_task_hash":12,"_view_id":"image_manual","answer":"accept"}""",
        """{"image":"data:image/png;base64,iVBORw0KGgo=","text":"park.png","width":200,"height":100,"spans":[{"label":"DOG","type":"rect","x":0,"y":0,"width":200,"height":100,"points":[[0,0],[0,100],[200,100],[200,0]]}],"_input_hash":21,"_task_hash":22,"answer":"accept"}""",
        """{"image":"images/blurry.jpg","width":50,"height":50,"spans":[{"label":"CAR","points":[[1,1],[2,1],[2,2]]}],"_input_hash":31,"_task_hash":32,"answer":"reject"}""",
    ];

    /// <summary>Every broken rule of COCO's object detection format, as text; empty when the file follows it.</summary>
    public static List<string> CheckCoco(JsonElement root)
    {
        var problems = new List<string>();
        foreach (var key in new[] { "images", "annotations", "categories" })
        {
            if (!root.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"'{key}' must be a list");
                return problems;
            }
        }

        var images = new Dictionary<long, (double W, double H)>();
        foreach (var image in root.GetProperty("images").EnumerateArray())
        {
            var id = image.GetProperty("id").GetInt64();
            if (id <= 0 || !images.TryAdd(id, (image.GetProperty("width").GetDouble(), image.GetProperty("height").GetDouble())))
            {
                problems.Add($"image id {id} must be positive and unique");
            }

            if (image.GetProperty("file_name").GetString() is not { Length: > 0 })
            {
                problems.Add($"image {id} needs a file_name");
            }
        }

        var categories = new HashSet<long>();
        var names = new HashSet<string>();
        foreach (var category in root.GetProperty("categories").EnumerateArray())
        {
            if (!categories.Add(category.GetProperty("id").GetInt64()) || !names.Add(category.GetProperty("name").GetString()!))
            {
                problems.Add("category ids and names must be unique");
            }

            _ = category.GetProperty("supercategory").GetString();
        }

        var annotations = new HashSet<long>();
        foreach (var annotation in root.GetProperty("annotations").EnumerateArray())
        {
            var id = annotation.GetProperty("id").GetInt64();
            if (id <= 0 || !annotations.Add(id))
            {
                problems.Add($"annotation id {id} must be positive and unique");
            }

            if (!images.TryGetValue(annotation.GetProperty("image_id").GetInt64(), out var size))
            {
                problems.Add($"annotation {id} refers to no image");
                continue;
            }

            if (!categories.Contains(annotation.GetProperty("category_id").GetInt64()))
            {
                problems.Add($"annotation {id} refers to no category");
            }

            if (annotation.GetProperty("iscrowd").GetInt32() != 0)
            {
                problems.Add($"annotation {id}: polygons are iscrowd 0");
            }

            var bbox = annotation.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            if (bbox.Length != 4 || bbox[2] < 0 || bbox[3] < 0 || bbox[0] < 0 || bbox[1] < 0 || bbox[0] + bbox[2] > size.W || bbox[1] + bbox[3] > size.H)
            {
                problems.Add($"annotation {id}: bbox [x, y, width, height] must lie in the image");
            }

            var polygons = annotation.GetProperty("segmentation").EnumerateArray().ToList();
            foreach (var polygon in polygons)
            {
                var coordinates = polygon.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                if (coordinates.Length < 6 || coordinates.Length % 2 != 0)
                {
                    problems.Add($"annotation {id}: a polygon is a flat [x1, y1, x2, y2, ...] list of at least 3 points");
                    continue;
                }

                var xs = coordinates.Where((_, i) => i % 2 == 0).ToArray();
                var ys = coordinates.Where((_, i) => i % 2 == 1).ToArray();
                if (Math.Abs(xs.Min() - bbox[0]) > 1e-9 || Math.Abs(ys.Min() - bbox[1]) > 1e-9
                    || Math.Abs(xs.Max() - xs.Min() - bbox[2]) > 1e-9 || Math.Abs(ys.Max() - ys.Min() - bbox[3]) > 1e-9)
                {
                    problems.Add($"annotation {id}: bbox must be the segmentation's bounding box");
                }

                var area = ProdigyImages.PolygonArea(xs.Zip(ys).ToArray());
                if (Math.Abs(area - annotation.GetProperty("area").GetDouble()) > 1e-6)
                {
                    problems.Add($"annotation {id}: area must be the polygon's area");
                }
            }
        }

        return problems;
    }
}
