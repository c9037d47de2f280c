using System.Reflection;
using System.Text.Json;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Tokenization;

/// <summary>One token of a special case: its text and, optionally, its NORM.</summary>
public sealed record SpecialCaseToken(string Orth, string? Norm);

/// <summary>Rules that cannot be read; the message names the source and what is wrong.</summary>
public sealed class TokenizerRulesException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The data of a spaCy tokenizer (what <c>Tokenizer.to_bytes</c> stores): the Python patterns, the
/// special cases with their NORMs and <c>faster_heuristics</c>. Loaded from spaCy's rules JSON, from
/// a <c>tokenizer</c> file of a spaCy pipeline directory (msgpack), or from the built-in languages.
/// </summary>
public sealed class TokenizerRules
{
    /// <summary>Languages whose spaCy 3.5.4 rules ship inside this library.</summary>
    public static readonly IReadOnlyList<string> BuiltInLanguages = ["de", "en", "es", "fr", "it", "nl", "pt", "xx"];

    // spaCy's attribute ids, as the msgpack "exceptions" map stores them.
    private const long OrthAttribute = 65;
    private const long NormAttribute = 67;

    public required string Source { get; init; }

    public string? Language { get; init; }

    public string? PrefixSearch { get; init; }

    public string? SuffixSearch { get; init; }

    public string? InfixFinditer { get; init; }

    public string? TokenMatch { get; init; }

    public string? UrlMatch { get; init; }

    public bool FasterHeuristics { get; init; } = true;

    public required IReadOnlyDictionary<string, IReadOnlyList<SpecialCaseToken>> SpecialCases { get; init; }

    /// <summary>The rules JSON of a built-in language as shipped (to copy into a trained model), or null.</summary>
    public static Stream? OpenBuiltInJson(string language) =>
        typeof(TokenizerRules).Assembly.GetManifestResourceStream($"Prodigy.Build.Core.Tokenization.Rules.{language}.rules.json");

    /// <summary>The rules of a built-in language (<see cref="BuiltInLanguages"/>).</summary>
    public static TokenizerRules BuiltIn(string language)
    {
        var resource = $"Prodigy.Build.Core.Tokenization.Rules.{language}.rules.json";
        using var stream = typeof(TokenizerRules).Assembly.GetManifestResourceStream(resource)
            ?? throw new TokenizerRulesException(
                $"No built-in tokenizer rules for language '{language}'. Built-in languages: {string.Join(", ", BuiltInLanguages)}; " +
                "for another language pass the tokenizer rules of a spaCy pipeline (its 'tokenizer' file or a rules JSON).");
        return FromJson(stream, $"built-in:{language}");
    }

    /// <summary>
    /// Loads a file: a rules JSON (<c>{"prefix_search": ..., "special_cases": ...}</c>), a spaCy
    /// <c>tokenizer</c> file (msgpack), or a spaCy pipeline directory (its <c>tokenizer</c> file).
    /// </summary>
    public static TokenizerRules Load(string path)
    {
        if (Directory.Exists(path))
        {
            var tokenizerFile = Path.Combine(path, "tokenizer");
            if (!File.Exists(tokenizerFile))
            {
                throw new TokenizerRulesException($"{path}: not a spaCy pipeline directory (it has no 'tokenizer' file).");
            }

            return Load(tokenizerFile);
        }

        if (!File.Exists(path))
        {
            throw new TokenizerRulesException($"{path}: tokenizer rules file not found.");
        }

        var bytes = File.ReadAllBytes(path);
        var first = bytes.AsSpan().TrimStart(" \t\r\n\uFEFF"u8);
        if (first.Length > 0 && first[0] == (byte)'{')
        {
            using var stream = new MemoryStream(bytes);
            return FromJson(stream, path);
        }

        return FromMsgPack(bytes, path);
    }

