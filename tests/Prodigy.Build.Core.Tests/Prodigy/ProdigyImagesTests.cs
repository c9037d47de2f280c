using System.Text;
using System.Text.Json;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>Image tasks (image.manual): validation, and COCO output checked against the format's rules.</summary>
public sealed class ProdigyImagesTests
{
    private static List<ProdigyExample> Examples(params string[] lines) =>
        lines.Select((line, i) => ProdigyExample.Parse(Encoding.UTF8.GetBytes(line), "images.jsonl", i + 1)).ToList();

    [Fact]
    public void Valid_rectangles_and_polygons_pass()
    {
        Assert.All(Examples(ImageFixtures.Tasks), e => Assert.Empty(ProdigyImages.Validate(e)));
    }

    [Theory]
    [InlineData("""{"width":10,"height":10,"spans":[]}""", "PRD2211", "needs an \"image\"")]
    [InlineData("""{"image":"a.jpg","spans":[]}""", "PRD2211", "\"width\" and \"height\"")]
    [InlineData("""{"image":"a.jpg","width":10,"height":10,"spans":[{"points":[[1,1],[2,1],[2,2]]}]}""", "PRD2212", "no \"label\"")]
    [InlineData("""{"image":"a.jpg","width":10,"height":10,"spans":[{"label":"X","points":[[1,1],[12,1],[2,2]]}]}""", "PRD2213", "(12, 1) outside the 10x10 image")]
    [InlineData("""{"image":"a.jpg","width":10,"height":10,"spans":[{"label":"X","points":[[1,-0.5],[2,1],[2,2]]}]}""", "PRD2213", "outside")]
    [InlineData("""{"image":"a.jpg","width":10,"height":10,"spans":[{"label":"X","type":"rect","x":5,"y":5,"width":6,"height":2,"points":[[5,5],[5,7],[10,7],[10,5]]}]}""", "PRD2213", "not inside")]
    [InlineData("""{"image":"a.jpg","width":10,"height":10,"spans":[{"label":"X","points":[[1,1],[2,2]]}]}""", "PRD2214", "at least 3")]
    [InlineData("""{"image":"a.jpg","width":10,"height":10,"spans":[{"label":"X","points":"nope"}]}""", "PRD2214", "no \"points\"")]
    public void Invalid_image_tasks_say_what_is_wrong(string task, string code, string message)
    {
        var problem = Assert.Single(ProdigyImages.Validate(Examples(task)[0]));
        Assert.Equal(code, problem.Code);
        Assert.Contains(message, problem.Message);
        Assert.Equal(1, problem.Position);
    }

    [Fact]
    public void Coco_output_follows_the_format()
    {
        using var coco = JsonDocument.Parse(ProdigyImages.ToCoco("street", Examples(ImageFixtures.Tasks)));
        var root = coco.RootElement;
        var checks = ImageFixtures.CheckCoco(root);
        Assert.Empty(checks);

        var images = root.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(2, images.Count); // the rejected image is not ground truth
        Assert.Equal("images/street.jpg", images[0].GetProperty("file_name").GetString());
        Assert.Equal("park.png", images[1].GetProperty("file_name").GetString());
        Assert.Equal(640, images[0].GetProperty("width").GetDouble());

        Assert.Equal(["CAR", "DOG", "PERSON", "ROAD"], root.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));
        var annotations = root.GetProperty("annotations").EnumerateArray().ToList();
        Assert.Equal(4, annotations.Count);
        var car = annotations[0];
        Assert.Equal([10.0, 20, 100, 50], car.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(5000, car.GetProperty("area").GetDouble());
        Assert.Equal([10.0, 20, 10, 70, 110, 70, 110, 20], car.GetProperty("segmentation")[0].EnumerateArray().Select(v => v.GetDouble()));
        var person = annotations[1];
        Assert.Equal([300.5, 100, 40, 120.25], person.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(40 * 120.25, person.GetProperty("area").GetDouble());
        var road = annotations[2];
        Assert.Equal([0.0, 240, 640, 240], road.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(640 * 240 / 2.0, road.GetProperty("area").GetDouble()); // a triangle, by the shoelace formula
        Assert.Equal(4, road.GetProperty("category_id").GetInt32());
        Assert.Equal(2, annotations[3].GetProperty("image_id").GetInt32());
    }

    [Fact]
    public void Polygon_area_is_the_shoelace_formula_whatever_the_winding()
    {
        (double, double)[] square = [(0, 0), (4, 0), (4, 4), (0, 4)];
        Assert.Equal(16, ProdigyImages.PolygonArea(square));
        Assert.Equal(16, ProdigyImages.PolygonArea(square.Reverse().ToArray()));
        Assert.Equal(12, ProdigyImages.PolygonArea([(0, 0), (4, 0), (4, 4), (2, 2), (0, 4)]));
    }
}
