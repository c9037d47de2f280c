using System.Diagnostics;
using System.Text;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>
/// The package as a user gets it: `dotnet pack` the SDK into a local feed, then restore and build a project
/// that says Sdk="Prodigy.Build.Sdk/VERSION" from that feed only (no other package source), out of process.
/// </summary>
public sealed class PackageSmokeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-sdk-smoke-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void The_packed_sdk_builds_a_corpus_from_a_local_feed()
    {
        var feed = Path.Combine(_dir, "feed");
        var log = new StringBuilder();
        Run(log, TestPaths.RepoRoot, "pack", TestPaths.SdkProject, "-c", TestPaths.Configuration, "-o", feed, "-nologo");
        var package = Assert.Single(Directory.GetFiles(feed, "Prodigy.Build.Sdk.*.nupkg"));
        var version = Path.GetFileNameWithoutExtension(package)["Prodigy.Build.Sdk.".Length..];

        var project = Path.Combine(_dir, "project");
        Directory.CreateDirectory(Path.Combine(project, "data"));
        File.WriteAllLines(
            Path.Combine(project, "data", "train.jsonl"),
            File.ReadLines(Path.Combine(SharedData.Root, "datasets", "fashion_brands", "fashion_brands_training.jsonl")).Take(100));
        File.WriteAllText(Path.Combine(project, "Fashion.csproj"), $"""
            <Project Sdk="Prodigy.Build.Sdk/{version}">
              <ItemGroup>
                <NerDataset Include="data/train.jsonl" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(_dir, "packages")}" />
              </config>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(project, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(project, "Directory.Build.targets"), "<Project />");

        Run(log, project, "build", "Fashion.csproj", "-nologo", "-v:d", "-tl:off");

        var corpus = Path.Combine(project, "bin", "Debug", "corpus");
        foreach (var file in new[] { "train.spacy", "dev.spacy", "config.cfg", Path.Combine("labels", "ner.json") })
        {
            Assert.True(File.Exists(Path.Combine(corpus, file)), $"{file} is missing.\n{log}");
        }

        // The tool that ran is the one inside the package.
        Assert.Contains(Path.Combine(_dir, "packages", "prodigy.build.sdk", version.ToLowerInvariant(), "tools", "prodigy-build", "Prodigy.Build.Tool.dll"), log.ToString(), StringComparison.Ordinal);

        // The package's task assembly loads its dependencies (hashing, the YAML lock): a second build does no work.
        Assert.Contains("corpus: rebuilding, it has not been built yet", log.ToString(), StringComparison.Ordinal);
        var second = new StringBuilder();
        Run(second, project, "build", "Fashion.csproj", "-nologo", "-v:n", "-tl:off");
        Assert.Contains("corpus: up to date", second.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(project, "obj", "Debug", "prodigy.lock")), second.ToString());
    }

    private static void Run(StringBuilder log, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A child `dotnet` must pick its own MSBuild, not the one this test process registered.
        foreach (var variable in new[] { "MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(variable);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        log.AppendLine("> dotnet " + string.Join(" ", arguments));
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("dotnet " + arguments[0] + " timed out.\n" + log);
        }

        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet {arguments[0]} exited with {process.ExitCode}.\n{log}");
    }
}
