namespace Prodigy.Build.Tests.Shared;

/// <summary>Finds <c>../shared</c> (spaCy's ground truth) beside the repository.</summary>
internal static class SharedData
{
    public static string Root { get; } = Locate();

    public static string Tokenizers => Path.Combine(Root, "spacy", "tokenizers");

    private static string Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("PRODIGY_SHARED_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Prodigy.Build.Sdk.sln")))
            {
                var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
                if (Directory.Exists(shared))
                {
                    return shared;
                }

                throw new DirectoryNotFoundException($"The shared ground-truth folder {shared} is missing; set PRODIGY_SHARED_DIR to its location.");
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root (Prodigy.Build.Sdk.sln) above " + AppContext.BaseDirectory);
    }
}
