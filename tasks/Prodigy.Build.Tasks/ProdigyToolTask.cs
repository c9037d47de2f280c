using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Prodigy.Build.Tasks;

/// <summary>
/// Base of the tasks that run one <c>prodigy-build</c> command out of process:
/// <c>dotnet exec &lt;tool dll&gt; &lt;command&gt; @&lt;response file&gt;</c>. The tool's output is streamed
/// into the build log line by line; only lines in canonical form become errors and warnings.
/// </summary>
public abstract class ProdigyToolTask : ToolTask
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

    public override bool Execute()
    {
        if (TimeoutSeconds > 0)
        {
            Timeout = checked(TimeoutSeconds * 1000);
        }

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
