using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// What train-curve shows and saves: Prodigy's table (a 0% baseline row, then each share with ▲/▼
/// against the row before, per component), the verdict, an ASCII plot, and the results as JSON,
/// CSV and an SVG picture.
/// </summary>
public static class CurveReport
{
    public const string Up = "▲";
    public const string Down = "▼";

    public static IEnumerable<string> Table(IReadOnlyList<CurveRow> rows, IReadOnlyList<string> components, bool withSpread)
    {
        string Cell(double value, double? previous, double spread = 0)
        {
            var text = value.ToString("0.00", CultureInfo.InvariantCulture);
            if (withSpread)
            {
                text += " ±" + spread.ToString("0.00", CultureInfo.InvariantCulture);
            }

            var arrow = previous is not { } p ? "  " : value > p ? " " + Up : value < p ? " " + Down : "  ";
            return text + arrow;
        }

        var headers = new List<string> { "%", "Score" };
        headers.AddRange(components);
        var table = new List<List<string>>();
        table.Add(["0%", Cell(0, null), .. components.Select(_ => Cell(0, null))]);
        for (var i = 0; i < rows.Count; i++)
        {
            var previous = i == 0 ? null : rows[i - 1];
            var cells = new List<string> { rows[i].Percent.ToString(CultureInfo.InvariantCulture) + "%", Cell(rows[i].Score, previous?.Score ?? 0, rows[i].ScoreSpread) };
            cells.AddRange(components.Select(c => Cell(rows[i].ComponentScores.GetValueOrDefault(c), previous?.ComponentScores.GetValueOrDefault(c) ?? 0)));
            table.Add(cells);
        }

        var widths = headers.Select((h, c) => Math.Max(h.Length, table.Max(r => r[c].Length))).ToArray();
        yield return string.Join("   ", headers.Select((h, c) => h.PadRight(widths[c])));
        yield return string.Join("   ", widths.Select(w => new string('-', w)));
        foreach (var row in table)
        {
            yield return string.Join("   ", row.Select((cell, c) => c == 0 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c])));
        }
    }

    /// <summary>Prodigy's verdict on the last share.</summary>
    public static IEnumerable<string> Verdict(IReadOnlyList<CurveRow> rows)
    {
        var last = rows[^1].Score;
        var before = rows.Count > 1 ? rows[^2].Score : 0;
        if (last > before)
        {
            yield return "✔ Accuracy improved in the last sample";
            yield return "As a rule of thumb, if accuracy increases in the last segment, this could indicate that collecting more annotations of the same type will improve the model further.";
        }
        else
        {
            yield return "✘ Accuracy didn't improve in the last sample";
            yield return "As a rule of thumb, if accuracy doesn't improve in the last segment, more annotations of the same type may not help much; look at the labels, the data or the model instead.";
        }

        if (rows[^1].ScoreSpread > 0 && Math.Abs(last - before) <= rows[^1].ScoreSpread)
        {
            yield return $"The change ({(last - before).ToString("+0.00;-0.00", CultureInfo.InvariantCulture)}) is within the spread between seeds (±{rows[^1].ScoreSpread.ToString("0.00", CultureInfo.InvariantCulture)}): it may be noise.";
        }
    }

    /// <summary>Score against data size as text, as Prodigy's --show-plot draws it.</summary>
    public static IEnumerable<string> AsciiPlot(IReadOnlyList<CurveRow> rows, int height = 10)
    {
        var points = new List<(int Percent, double Score)> { (0, 0) };
        points.AddRange(rows.Select(r => (r.Percent, r.Score)));
        var max = Math.Max(points.Max(p => p.Score), 1e-9);
        var width = rows.Count * 8 + 1;
        var grid = Enumerable.Range(0, height + 1).Select(_ => Enumerable.Repeat(' ', width).ToArray()).ToArray();
        foreach (var (percent, score) in points)
        {
            var x = (int)Math.Round(percent / 100.0 * (width - 1));
            var y = height - (int)Math.Round(score / max * height);
            grid[y][x] = '•';
        }

        for (var y = 0; y <= height; y++)
        {
            var label = y == 0 ? max.ToString("0.00", CultureInfo.InvariantCulture) : y == height ? "0.00" : "";
            yield return $"{label,5} |{new string(grid[y])}";
        }

        yield return "      +" + new string('-', width);
        yield return "       " + string.Join("", points.Select(p => (p.Percent + "%").PadRight(8))).TrimEnd();
    }

    public static JsonObject Json(IReadOnlyList<CurveRow> rows, IReadOnlyList<string> components, int seeds) => new()
    {
        ["samples"] = rows.Count,
        ["seeds"] = seeds,
        ["components"] = new JsonArray([.. components.Select(c => JsonValue.Create(c))]),
        ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject
        {
            ["percent"] = r.Percent,
            ["examples"] = r.Examples,
            ["score"] = r.Score,
            ["score_spread"] = r.ScoreSpread,
            ["components"] = new JsonObject(r.ComponentScores.Select(c => new KeyValuePair<string, JsonNode?>(c.Key, c.Value))),
            ["points"] = new JsonArray([.. r.Points.Select(p => (JsonNode)new JsonObject
            {
                ["seed"] = p.Seed,
                ["score"] = p.Score,
                ["components"] = new JsonObject(p.ComponentScores.Select(c => new KeyValuePair<string, JsonNode?>(c.Key, c.Value))),
                ["per_label_f"] = JsonSerializer.SerializeToNode(p.LabelF),
            })]),
        })]),
    };

    public static string Csv(IReadOnlyList<CurveRow> rows, IReadOnlyList<string> components)
    {
        var csv = new StringBuilder("percent,examples,score,score_spread");
        foreach (var component in components)
        {
            csv.Append(',').Append(component);
        }

        csv.Append('\n');
        foreach (var row in rows)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{row.Percent},{row.Examples},{row.Score:R},{row.ScoreSpread:R}");
            foreach (var component in components)
            {
                csv.Append(',').Append(row.ComponentScores.GetValueOrDefault(component).ToString("R", CultureInfo.InvariantCulture));
            }

            csv.Append('\n');
        }

        return csv.ToString();
    }

    /// <summary>An SVG line chart of the score (and each component) against the share of data, with the seeds' spread as bars.</summary>
    public static string Svg(IReadOnlyList<CurveRow> rows, IReadOnlyList<string> components)
    {
        const int width = 640, height = 400, left = 60, right = 150, top = 30, bottom = 50;
        double X(int percent) => left + (percent / 100.0 * (width - left - right));
        double Y(double score) => top + ((1 - score) * (height - top - bottom));
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        string[] colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"" + F(width / 2.0) + "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">Learning curve</text>\n");
        for (var tick = 0; tick <= 10; tick += 2)
        {
            var y = Y(tick / 10.0);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{F(y)}\" x2=\"{width - right}\" y2=\"{F(y)}\" stroke=\"#ddd\"/><text x=\"{left - 8}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{F(tick / 10.0)}</text>\n");
        }

        foreach (var percent in new[] { 0 }.Concat(rows.Select(r => r.Percent)))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(X(percent))}\" y=\"{height - bottom + 18}\" text-anchor=\"middle\">{percent}%</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F((left + width - right) / 2.0)}\" y=\"{height - 10}\" text-anchor=\"middle\">share of the training data</text>\n");
        var series = new List<(string Name, Func<CurveRow, double> Value)> { ("score", r => r.Score) };
        series.AddRange(components.Select(c => (c, (Func<CurveRow, double>)(r => r.ComponentScores.GetValueOrDefault(c)))));
        for (var s = 0; s < series.Count; s++)
        {
            var (name, value) = series[s];
            var color = colors[s % colors.Length];
            var points = string.Join(" ", new[] { $"{F(X(0))},{F(Y(0))}" }.Concat(rows.Select(r => $"{F(X(r.Percent))},{F(Y(value(r)))}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{(s == 0 ? 3 : 1.5)}\" points=\"{points}\"/>\n");
            foreach (var row in rows)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(row.Percent))}\" cy=\"{F(Y(value(row)))}\" r=\"3\" fill=\"{color}\"/>\n");
                if (s == 0 && row.ScoreSpread > 0)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(X(row.Percent))}\" y1=\"{F(Y(row.Score - row.ScoreSpread))}\" x2=\"{F(X(row.Percent))}\" y2=\"{F(Y(row.Score + row.ScoreSpread))}\" stroke=\"{color}\"/>\n");
                }
            }

            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - right + 10}\" y=\"{top + 16 + (s * 18)}\" fill=\"{color}\">{System.Security.SecurityElement.Escape(name)}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }
}
