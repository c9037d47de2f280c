using System.Reflection;

namespace Prodigy.Build.Tasks.Tests;

/// <summary>Where the build put the projects these tests run (see tests/ProjectOutputPaths.targets).</summary>
internal static class TestPaths
{
    public static string FakeTool => Get("Prodigy.Build.FakeTool");

    private static string Get(string key)
    {
        var path = typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value
            ?? throw new InvalidOperationException($"No AssemblyMetadata '{key}': see tests/ProjectOutputPaths.targets.");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{key} is not built at {path}.");
    }
}
