namespace Prodigy.Build.Core.Scoring;

/// <summary>Reads the numbers that arrive as objects (DocBin cats, score dictionaries) as doubles.</summary>
internal static class BoxedNumber
{
    /// <summary>
    /// The value of a boxed double, float, int or long. Anything else (a string, a per-type map, a
    /// bool) is not a number here, although Python would accept a bool as an int.
    /// </summary>
    public static bool TryToDouble(object? value, out double number)
    {
        (var ok, number) = value switch
        {
            double d => (true, d),
            float f => (true, f),
            long l => (true, l),
            int i => (true, (double)i),
            _ => (false, 0.0),
        };
        return ok;
    }
}
