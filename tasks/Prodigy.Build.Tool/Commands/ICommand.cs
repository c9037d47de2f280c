namespace Prodigy.Build.Tool.Commands;

/// <summary>One <c>prodigy-build</c> command.</summary>
public interface ICommand
{
    string Name { get; }

    string Summary { get; }

    string Usage { get; }

    IReadOnlyList<OptionSpec> Options { get; }

    Task<int> RunAsync(ParsedArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken);
}
