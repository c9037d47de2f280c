using System.Globalization;
using Prodigy.Build.Core.Config;

namespace Prodigy.Build.Core.Scoring;

/// <summary>
/// The main score spaCy's training loop picks the best model by: the sum of weight × score over the
/// <c>[training.score_weights]</c> keys with a weight (those weights are already combined and
/// normalized when the config is made; see <see cref="SpacyConfigGenerator.ScoreWeights"/>).
/// </summary>
/// <remarks>
/// Like spaCy 3.5.4's evaluation callback, an instance keeps state between evaluations: a weighted
/// key whose score is missing or None in one evaluation contributes 0.0 there and is dropped from
/// the weights for every later evaluation too. Use one instance per training run, a new one per
/// stand-alone evaluation.
/// </remarks>
public sealed class ScoreWeights
{
    private const string Section = "training.score_weights";

    private List<KeyValuePair<string, double>> _weights;

    /// <param name="weights">Key → weight in config order; null weights (shown, never weighted) are left out.</param>
    public ScoreWeights(IEnumerable<KeyValuePair<string, double?>> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        _weights = [.. weights.Where(w => w.Value is not null).Select(w => KeyValuePair.Create(w.Key, w.Value!.Value))];
    }

    /// <summary>The weights still in use, in config order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Weights => _weights;

    /// <summary>The weights of a config's <c>[training.score_weights]</c> section (none when it is absent).</summary>
    /// <exception cref="InvalidDataException">A weight is neither a number nor <c>null</c>.</exception>
    public static ScoreWeights FromConfig(SpacyConfigDocument config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var entries = config.FindSection(Section)?.Entries ?? [];
        return new ScoreWeights(entries.Select(e => KeyValuePair.Create(e.Key, ParseWeight(e.Key, e.RawValue))));
    }

    /// <summary>
    /// The weighted score of one evaluation's spaCy scores (the merged <c>ToSpacyDictionary()</c>
    /// results of the components). Weights are summed in config order from 0.0, as Python's <c>sum</c> does.
    /// </summary>
    /// <exception cref="ArgumentException">A weighted key's score is not a number (spaCy's E915), e.g. a per-type map.</exception>
    public double WeightedScore(IReadOnlyDictionary<string, object?> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        _weights = [.. _weights.Where(w => scores.GetValueOrDefault(w.Key) is not null)];
        var total = 0.0;
        foreach (var (key, weight) in _weights)
        {
            total += Number(key, scores[key]!) * weight;
        }

        return total;
    }

    private static double Number(string key, object value) =>
        BoxedNumber.TryToDouble(value, out var number)
            ? number
            : throw new ArgumentException($"The score '{key}' is weighted in [{Section}] but is a {value.GetType().Name}, not a number (spaCy's E915).", nameof(value));

    private static double? ParseWeight(string key, string raw)
    {
        if (raw == ConfigValues.Null)
        {
            return null;
        }

        return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"[{Section}] {key} = {raw}: a weight must be a number or null.");
    }
}
