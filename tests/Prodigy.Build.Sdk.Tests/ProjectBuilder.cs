using System.Text;
using System.Xml.Linq;
using Microsoft.Build.Evaluation;
using Microsoft.Build.Execution;
using Microsoft.Build.Framework;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>
/// Writes a project that uses the SDK from this repository into a fresh temporary folder (with its own
/// nuget.config, global.json and empty Directory.Build.* files), and builds it in process. Elements
/// are appended in call order between the SDK's props and targets, so test properties land after the
/// SDK's defaults. The tasks and the tool are the freshly built ones (the fake tool unless
/// <see cref="UseRealTool"/>).
/// </summary>
internal sealed class ProjectBuilder : IDisposable
{
    private static readonly object BuildLock = new();
    private readonly List<XElement> _elements = [];
    private string _toolPath = TestPaths.FakeTool;

    private ProjectBuilder(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        System.IO.File.WriteAllText(Path.Combine(directory, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
              </packageSources>
            </configuration>
            """);
        System.IO.File.WriteAllText(Path.Combine(directory, "global.json"), """{ "sdk": { "version": "10.0.100", "rollForward": "latestMajor" } }""");
        System.IO.File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), "<Project />");
        System.IO.File.WriteAllText(Path.Combine(directory, "Directory.Build.targets"), "<Project />");
    }

    public string Directory { get; }

    public string ProjectPath => Path.Combine(Directory, "data.csproj");

    public string CorpusDir => Path.Combine(Directory, "bin", "Debug", "corpus");

    public string SpacyConfigFile => Path.Combine(Directory, "bin", "Debug", "spacy-config", "config.cfg");

    public static ProjectBuilder Create() =>
        new(Path.Combine(Path.GetTempPath(), "prodigy-sdk-tests", Guid.NewGuid().ToString("N")[..12]));

    public ProjectBuilder UseRealTool()
    {
        _toolPath = TestPaths.Tool;
        return this;
    }

    public ProjectBuilder Property(string name, string value, string? condition = null)
    {
        var property = new XElement(name, value);
        if (condition is not null)
        {
            property.SetAttributeValue("Condition", condition);
        }

        _elements.Add(new XElement("PropertyGroup", property));
        return this;
    }

    public ProjectBuilder Item(string type, string include, params (string Name, string Value)[] metadata)
    {
        var item = new XElement(type, new XAttribute("Include", include));
        foreach (var (name, value) in metadata)
        {
            item.SetAttributeValue(name, value);
        }

        _elements.Add(new XElement("ItemGroup", item));
        return this;
    }

    /// <summary>Appends raw project XML (a target, an import...).</summary>
    public ProjectBuilder Xml(string xml)
    {
        _elements.Add(XElement.Parse(xml));
        return this;
    }

    /// <summary>Writes a file relative to the project folder.</summary>
    public ProjectBuilder File(string relativePath, string text)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return this;
    }

    /// <summary>Copies a file (e.g. from ../shared) into the project folder.</summary>
    public ProjectBuilder CopyFile(string source, string relativePath)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.Copy(source, path, overwrite: true);
        return this;
    }

    public string Save()
    {
        var project = new XElement(
            "Project",
            new XElement("Import", new XAttribute("Project", TestPaths.SdkProps)),
            new XElement(
                "PropertyGroup",
                new XElement("ProdigyTasksAssembly", TestPaths.TasksAssembly),
                new XElement("ProdigyToolPath", _toolPath)),
            _elements,
            new XElement("Import", new XAttribute("Project", TestPaths.SdkTargets)));
        var text = project.ToString();
        if (!System.IO.File.Exists(ProjectPath) || System.IO.File.ReadAllText(ProjectPath) != text)
        {
            System.IO.File.WriteAllText(ProjectPath, text);
        }

        return ProjectPath;
    }

    /// <summary>Restores, then builds <paramref name="targets"/> (default: Build).</summary>
    public BuildOutcome Build(string targets = "Build", IDictionary<string, string>? globalProperties = null)
    {
        Save();
        return BuildProject(ProjectPath, targets, globalProperties);
    }

    /// <summary>Restores, then builds an existing project file (a sample) by path.</summary>
    public static BuildOutcome BuildProject(string projectPath, string targets = "Build", IDictionary<string, string>? globalProperties = null)
    {
        var properties = new Dictionary<string, string>(globalProperties ?? new Dictionary<string, string>());
        properties.TryAdd("Configuration", "Debug");
        lock (BuildLock)
        {
            var logger = new CapturingLogger();
            var restoreProperties = new Dictionary<string, string>(properties)
            {
                ["MSBuildRestoreSessionId"] = Guid.NewGuid().ToString("D"),
            };
            var restore = Run(projectPath, ["Restore"], restoreProperties, logger, BuildRequestDataFlags.ClearCachesAfterBuild);
            if (restore != BuildResultCode.Success)
            {
                return new BuildOutcome(false, logger);
            }

            var result = Run(projectPath, targets.Split(';'), properties, logger, BuildRequestDataFlags.None);
            return new BuildOutcome(result == BuildResultCode.Success, logger);
        }
    }

    /// <summary>Evaluates the project (no build), as an IDE would first.</summary>
    public Project Evaluate(IDictionary<string, string>? globalProperties = null)
    {
        Save();
        lock (BuildLock)
        {
            var collection = new ProjectCollection(globalProperties ?? new Dictionary<string, string>());
            return collection.LoadProject(ProjectPath);
        }
    }

    private static BuildResultCode Run(string projectPath, string[] targets, Dictionary<string, string> properties, CapturingLogger logger, BuildRequestDataFlags flags)
    {
        using var collection = new ProjectCollection(properties);
        var parameters = new BuildParameters(collection)
        {
            Loggers = [logger],
            EnableNodeReuse = false,
            MaxNodeCount = 1,
            DisableInProcNode = false,
            ShutdownInProcNodeOnBuildFinish = true,
        };
        var request = new BuildRequestData(projectPath, properties.ToDictionary(p => p.Key, p => (string?)p.Value), null, targets, null, flags);
        var result = BuildManager.DefaultBuildManager.Build(parameters, request);
        collection.UnloadAllProjects();
        return result.OverallResult;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>What a build did; <see cref="Log"/> is the assertion message.</summary>
internal sealed class BuildOutcome(bool succeeded, CapturingLogger logger)
{
    public bool Succeeded { get; } = succeeded;

    public string Log => logger.Text;

    public IReadOnlyList<BuildErrorEventArgs> Errors => logger.Errors;

    public IReadOnlyList<BuildWarningEventArgs> Warnings => logger.Warnings;

    public IReadOnlyList<string> Messages => logger.Messages;

    /// <summary>How many times the tool ran data-to-spacy in this build (the task logs the command it runs).</summary>
    public int DataToSpacyRuns => Messages.Count(m => m == "prodigy-build data-to-spacy");

    public BuildOutcome ShouldSucceed()
    {
        Assert.True(Succeeded, "The build failed:\n" + Log);
        return this;
    }

    public BuildErrorEventArgs ShouldFailWith(string code)
    {
        Assert.False(Succeeded, "The build succeeded:\n" + Log);
        return Assert.Single(Errors, e => e.Code == code);
    }
}

/// <summary>Collects every event as text, and errors, warnings and messages as they came.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly StringBuilder _text = new();

    public LoggerVerbosity Verbosity { get; set; } = LoggerVerbosity.Diagnostic;

    public string? Parameters { get; set; }

    public List<BuildErrorEventArgs> Errors { get; } = [];

    public List<BuildWarningEventArgs> Warnings { get; } = [];

    public List<string> Messages { get; } = [];

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public void Initialize(IEventSource eventSource) => eventSource.AnyEventRaised += (_, e) =>
    {
        lock (_text)
        {
            switch (e)
            {
                case BuildErrorEventArgs error:
                    Errors.Add(error);
                    _text.AppendLine($"{error.File}({error.LineNumber},{error.ColumnNumber}): error {error.Code}: {error.Message}");
                    break;
                case BuildWarningEventArgs warning:
                    Warnings.Add(warning);
                    _text.AppendLine($"{warning.File}({warning.LineNumber},{warning.ColumnNumber}): warning {warning.Code}: {warning.Message}");
                    break;
                case BuildMessageEventArgs message when message.Importance != MessageImportance.Low || message is TaskCommandLineEventArgs:
                    Messages.Add(message.Message ?? string.Empty);
                    _text.AppendLine("  " + message.Message);
                    break;
                case BuildMessageEventArgs message:
                    Messages.Add(message.Message ?? string.Empty);
                    break;
                case TargetStartedEventArgs target:
                    _text.AppendLine($"{target.TargetName}:");
                    break;
                case ProjectStartedEventArgs or ProjectFinishedEventArgs or BuildFinishedEventArgs:
                    _text.AppendLine(e.Message);
                    break;
            }
        }
    };

    public void Shutdown()
    {
    }
}
