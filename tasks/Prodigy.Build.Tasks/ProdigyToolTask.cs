using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Prodigy.Build.Tasks.Incremental;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Base of the tasks that run one <c>prodigy-build</c> command out of process:
/// <c>dotnet exec &lt;tool dll&gt; &lt;command&gt; @&lt;response file&gt;</c>. The tool's output is streamed
/// into the build log line by line; only lines in canonical form become errors and warnings.
/// </summary>
public abstract partial class ProdigyToolTask : ToolTask
{
    internal const string ToolDisplayName = "prodigy-build";

    private readonly object _processLock = new();
    private Process? _process;
    private volatile bool _cancelRequested;
    private Timer? _cancelTimer;
    private TimeSpan _toolElapsed;

    protected ProdigyToolTask()
    {
        // The node is free for other projects while the tool runs.
        YieldDuringToolExecution = true;
        // The tool prints what Prodigy prints (components, counts, saved files): shown at the default verbosity.
        StandardOutputImportance = "high";
        StandardErrorImportance = "high";
    }

    /// <summary>The tool: the framework-dependent <c>Prodigy.Build.Tool.dll</c>.</summary>
    [Required]
    public string ToolAssembly { get; set; } = string.Empty;

    /// <summary>The <c>dotnet</c> host; default <c>DOTNET_HOST_PATH</c>, else <c>dotnet</c> on the PATH.</summary>
    public string? DotnetHost { get; set; }

    /// <summary>The folder the tool runs in (relative paths it is given and writes resolve against it); default the build's current folder.</summary>
    public string? WorkingDirectory { get; set; }

    protected override string? GetWorkingDirectory() => string.IsNullOrEmpty(WorkingDirectory) ? base.GetWorkingDirectory() : WorkingDirectory;

    /// <summary>Seconds the tool may run; 0 (the default) for no limit.</summary>
    public int TimeoutSeconds { get; set; }

    /// <summary>Seconds a cancelled tool gets to stop by itself before it is killed.</summary>
    public int CancelGraceSeconds { get; set; } = 5;

    /// <summary>The <c>prodigy-build</c> command this task runs, e.g. <c>data-to-spacy</c>.</summary>
    protected abstract string Command { get; }

    protected override string ToolName => RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";

    protected override Encoding ResponseFileEncoding => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.High;

    protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.High;

    /// <summary>The arguments after the command, one per element (written one per line).</summary>
    internal IReadOnlyList<string> BuildArguments()
    {
        var arguments = new List<string>();
        AddArguments(arguments);
        return arguments;
    }

    protected abstract void AddArguments(List<string> arguments);

    /// <summary>The response file's text (for tests).</summary>
    internal string ResponseFileText() => GenerateResponseFileCommands();

    /// <summary>The arguments given on the command line before the response file (for tests).</summary>
    internal string CommandLineText() => GenerateCommandLineCommands();

    /// <summary>
    /// The stage's name in the log (<c>corpus</c>, <c>config</c>). When set, the task is a stage under the
    /// content-hash rules: it runs the tool only when its inputs' content, its parameters, the SDK
    /// version or its outputs differ from what <see cref="LockFile"/> records, and records them after.
    /// </summary>
    public string? StageName { get; set; }

    /// <summary>The stage's key in the lock file; default <see cref="StageName"/>.</summary>
    public string? StageKey { get; set; }

    /// <summary>The lock file (YAML) this stage reads and writes.</summary>
    public string? LockFile { get; set; }

    /// <summary>Where sizes, times and hashes of files are remembered between builds (so unchanged files are not read).</summary>
    public string? HashCacheFile { get; set; }

    /// <summary>The project folder: paths in the lock file are relative to it.</summary>
    public string? ProjectDirectory { get; set; }

    /// <summary>The files the stage writes; all must exist after the tool ran.</summary>
    public ITaskItem[] StageOutputs { get; set; } = [];

    /// <summary>The SDK version that is part of every fingerprint; default the task assembly's version.</summary>
    public string? SdkVersion { get; set; }

