using System.Reflection;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>The repository and the freshly built projects the tests run (see tests/ProjectOutputPaths.targets).</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SdkProps => Path.Combine(RepoRoot, "sdk", "Sdk", "Sdk.props");

    public static string SdkTargets => Path.Combine(RepoRoot, "sdk", "Sdk", "Sdk.targets");

    public static string SdkProject => Path.Combine(RepoRoot, "sdk", "Prodigy.Build.Sdk.csproj");

    public static string TasksAssembly => Built("Prodigy.Build.Tasks");

    public static string Tool => Built("Prodigy.Build.Tool");

    public static string FakeTool => Built("Prodigy.Build.FakeTool");

    /// <summary>The trainer, built with TorchSharp-cpu beside it.</summary>
    public static string Trainer => Built("Prodigy.Build.Trainer");

    public static string Configuration => Metadata("Configuration");

    private static string Built(string key)
    {
        var path = Metadata(key);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{key} is not built at {path}.");
    }

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"No AssemblyMetadata '{key}': see tests/ProjectOutputPaths.targets.");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Prodigy.Build.Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root (Prodigy.Build.Sdk.sln) above " + AppContext.BaseDirectory);
    }
}
