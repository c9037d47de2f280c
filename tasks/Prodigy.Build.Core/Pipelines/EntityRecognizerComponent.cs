namespace Prodigy.Build.Core.Pipelines;

/// <summary>Placeholder until the architecture is implemented.</summary>
public sealed class EntityRecognizerComponent
{
    public static IPipelineComponent Create(ComponentContext context) => throw context.Unsupported(context.ModelSection);
}
