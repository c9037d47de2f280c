using System.Text.Json.Nodes;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Pipelines;

namespace Prodigy.Build.Trainer.Training;

/// <summary>
/// The word vectors a run trains with, as <c>spacy train</c> finds them: <c>[initialize] vectors</c>
/// (usually <c>${paths.vectors}</c>) names a spaCy pipeline folder or package folder whose
/// <c>vocab/</c> holds them; with none named, a spaCy pipeline given as base model brings its own.
/// </summary>
public sealed record PipelineVectors(SpacyVectors Vectors, string? Name, string Source)
{
    /// <summary>
    /// The vectors for the run, or null when it has none. PRD2312 when a folder is named that is not
    /// there or holds no vectors, or when <c>include_static_vectors = true</c> finds no vectors at all.
    /// </summary>
    public static PipelineVectors? Find(TrainingRun run, ResolvedConfig config)
    {
        var named = run.Vectors ?? (config.IsNull("initialize", "vectors") ? null : config.String("initialize", "vectors"));
        PipelineVectors? found = null;
        if (!string.IsNullOrEmpty(named))
        {
            found = FromFolder(named, config.Path, required: true);
        }
        else if (run.BaseModel is { } baseModel && BaseModel.IsSpacyPipeline(baseModel)
            && File.Exists(Path.Combine(SpacyPipeline.ResolvePackageFolder(baseModel), "vocab", "vectors")))
        {
            // spaCy writes vocab/vectors for every pipeline; a base without vectors has a 0 x 0 table.
            found = FromFolder(baseModel, config.Path, required: false) is { } fromBase ? fromBase with { Source = $"the base model {fromBase.Source}" } : null;
        }

        var wanted = StaticVectorsSections(config).FirstOrDefault();
        if (wanted is not null && found is null)
        {
            throw new TrainerInputException(
                "PRD2312",
                $"[{wanted}] include_static_vectors = true, but no word vectors are given: set ProdigyVectors (--vectors), or [paths] vectors in the config, to a spaCy pipeline folder that has vectors (its vocab/vectors), or set include_static_vectors = false",
                config.Path);
        }

        if (found is not null)
        {
            run.Log($"Vectors: {found.Vectors.Rows:N0} rows x {found.Vectors.Width} ({found.Vectors.KeyToRow.Count:N0} keys) from {found.Source}");
        }

        return found;
    }

    /// <summary>The embed sections that ask for static vectors.</summary>
    public static IEnumerable<string> StaticVectorsSections(ResolvedConfig config) =>
        config.SectionNames.Where(s => s.EndsWith(".embed", StringComparison.Ordinal) && config.Bool(s, "include_static_vectors", false));

    private static PipelineVectors? FromFolder(string named, string configPath, bool required)
    {
        // spaCy resolves the name against installed packages, then as a path; packages are not
        // installed here, so a name that is not a folder gets a message saying what to give instead.
        var directory = Path.GetFullPath(named);
        if (!Directory.Exists(directory))
        {
            var looksLikePackage = named.IndexOfAny(['/', '\\']) < 0 && !named.StartsWith('.');
            throw new TrainerInputException(
                "PRD2312",
                looksLikePackage
                    ? $"the vectors '{named}' ([paths] vectors) are not a folder: spaCy packages are not installed for the .NET trainer; download the package, unpack it, and set ProdigyVectors (--vectors) or [paths] vectors to its pipeline folder (e.g. {named}/{named}-3.5.0), or set include_static_vectors = false and [paths] vectors = null to train without vectors"
                    : $"the vectors '{named}' are not a folder ({directory}); give a spaCy pipeline folder that has vectors (ProdigyVectors, --vectors or [paths] vectors), or train without them",
                configPath);
        }

        var folder = SpacyPipeline.ResolvePackageFolder(directory);
        var vocab = Path.Combine(folder, "vocab");
        if (!File.Exists(Path.Combine(vocab, "vectors")))
        {
            throw new TrainerInputException("PRD2312", $"the vectors '{named}': {vocab} has no vectors file; give a spaCy pipeline folder saved with its vectors (nlp.to_disk writes vocab/vectors)", configPath);
        }

        SpacyVocab read;
        try
        {
            read = SpacyVocab.Read(vocab);
        }
        catch (SpacyPipelineException e)
        {
            throw new TrainerInputException(e.Code, $"the vectors of '{named}' cannot be read: {e.Reason}", e.Path);
        }

        if (read.Vectors.Width == 0)
        {
            if (!required)
            {
                return null;
            }

            throw new TrainerInputException("PRD2312", $"the vectors '{named}': its vectors table is empty; give a pipeline folder that has vectors, or set [paths] vectors to null", configPath);
        }

        return new PipelineVectors(read.Vectors, VectorsName(folder), folder);
    }

    // meta.json's vectors name (spaCy keeps it with the vectors it loads), when the folder has one.
    private static string? VectorsName(string folder)
    {
        var meta = Path.Combine(folder, "meta.json");
        if (!File.Exists(meta))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(meta))?["vectors"]?["name"]?.GetValue<string>();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
