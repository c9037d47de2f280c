using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Versioning;
using System.Xml.Linq;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>
/// Visual Studio runs MSBuild on .NET Framework 4.7.2 and loads a task assembly with only what that
/// MSBuild ships (its assemblies under binding redirects to the versions it carries) plus the files
/// beside the task. This test resolves every assembly reference of the task folder the package ships
/// (tasks/netstandard2.0/) against exactly that set, read from MSBuild's own packages: the
/// .NETFramework4.7.2 dependency groups of Microsoft.Build.Framework and Microsoft.Build.Utilities.Core
/// (the version this repository compiles against) and, transitively, of their dependencies.
/// </summary>
public sealed class NetFrameworkLoadTests
{
    private static string PackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    [Fact]
    public void The_task_folder_needs_only_netstandard_MSBuild_on_NET_Framework_and_the_files_beside_it()
    {
        var folder = Path.GetDirectoryName(TestPaths.TasksAssembly)!;
        var beside = Directory.GetFiles(folder, "*.dll").ToDictionary(f => Path.GetFileNameWithoutExtension(f), Read, StringComparer.OrdinalIgnoreCase);
        Assert.Equal(["Prodigy.Build.Tasks", "System.IO.Hashing", "YamlDotNet"], beside.Keys.Order(StringComparer.Ordinal));
        var shipped = AssembliesOfMSBuildOnNetFramework();
        Assert.Equal(new Version(15, 1, 0, 0), shipped["Microsoft.Build.Utilities.Core"]);
        Assert.True(shipped.ContainsKey("System.Memory"), string.Join(", ", shipped.Keys));

        var problems = new List<string>();
        foreach (var (name, assembly) in beside)
        {
            if (assembly.TargetFramework != ".NETStandard,Version=v2.0")
            {
                problems.Add($"{name} targets {assembly.TargetFramework ?? "no framework"}, not .NET Standard 2.0");
            }

            foreach (var (reference, version) in assembly.References)
            {
                var available = reference == "netstandard" ? new Version(2, 0, 0, 0)
                    : beside.TryGetValue(reference, out var local) ? local.Version
                    : shipped.GetValueOrDefault(reference);
                if (available is null)
                {
                    problems.Add($"{name} needs {reference} {version}, which is neither beside the task nor shipped by MSBuild on .NET Framework");
                }
                else if (version > available)
                {
                    problems.Add($"{name} needs {reference} {version}; .NET Framework's MSBuild has {available}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private sealed record AssemblyFacts(Version Version, string? TargetFramework, IReadOnlyList<(string Name, Version Version)> References);

    private static AssemblyFacts Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        string? framework = null;
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind == HandleKind.MemberReference
                && metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent is { Kind: HandleKind.TypeReference } parent
                && metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)parent).Name) == nameof(TargetFrameworkAttribute))
            {
                // The blob: prolog (2 bytes), then the framework name as a serialized string.
                var blob = metadata.GetBlobReader(attribute.Value);
                blob.ReadUInt16();
                framework = blob.ReadSerializedString();
            }
        }

        var references = metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h)).Select(r => (metadata.GetString(r.Name), r.Version)).ToList();
        return new AssemblyFacts(metadata.GetAssemblyDefinition().Version, framework, references);
    }

    /// <summary>MSBuild's own assemblies (always assembly version 15.1.0.0) and its .NET Framework dependencies, by assembly name and version.</summary>
    private static Dictionary<string, Version> AssembliesOfMSBuildOnNetFramework()
    {
        var props = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "Directory.Packages.props"));
        var msbuild = props.Descendants("PackageVersion").Single(e => (string?)e.Attribute("Include") == "Microsoft.Build.Utilities.Core").Attribute("Version")!.Value;
        var result = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase)
        {
            ["Microsoft.Build.Framework"] = new(15, 1, 0, 0),
            ["Microsoft.Build.Utilities.Core"] = new(15, 1, 0, 0),
        };
        var pending = new Queue<(string Id, string Version)>([("Microsoft.Build.Framework", msbuild), ("Microsoft.Build.Utilities.Core", msbuild)]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (pending.TryDequeue(out var package))
        {
            if (!seen.Add(package.Id))
            {
                continue;
            }

            var folder = Path.Combine(PackagesFolder, package.Id.ToLowerInvariant(), package.Version);
            var nuspec = Path.Combine(folder, package.Id.ToLowerInvariant() + ".nuspec");
            if (!File.Exists(nuspec))
            {
                // Not restored here, so nothing here can reference it either (a reference to it fails the test).
                continue;
            }

            var assembly = new[] { "net472", "net462", "net461", "netstandard2.0" }
                .Select(tfm => Path.Combine(folder, "lib", tfm, package.Id + ".dll")).FirstOrDefault(File.Exists);
            if (assembly is not null && !package.Id.StartsWith("Microsoft.Build", StringComparison.Ordinal))
            {
                result[package.Id] = Read(assembly).Version;
            }

            var groups = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "group").ToList();
            var group = groups.FirstOrDefault(g => (string?)g.Attribute("targetFramework") == ".NETFramework4.7.2")
                ?? groups.FirstOrDefault(g => (string?)g.Attribute("targetFramework") == ".NETFramework4.6.2")
                ?? groups.FirstOrDefault(g => (string?)g.Attribute("targetFramework") == ".NETStandard2.0");
            foreach (var dependency in group?.Elements().Where(e => e.Name.LocalName == "dependency") ?? [])
            {
                pending.Enqueue(((string)dependency.Attribute("id")!, ((string)dependency.Attribute("version")!).Trim('[', ']', '(', ')').Split(',')[0]));
            }
        }

        return result;
    }
}
