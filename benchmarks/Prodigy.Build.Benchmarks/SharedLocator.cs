namespace Prodigy.Build.Benchmarks;

/// <summary>Finds ../shared (spaCy's ground truth and the datasets) beside the repository.</summary>
internal static class SharedLocator
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Prodigy.Build.Sdk.sln")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root; pass --shared DIR.");
    }
}

/// <summary>Finds the Release build of the command-line tool (built with the benchmark: it references the tool project).</summary>
internal static class ToolLocator
{
    public static string Find()
    {
        var candidate = Path.Combine(AppContext.BaseDirectory, "Prodigy.Build.Tool.dll");
        return File.Exists(candidate) ? candidate : throw new FileNotFoundException("Prodigy.Build.Tool.dll not found beside the benchmark; pass --tool PATH.");
    }
}
