using Prodigy.Build.Tool;

return await CommandLine.RunAsync(args, Console.In, Console.Out, Console.Error);
