using System.Runtime.CompilerServices;
using Microsoft.Build.Locator;

namespace Prodigy.Build.Sdk.Tests;

/// <summary>Registers the .NET SDK's MSBuild once, before any test touches an MSBuild type.</summary>
internal static class MSBuildRegistration
{
    [ModuleInitializer]
    internal static void Register()
    {
        if (!MSBuildLocator.IsRegistered)
        {
            MSBuildLocator.RegisterDefaults();
        }
    }
}
