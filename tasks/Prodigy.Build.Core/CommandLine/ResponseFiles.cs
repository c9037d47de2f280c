namespace Prodigy.Build.Core.CommandLine;

/// <summary>
/// The <c>@file</c> arguments of both command-line tools: each is replaced by the file's lines (one
/// argument per line, blank lines skipped), the response files the SDK's tasks write, with no quoting
/// to get wrong. One implementation so that <c>prodigy-build</c> and <c>prodigy-build-train</c> agree.
/// </summary>
public static class ResponseFiles
{
    /// <summary>The arguments with every <c>@file</c> expanded; a missing file is a <see cref="ResponseFileNotFoundException"/>.</summary>
    public static string[] Expand(IEnumerable<string> args)
    {
        var result = new List<string>();
        foreach (var arg in args)
        {
            if (arg.Length > 1 && arg[0] == '@')
            {
                var path = arg[1..];
                if (!File.Exists(path))
                {
                    // An error, not the literal argument: "@args.rsp" passed on as an option would fail
                    // later with a message about an unknown argument that hides the real cause.
                    throw new ResponseFileNotFoundException(path);
                }

                result.AddRange(File.ReadAllLines(path).Where(l => l.Length > 0));
            }
            else
            {
                result.Add(arg);
            }
        }

        return [.. result];
    }
}

/// <summary>An <c>@file</c> argument whose file does not exist.</summary>
public sealed class ResponseFileNotFoundException(string path)
    : Exception($"response file '{path}' not found (arguments starting with @ name a file of arguments, one per line)")
{
    /// <summary>The path after the <c>@</c>.</summary>
    public string Path { get; } = path;
}
