using System.Globalization;
using System.Text;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// The table Prodigy and spaCy print while training: epoch, step, the loss of each component since
/// the last evaluation, the weighted scores (×100) and SCORE.
/// </summary>
public sealed class TrainingLog(Action<string> write, IReadOnlyList<string> components, IReadOnlyList<string> scoreColumns)
{
    private int[] _widths = [];

    public void Header()
    {
        var headers = new List<string> { "E", "#" };
        headers.AddRange(components.Select(c => "LOSS " + c.ToUpperInvariant()));
        headers.AddRange(scoreColumns.Select(c => c.ToUpperInvariant()));
        headers.Add("SCORE");
        _widths = headers.Select((h, i) => i switch { 0 => Math.Max(h.Length, 3), 1 => Math.Max(h.Length, 6), _ => Math.Max(h.Length, 6) }).ToArray();
        write(string.Join("  ", headers.Select((h, i) => i < 2 ? h.PadRight(_widths[i]) : h.PadLeft(_widths[i]))));
        write(string.Join("  ", _widths.Select(w => new string('-', w))));
    }

    public void Row(int epoch, int step, IReadOnlyDictionary<string, double> losses, IReadOnlyDictionary<string, double?> scores, double score)
    {
        var cells = new List<string>
        {
            epoch.ToString(CultureInfo.InvariantCulture),
            step.ToString(CultureInfo.InvariantCulture),
        };
        cells.AddRange(components.Select(c => losses.GetValueOrDefault(c).ToString("0.00", CultureInfo.InvariantCulture)));
        cells.AddRange(scoreColumns.Select(c => scores.GetValueOrDefault(c) is { } v ? (v * 100).ToString("0.00", CultureInfo.InvariantCulture) : "0.00"));
        cells.Add(score.ToString("0.00", CultureInfo.InvariantCulture));
        var line = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }

            line.Append(cells[i].PadLeft(_widths[i]));
        }

        write(line.ToString());
    }
}
