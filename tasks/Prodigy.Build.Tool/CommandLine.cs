using Prodigy.Build.Core.CommandLine;
using Prodigy.Build.Tool.Commands;

namespace Prodigy.Build.Tool;

/// <summary>
/// <c>prodigy-build</c>'s entry point. Errors are printed in MSBuild's canonical form
/// (<c>file(line,col): error PRD2xxx: message</c>) so that the SDK's tasks turn them into build errors.
/// </summary>
public static class CommandLine
{
    public const string ToolName = "prodigy-build";

    private static readonly IReadOnlyDictionary<string, ICommand> Commands = new ICommand[]
    {
        new TokenizeCommand(),
        new DataToSpacyCommand(),
        new SpacyConfigCommand(),
        new DbOutCommand(),
        new StatsCommand(),
        new DbDigestCommand(),
    }.ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>Runs one command; returns the process exit code (0 success, 1 failure, 2 usage error).</summary>
    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        try
        {
            args = ResponseFiles.Expand(args);
        }
        catch (ResponseFileNotFoundException e)
        {
            await stderr.WriteLineAsync($"{ToolName}: error PRD2000: {e.Message}");
            return 2;
        }

        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await stdout.WriteLineAsync(Usage());
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] is "--version")
        {
            await stdout.WriteLineAsync(typeof(CommandLine).Assembly.GetName().Version?.ToString());
            return 0;
        }

        if (!Commands.TryGetValue(args[0], out var command))
        {
            await stderr.WriteLineAsync($"{ToolName}: error PRD2000: unknown command '{args[0]}'. Commands: {string.Join(", ", Commands.Keys)}. Run '{ToolName} --help'.");
            return 2;
        }

        ParsedArguments parsed;
        try
        {
            parsed = ParsedArguments.Parse(args.AsSpan(1), command.Options);
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"{ToolName}: error PRD2000: {args[0]}: {e.Message}\n{command.Usage}");
            return 2;
        }

        if (parsed.Has("help"))
        {
            await stdout.WriteLineAsync(command.Usage);
            return 0;
        }

        try
        {
            return await command.RunAsync(parsed, stdin, stdout, stderr, cancellationToken);
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"{ToolName}: error PRD2000: {args[0]}: {e.Message}\n{command.Usage}");
            return 2;
        }
        catch (ToolException e)
        {
            // Canonical error lines go to standard output too, where MSBuild's ToolTask reads them.
            await stdout.FlushAsync(cancellationToken);
            await stderr.WriteLineAsync(e.Canonical);
            return 1;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync($"{ToolName}: cancelled.");
            return 1;
        }
    }

    private static string Usage() =>
        $"""
        {ToolName}: Prodigy annotations to spaCy corpora and models, without Python.

        Usage: {ToolName} <command> [options]

        Commands:
        {string.Join("\n", Commands.Values.Select(c => $"  {c.Name,-12} {c.Summary}"))}

        Run '{ToolName} <command> --help' for a command's options.
        """;
}

/// <summary>A failure to report as an MSBuild-style error line.</summary>
public sealed class ToolException(string code, string message, string? file = null, int line = 0, int column = 0) : Exception(message)
{
    public string Code { get; } = code;

    public string Canonical
    {
        get
        {
            var origin = file is null ? CommandLine.ToolName
                : line > 0 ? $"{file}({line},{Math.Max(column, 1)})"
                : file;
            return $"{origin}: error {Code}: {Message}";
        }
    }
}

/// <summary>Bad command-line usage.</summary>
public sealed class UsageException(string message) : Exception(message);