    /// <summary>Reads spaCy's rules JSON.</summary>
    public static TokenizerRules FromJson(Stream stream, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new TokenizerRulesException($"{source}: invalid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerRulesException($"{source}: expected a JSON object with the tokenizer's patterns and special cases.");
            }

            var specials = new Dictionary<string, IReadOnlyList<SpecialCaseToken>>(StringComparer.Ordinal);
            if (root.TryGetProperty("special_cases", out var cases) && cases.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in cases.EnumerateObject())
                {
                    var tokens = new List<SpecialCaseToken>();
                    foreach (var token in entry.Value.EnumerateArray())
                    {
                        var orth = token.TryGetProperty("ORTH", out var o) ? o.GetString() : null;
                        var norm = token.TryGetProperty("NORM", out var n) ? n.GetString() : null;
                        tokens.Add(new SpecialCaseToken(orth ?? throw new TokenizerRulesException($"{source}: special case '{entry.Name}' has a token without ORTH."), norm));
                    }

                    specials[entry.Name] = Validate(entry.Name, tokens, source);
                }
            }

            return new TokenizerRules
            {
                Source = source,
                Language = OptionalString(root, "lang", source),
                PrefixSearch = OptionalString(root, "prefix_search", source),
                SuffixSearch = OptionalString(root, "suffix_search", source),
                InfixFinditer = OptionalString(root, "infix_finditer", source),
                TokenMatch = OptionalString(root, "token_match", source),
                UrlMatch = OptionalString(root, "url_match", source),
                FasterHeuristics = !root.TryGetProperty("faster_heuristics", out var fh) || fh.ValueKind != JsonValueKind.False,
                SpecialCases = specials,
            };
        }
    }

    /// <summary>
    /// Writes the rules as spaCy's rules JSON (what <see cref="FromJson"/> reads back to the same rules):
    /// how a model trained with a spaCy pipeline's tokenizer ships it.
    /// </summary>
    public void WriteJson(Stream stream)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        foreach (var (name, value) in new[] { ("lang", Language), ("prefix_search", PrefixSearch), ("suffix_search", SuffixSearch), ("infix_finditer", InfixFinditer), ("token_match", TokenMatch), ("url_match", UrlMatch) })
        {
            writer.WriteString(name, value);
        }

        writer.WriteBoolean("faster_heuristics", FasterHeuristics);
        writer.WriteStartObject("special_cases");
        foreach (var (key, tokens) in SpecialCases.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            writer.WriteStartArray(key);
            foreach (var token in tokens)
            {
                writer.WriteStartObject();
                writer.WriteString("ORTH", token.Orth);
                if (token.Norm is not null)
                {
                    writer.WriteString("NORM", token.Norm);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string? OptionalString(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new TokenizerRulesException($"{source}: '{name}' must be a string or null.");
    }

    /// <summary>
    /// The rules as the <c>tokenizer</c> file of a spaCy pipeline folder (what <c>Tokenizer.to_bytes</c>
    /// writes): the five patterns, the special cases as lists of {ORTH, NORM} attribute maps, and
    /// faster_heuristics. <see cref="FromMsgPack"/> reads it back to equal rules.
    /// </summary>
    public byte[] ToMsgPack()
    {
        var exceptions = new List<KeyValuePair<object?, object?>>();
        foreach (var (text, tokens) in SpecialCases.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var maps = new List<object?>();
            foreach (var token in tokens)
            {
                var attrs = new List<KeyValuePair<object?, object?>> { new((long)OrthAttribute, token.Orth) };
                if (token.Norm is { } norm)
                {
                    attrs.Add(new((long)NormAttribute, norm));
                }

                maps.Add(attrs);
            }

            exceptions.Add(new(text, maps));
        }

        var map = new List<KeyValuePair<object?, object?>>
        {
            new("prefix_search", PrefixSearch),
            new("suffix_search", SuffixSearch),
            new("infix_finditer", InfixFinditer),
            new("token_match", TokenMatch),
            new("url_match", UrlMatch),
            new("exceptions", exceptions),
            new("faster_heuristics", FasterHeuristics),
        };
        return Pipelines.SpacyVocab.EncodeMsgPack(map);
    }

    /// <summary>Reads the <c>tokenizer</c> file that spaCy's <c>nlp.to_disk</c> writes (msgpack).</summary>
    public static TokenizerRules FromMsgPack(byte[] data, string source)
    {
        object? decoded;
        try
        {
            decoded = MsgPackReader.Decode(data);
        }
        catch (MsgPackException e)
        {
            throw new TokenizerRulesException($"{source}: not a spaCy tokenizer file: {e.Message}", e);
        }

        if (decoded is not List<KeyValuePair<object?, object?>> map)
        {
            throw new TokenizerRulesException($"{source}: not a spaCy tokenizer file (expected a msgpack map).");
        }

        string? prefix = null, suffix = null, infix = null, tokenMatch = null, urlMatch = null;
        var fasterHeuristics = true;
        var specials = new Dictionary<string, IReadOnlyList<SpecialCaseToken>>(StringComparer.Ordinal);
        foreach (var (keyObject, value) in map)
        {
            var key = keyObject as string;
            switch (key)
            {
                case "prefix_search": prefix = PatternOf(value, key, source); break;
                case "suffix_search": suffix = PatternOf(value, key, source); break;
                case "infix_finditer": infix = PatternOf(value, key, source); break;
                case "token_match": tokenMatch = PatternOf(value, key, source); break;
                case "url_match": urlMatch = PatternOf(value, key, source); break;
                case "faster_heuristics": fasterHeuristics = value is not false; break;
                case "exceptions" when value is List<KeyValuePair<object?, object?>> exceptions:
                    foreach (var (caseKey, caseValue) in exceptions)
                    {
                        if (caseKey is not string text || caseValue is not List<object?> tokenMaps)
                        {
                            throw new TokenizerRulesException($"{source}: malformed special case in 'exceptions'.");
                        }

                        var tokens = new List<SpecialCaseToken>();
                        foreach (var tokenMap in tokenMaps)
                        {
                            string? orth = null, norm = null;
                            if (tokenMap is List<KeyValuePair<object?, object?>> attrs)
                            {
                                foreach (var (attr, attrValue) in attrs)
                                {
                                    var id = attr is long l ? l : -1;
                                    if (id == OrthAttribute || attr is "ORTH")
                                    {
                                        orth = attrValue as string;
                                    }
                                    else if (id == NormAttribute || attr is "NORM")
                                    {
                                        norm = attrValue as string;
                                    }
                                }
                            }

                            tokens.Add(new SpecialCaseToken(orth ?? throw new TokenizerRulesException($"{source}: special case '{text}' has a token without ORTH."), norm));
                        }

                        specials[text] = Validate(text, tokens, source);
                    }

                    break;
            }
        }

        return new TokenizerRules
        {
            Source = source,
            PrefixSearch = prefix,
            SuffixSearch = suffix,
            InfixFinditer = infix,
            TokenMatch = tokenMatch,
            UrlMatch = urlMatch,
            FasterHeuristics = fasterHeuristics,
            SpecialCases = specials,
        };
    }

    private static string? PatternOf(object? value, string key, string source) => value switch
    {
        null => null,
        string s => s,
        _ => throw new TokenizerRulesException($"{source}: '{key}' must be a string or nil."),
    };

    // spaCy's _validate_special_case: the ORTHs must spell the key.
    private static IReadOnlyList<SpecialCaseToken> Validate(string key, List<SpecialCaseToken> tokens, string source)
    {
        if (tokens.Count == 0 || string.Concat(tokens.Select(t => t.Orth)) != key)
        {
            throw new TokenizerRulesException($"{source}: special case '{key}': the ORTH values must concatenate to the key (spaCy error E997).");
        }

        return tokens;
    }

    /// <summary>
    /// The lexeme NORM exceptions that spaCy's vocabulary applies (<c>’</c> to <c>'</c>, <c>…</c> to
    /// <c>...</c>, ...), shared by all built-in languages.
    /// </summary>
    public static IReadOnlyDictionary<string, string> BuiltInNormExceptions => LazyNormExceptions.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, string>> LazyNormExceptions = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Prodigy.Build.Core.Tokenization.Rules.norm_exceptions.json")!;
        using var document = JsonDocument.Parse(stream);
        return document.RootElement.GetProperty("table").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
    });
}
