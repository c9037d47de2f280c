namespace Prodigy.Build.Sdk.Tests;

/// <summary>The samples build with the real tool (outputs go to a temp folder, not into the repository).</summary>
public sealed class SampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-sdk-samples-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("ner-fashion/NerFashion.csproj", "ner")]
    [InlineData("ner-textcat/NerTextcat.csproj", "ner,textcat")]
    public void A_sample_builds_its_corpus(string project, string components)
    {
        var outcome = ProjectBuilder.BuildProject(
            Path.Combine(TestPaths.RepoRoot, "samples", project),
            globalProperties: new Dictionary<string, string>
            {
                ["BaseOutputPath"] = Path.Combine(_dir, "bin") + Path.DirectorySeparatorChar,
                ["BaseIntermediateOutputPath"] = Path.Combine(_dir, "obj") + Path.DirectorySeparatorChar,
                ["ProdigySamplesBuildRepo"] = "false",
                ["ProdigyTasksAssembly"] = TestPaths.TasksAssembly,
                ["ProdigyToolPath"] = TestPaths.Tool,
            }).ShouldSucceed();

        var corpus = Path.Combine(_dir, "bin", "Debug", "corpus");
        Assert.True(new FileInfo(Path.Combine(corpus, "train.spacy")).Length > 0, outcome.Log);
        Assert.True(new FileInfo(Path.Combine(corpus, "dev.spacy")).Length > 0, outcome.Log);
        foreach (var component in components.Split(','))
        {
            Assert.True(File.Exists(Path.Combine(corpus, "labels", component + ".json")), outcome.Log);
        }

        Assert.Empty(outcome.Warnings);
    }
}
