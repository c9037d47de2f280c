namespace Prodigy.Build.Core.Pipelines;

/// <summary>A pipeline's <c>vocab/</c> folder (placeholder: replaced by the full reader and writer).</summary>
public sealed class SpacyVocab
{
    public static SpacyVocab Read(string directory) => new();
}