    /// <summary>True when the stage was up to date and the tool did not run.</summary>
    [Output]
    public bool UpToDate { get; set; }

    /// <summary>The files the stage reads, with what each is to it (part of the fingerprint); null when they cannot be described (errors logged).</summary>
    internal virtual IReadOnlyList<StageInput>? GetStageInputs(FileHashCache cache) => [];

    /// <summary>The settings that shape the outputs, by their MSBuild property names (part of the fingerprint).</summary>
    internal virtual IEnumerable<KeyValuePair<string, string>> GetStageParameters() => [];

    /// <summary>How many files the last stage check read to hash (tests).</summary>
    internal int FilesHashed { get; private set; }

    internal static string DefaultSdkVersion { get; } =
        typeof(ProdigyToolTask).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ProdigyToolTask).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    public override bool Execute()
    {
        if (TimeoutSeconds > 0)
        {
            Timeout = checked(TimeoutSeconds * 1000);
        }

        return string.IsNullOrEmpty(StageName) ? RunTool() : RunStage();
    }

    private bool RunStage()
    {
        if (string.IsNullOrEmpty(LockFile) || string.IsNullOrEmpty(ProjectDirectory))
        {
            Log.LogError(null, "PRD1034", null, null, 0, 0, 0, 0, "Stage '{0}' needs LockFile and ProjectDirectory.", StageName);
            return false;
        }

        var lockPath = Path.GetFullPath(LockFile);
        var key = string.IsNullOrEmpty(StageKey) ? StageName! : StageKey!;
        using var mutex = ProjectMutex.Acquire(
            lockPath,
            waited => Log.LogMessage(MessageImportance.High, "{0}: waiting for another build of this project to finish ({1:0} s; it holds {2})", StageName, waited.TotalSeconds, lockPath),
            () => _cancelRequested,
            TimeSpan.FromSeconds(30));
        if (mutex is null)
        {
            Log.LogMessage(MessageImportance.High, "{0}: cancelled while waiting for another build.", StageName);
            return false;
        }

        var cache = FileHashCache.Load(HashCacheFile);
        Stage stage;
        try
        {
            if (GetStageInputs(cache) is not { } inputs)
            {
                cache.Save();
                return false;
            }

            stage = Stage.Describe(StageName!, ProjectDirectory!, string.IsNullOrEmpty(SdkVersion) ? DefaultSdkVersion : SdkVersion!,
                GetStageParameters(), inputs, StageOutputs.Select(o => Path.GetFullPath(o.GetMetadata("FullPath") is { Length: > 0 } full ? full : o.ItemSpec)), cache);
        }
        catch (Exception e) when (e is FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            Log.LogError(null, "PRD1031", null, (e as FileNotFoundException)?.FileName, 0, 0, 0, 0, "{0}: an input cannot be read: {1}", StageName, e.Message);
            return false;
        }

        Incremental.LockFile lockFile;
        try
        {
            lockFile = Incremental.LockFile.Load(lockPath);
        }
        catch (LockFileException e)
        {
            Log.LogWarning(null, "PRD1030", null, lockPath, e.Line, e.Column, 0, 0,
                "The lock file cannot be read ({0}). Every stage it recorded is rebuilt and the file is written anew; nothing needs fixing by hand.", e.Message);
            lockFile = new Incremental.LockFile();
        }

        var reason = stage.WhyRebuild(lockFile.Get(key), cache);
        if (reason is null)
        {
            Log.LogMessage(MessageImportance.High, "{0}: up to date", StageName);
            KeepOutputsNewerThanInputs(stage, cache);
            LogHashing(cache);
            cache.Save();
            UpToDate = true;
            return true;
        }

        Log.LogMessage(MessageImportance.High, "{0}: rebuilding, {1}", StageName, reason);
        if (!RunTool())
        {
            cache.Save();
            return false;
        }

        var missing = stage.OutputFullPaths.Where(o => !File.Exists(o)).ToList();
        foreach (var output in missing)
        {
            Log.LogError(null, "PRD1032", null, output, 0, 0, 0, 0, "{0} {1} succeeded but did not write '{2}'.", ToolDisplayName, Command, output);
        }

        if (missing.Count > 0)
        {
            return false;
        }

        try
        {
            // The entry goes in last: a build stopped before this point leaves the old entry, which no
            // longer matches the new outputs, so the next build runs the stage again.
            lockFile.Set(key, stage.WithOutputs(cache));
            lockFile.Save(lockPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LogError(null, "PRD1033", null, lockPath, 0, 0, 0, 0, "The lock file cannot be written: {0}", e.Message);
            return false;
        }

        LogHashing(cache);
        cache.Save();
        return true;
    }

    private void LogHashing(FileHashCache cache)
    {
        FilesHashed = cache.FilesHashed;
        Log.LogMessage(MessageImportance.Low, "{0}: hashed {1} file(s), {2} bytes; the others were unchanged since they were last hashed", StageName, cache.FilesHashed, cache.BytesHashed);
    }

    // Visual Studio's fast up-to-date check compares time stamps: when inputs were touched without
    // a change of content, the outputs get the current time so that the check settles too.
    private static void KeepOutputsNewerThanInputs(Stage stage, FileHashCache cache)
    {
        var newestInput = stage.InputTimePaths.Count == 0
            ? DateTime.MinValue
            : stage.InputTimePaths.Max(File.GetLastWriteTimeUtc);
        var now = DateTime.UtcNow > newestInput ? DateTime.UtcNow : newestInput;
        foreach (var output in stage.OutputFullPaths)
        {
            if (File.GetLastWriteTimeUtc(output) < newestInput)
            {
                var (size, hash) = cache.Get(output);
                File.SetLastWriteTimeUtc(output, now);
                cache.Remember(output, size, hash);
            }
        }
    }

    private bool RunTool()
    {
        var succeeded = base.Execute();
        if (!succeeded && !Log.HasLoggedErrors)
        {
            // ToolTask stops a timed-out or cancelled tool without an error of its own.
            if (_cancelRequested)
            {
                Log.LogMessage(MessageImportance.High, "{0} {1} was cancelled.", ToolDisplayName, Command);
            }
            else if (TimeoutSeconds > 0 && _toolElapsed.TotalMilliseconds >= Timeout)
            {
                Log.LogError(null, "PRD1004", null, null, 0, 0, 0, 0,
                    "{0} {1} did not finish within {2} seconds and was stopped (ProdigyToolTimeoutSeconds).", ToolDisplayName, Command, TimeoutSeconds);
            }
            else
            {
                Log.LogError(null, "PRD1003", null, null, 0, 0, 0, 0,
                    "{0} {1} failed with exit code {2} without reporting an error; see the messages above.", ToolDisplayName, Command, ExitCode);
            }
        }

        return succeeded;
    }

    protected override int ExecuteTool(string pathToTool, string responseFileCommands, string commandLineCommands)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            return base.ExecuteTool(pathToTool, responseFileCommands, commandLineCommands);
        }
        finally
        {
            _toolElapsed = stopwatch.Elapsed;
            lock (_processLock)
            {
                _process = null;
            }
        }
    }

    protected override bool ValidateParameters()
    {
        if (string.IsNullOrWhiteSpace(ToolAssembly) || !File.Exists(ToolAssembly))
        {
            Log.LogError(null, "PRD1001", null, null, 0, 0, 0, 0,
                "The prodigy-build tool was not found at '{0}'. The SDK package carries it; set ProdigyToolPath to a Prodigy.Build.Tool.dll to use another one.",
                ToolAssembly);
            return false;
        }

        return ValidateCommandParameters() && !Log.HasLoggedErrors;
    }

    /// <summary>Checks the command's own parameters; logs PRD1xxx errors and returns false on a problem.</summary>
    protected virtual bool ValidateCommandParameters() => true;

    protected override string GenerateFullPathToTool()
    {
        if (!string.IsNullOrEmpty(DotnetHost))
        {
            return DotnetHost!;
        }

        var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
        {
            return hostPath!;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (dir.Length == 0)
            {
                continue;
            }

            try
            {
                var candidate = Path.Combine(dir.Trim('"'), ToolName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            catch (ArgumentException)
            {
                // An invalid PATH entry: skip it.
            }
        }

        return ToolName;
    }

    protected override string GenerateCommandLineCommands()
    {
        var builder = new CommandLineBuilder();
        builder.AppendSwitch("exec");
        builder.AppendFileNameIfNotNull(ToolAssembly);
        builder.AppendSwitch(Command);
        return builder.ToString();
    }

    /// <summary>One argument per line, unquoted, as <c>prodigy-build</c> reads <c>@file</c>.</summary>
    protected override string GenerateResponseFileCommands()
    {
        var text = new StringBuilder();
        foreach (var argument in BuildArguments())
        {
            if (argument.IndexOf('\n') >= 0 || argument.IndexOf('\r') >= 0)
            {
                throw new ArgumentException("An argument to prodigy-build cannot contain a line break: " + argument);
            }

            text.Append(argument).Append('\n');
        }

        return text.ToString();
    }

    protected override string GetResponseFileSwitch(string responseFilePath) => "\"@" + responseFilePath + "\"";

    protected override void LogToolCommand(string message)
    {
        Log.LogMessage(MessageImportance.Normal, "{0} {1}", ToolDisplayName, Command);
        Log.LogMessage(MessageImportance.Low, "{0}", message);
    }

    protected override Process StartToolProcess(Process proc)
    {
        var started = base.StartToolProcess(proc);
        lock (_processLock)
        {
            _process = started;
        }

        return started;
    }

    /// <summary>Streams one line of the tool's output into the log.</summary>
    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance) =>
        LogToolLine(singleLine, messageImportance);

    internal void LogToolLine(string singleLine, MessageImportance messageImportance)
    {
        var canonical = CanonicalLine.TryParse(singleLine, ToolDisplayName, "Prodigy.Build.Tool");
        if (canonical is null)
        {
            Log.LogMessage(messageImportance, "{0}", singleLine);
            return;
        }

        if (canonical.IsError)
        {
            Log.LogError(canonical.Subcategory, canonical.Code, null, canonical.File, canonical.Line, canonical.Column, canonical.EndLine, canonical.EndColumn, "{0}", canonical.Text);
        }
        else
        {
            Log.LogWarning(canonical.Subcategory, canonical.Code, null, canonical.File, canonical.Line, canonical.Column, canonical.EndLine, canonical.EndColumn, "{0}", canonical.Text);
        }
    }

    protected override bool HandleTaskExecutionErrors()
    {
        if (_cancelRequested || Log.HasLoggedErrors)
        {
            // Cancelled, or the tool reported its own errors: they are the message.
            return false;
        }

        Log.LogError(null, "PRD1003", null, null, 0, 0, 0, 0,
            "{0} {1} failed with exit code {2} without reporting an error; see the messages above.", ToolDisplayName, Command, ExitCode);
        return false;
    }

    /// <summary>
    /// Asks the tool to stop (SIGINT, as Ctrl+C would, where the platform allows), and kills it after
    /// <see cref="CancelGraceSeconds"/> if it is still running.
    /// </summary>
    public override void Cancel()
    {
        _cancelRequested = true;
        _nested?.Cancel();
        Process? process;
        lock (_processLock)
        {
            process = _process;
        }

        if (process is not null && CancelGraceSeconds > 0 && TryInterrupt(process))
        {
            _cancelTimer = new Timer(_ => base.Cancel(), null, CancelGraceSeconds * 1000, System.Threading.Timeout.Infinite);
            return;
        }

        base.Cancel();
    }

    private static bool TryInterrupt(Process process)
    {
        try
        {
            if (process.HasExited || RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return false;
            }

            return NativeMethods.kill(process.Id, NativeMethods.SIGINT) == 0;
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException or NotSupportedException)
        {
            return false;
        }
    }

    private static class NativeMethods
    {
        internal const int SIGINT = 2;

        [DllImport("libc", SetLastError = true)]
        internal static extern int kill(int pid, int sig);
    }
}
