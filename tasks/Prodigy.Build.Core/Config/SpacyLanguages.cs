namespace Prodigy.Build.Core.Config;

/// <summary>
/// What <c>spacy init config</c> knows per language: the language codes spaCy 3.5 ships, and the
/// word vectors its quickstart recommends for <c>--optimize accuracy</c> (spaCy's
/// <c>quickstart_training_recommendations.yml</c>: a language without an entry, such as <c>xx</c>,
/// gets <c>null</c>).
/// </summary>
public static class SpacyLanguages
{
    // Languages whose recommended word vectors are a spaCy "_lg" pipeline package.
    private static readonly Dictionary<string, string> RecommendedVectors = new(StringComparer.Ordinal)
    {
        ["da"] = "da_core_news_lg",
        ["de"] = "de_core_news_lg",
        ["el"] = "el_core_news_lg",
        ["en"] = "en_core_web_lg",
        ["es"] = "es_core_news_lg",
        ["fr"] = "fr_core_news_lg",
        ["it"] = "it_core_news_lg",
        ["ja"] = "ja_core_news_lg",
        ["lt"] = "lt_core_news_lg",
        ["nb"] = "nb_core_news_lg",
        ["nl"] = "nl_core_news_lg",
        ["pl"] = "pl_core_news_lg",
        ["pt"] = "pt_core_news_lg",
        ["ro"] = "ro_core_news_lg",
        ["zh"] = "zh_core_web_lg",
    };

    // spacy/lang/* in spaCy 3.5.
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "af", "am", "ar", "az", "bg", "bn", "ca", "cs", "da", "de", "dsb", "el", "en", "es", "et", "eu",
        "fa", "fi", "fr", "ga", "grc", "gu", "he", "hi", "hr", "hsb", "hu", "hy", "id", "is", "it", "ja",
        "kn", "ko", "ky", "la", "lb", "lg", "lij", "lt", "lv", "mk", "ml", "mr", "ms", "nb", "ne", "nl",
        "pl", "pt", "ro", "ru", "sa", "si", "sk", "sl", "sq", "sr", "sv", "ta", "te", "th", "ti", "tl",
        "tn", "tr", "tt", "uk", "ur", "vi", "xx", "yo", "zh",
    };

    // Languages whose tokenizer is not spacy.Tokenizer.v1 (it has its own config block and needs a
    // third-party segmenter even to run init config); not generated here.
    private static readonly HashSet<string> CustomTokenizer = new(StringComparer.Ordinal) { "ja", "ko", "th", "vi", "zh" };

    /// <summary>Whether spaCy 3.5 has this language code.</summary>
    public static bool IsKnown(string lang) => Known.Contains(lang);

    /// <summary>The recommended static vectors package for accuracy configs, or null.</summary>
    public static string? RecommendedWordVectors(string lang) => RecommendedVectors.GetValueOrDefault(lang);

    /// <summary>Throws unless a config can be generated for <paramref name="lang"/>.</summary>
    public static void Validate(string lang)
    {
        ArgumentException.ThrowIfNullOrEmpty(lang);
        if (!Known.Contains(lang))
        {
            throw new ArgumentException($"'{lang}' is not a spaCy language code", nameof(lang));
        }

        if (CustomTokenizer.Contains(lang))
        {
            throw new NotSupportedException(
                $"'{lang}' uses a custom tokenizer with its own [nlp.tokenizer] settings and a third-party segmenter; generating its config is not supported");
        }
    }
}
