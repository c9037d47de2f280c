using System.Globalization;

namespace Prodigy.Build.Trainer.Scoring;

/// <summary>The per-label table Prodigy prints with --label-stats: P, R, F per label of each per-type score.</summary>
public static class LabelStats
{
    public static IEnumerable<string> Table(ScoreSet scores)
    {
        foreach (var (key, table) in scores.PerType.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (table is null || table.Count == 0)
            {
                continue;
            }

            var width = Math.Max(5, table.Keys.Max(k => k.Length));
            yield return "";
            yield return key;
            yield return $"{"LABEL".PadRight(width)}  {"P",6}  {"R",6}  {"F",6}";
            yield return $"{new string('-', width)}  ------  ------  ------";
            foreach (var (label, prf) in table.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"{label.PadRight(width)}  {prf.P * 100,6:0.00}  {prf.R * 100,6:0.00}  {prf.F * 100,6:0.00}");
            }
        }

        foreach (var (key, table) in scores.AucPerType)
        {
            yield return "";
            yield return key;
            foreach (var (label, value) in table.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"{label}  {(value is { } v ? (v * 100).ToString("0.00", CultureInfo.InvariantCulture) : "-")}");
            }
        }
    }
}
