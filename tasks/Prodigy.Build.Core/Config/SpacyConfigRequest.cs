namespace Prodigy.Build.Core.Config;

/// <summary><c>spacy init config --optimize</c>.</summary>
public enum SpacyOptimize
{
    /// <summary>Smaller, faster models (<c>--optimize efficiency</c>, spaCy's default).</summary>
    Efficiency,

    /// <summary>Larger models with static vectors (<c>--optimize accuracy</c>).</summary>
    Accuracy,
}

/// <summary>
/// The arguments of <c>python -m spacy init config --lang L --pipeline C1,C2 --optimize O [--gpu]</c>.
/// </summary>
/// <param name="Lang">spaCy language code (<c>en</c>, <c>de</c>, <c>fr</c>, <c>xx</c>, ...).</param>
/// <param name="Components">Trainable components in pipeline order: a subset of <c>ner</c>,
/// <c>textcat</c>, <c>textcat_multilabel</c>, <c>spancat</c>.</param>
/// <param name="Optimize">Efficiency or accuracy.</param>
/// <param name="Gpu"><c>--gpu</c>. Without spacy-transformers (as the reference outputs were made),
/// spaCy keeps the CPU architectures and only sets <c>[nlp] batch_size = 128</c>.</param>
public sealed record SpacyConfigRequest(
    string Lang,
    IReadOnlyList<string> Components,
    SpacyOptimize Optimize = SpacyOptimize.Efficiency,
    bool Gpu = false)
{
    /// <summary>Parses <c>init config</c> command-line arguments (<c>--lang</c>/<c>-l</c>, <c>--pipeline</c>/<c>-p</c>, <c>--optimize</c>/<c>-o</c>, <c>--gpu</c>/<c>-G</c>); other arguments are ignored.</summary>
    public static SpacyConfigRequest FromArguments(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string lang = "en";
        string pipeline = "tagger,parser,ner";
        var optimize = SpacyOptimize.Efficiency;
        var gpu = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            switch (arg)
            {
                case "--lang" or "-l": lang = Next()!; break;
                case "--pipeline" or "-p": pipeline = Next()!; break;
                case "--optimize" or "-o":
                    optimize = Next() switch
                    {
                        "efficiency" => SpacyOptimize.Efficiency,
                        "accuracy" => SpacyOptimize.Accuracy,
                        var other => throw new ArgumentException($"unknown --optimize value '{other}'"),
                    };
                    break;
                case "--gpu" or "-G": gpu = true; break;
            }
        }

        var components = pipeline.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return new SpacyConfigRequest(lang, components, optimize, gpu);
    }
}
