using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Tests.Shared;

internal sealed partial class ServerTestDatabase
{
    /// <summary>A fresh database on the test server of <paramref name="kind"/>; skips the test (saying which variable it needs) when no server was started.</summary>
    public static ServerTestDatabase ForTest(ProdigyServerKind kind)
    {
        var admin = Environment.GetEnvironmentVariable(Variable(kind));
        Skip.If(string.IsNullOrEmpty(admin), $"no {kind} server: {Variable(kind)} is not set (.ci/run starts one with .ci/database-servers)");
        return Create(kind, admin!);
    }
}
