namespace Prodigy.Build.Tool;

/// <summary>An option a command accepts: <c>--name value</c> (repeatable when <paramref name="Repeatable"/>), or a flag without value.</summary>
public sealed record OptionSpec(string Name, bool TakesValue, string Help, bool Repeatable = false);

/// <summary>Parsed <c>--name value</c> / <c>--name=value</c> / <c>--flag</c> options.</summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _lists = new(StringComparer.Ordinal);

    public static ParsedArguments Parse(ReadOnlySpan<string> args, IReadOnlyList<OptionSpec> options)
    {
        var result = new ParsedArguments();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                result._values["help"] = null;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{arg}'");
            }

            var name = arg[2..];
            string? inlineValue = null;
            var equals = name.IndexOf('=');
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }

            var spec = options.FirstOrDefault(o => o.Name == name)
                ?? throw new UsageException($"unknown option '--{name}'");
            if (spec.TakesValue)
            {
                if (inlineValue is null)
                {
                    if (i + 1 >= args.Length)
                    {
                        throw new UsageException($"option '--{name}' needs a value");
                    }

                    inlineValue = args[++i];
                }

                result._values[name] = inlineValue;
                if (!result._lists.TryGetValue(name, out var list))
                {
                    result._lists[name] = list = [];
                }

                if (!spec.Repeatable && list.Count > 0)
                {
                    throw new UsageException($"option '--{name}' given twice");
                }

                list.Add(inlineValue);
            }
            else
            {
                if (inlineValue is not null)
                {
                    throw new UsageException($"option '--{name}' takes no value");
                }

                result._values[name] = null;
            }
        }

        return result;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value : null;

    public IReadOnlyList<string> GetAll(string name) => _lists.TryGetValue(name, out var list) ? list : [];
}
