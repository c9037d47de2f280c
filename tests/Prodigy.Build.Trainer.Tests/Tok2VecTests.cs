using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>Word dropout: in training a token sometimes loses its word identity, never its other features; never in evaluation.</summary>
[Collection(TorchCollection.Name)]
public class Tok2VecTests(TorchRuntimeFixture fixture)
{
    private const int Tokens = 2000;

    private readonly TorchRuntimeFixture _runtime = fixture;

    [Theory]
    [InlineData(true, 0.3)]
    [InlineData(false, 0.3)]
    [InlineData(true, 0.0)]
    public void WordIdentity_IsDroppedPerTokenAtTheDropoutRate_OnlyInTraining(bool training, double dropout)
    {
        Assert.NotNull(_runtime.Info);
        torch.random.manual_seed(3);
        var settings = new Tok2VecSettings(Width: 16, Depth: 1, WindowSize: 1, MaxoutPieces: 2, Attrs: ["NORM", "SHAPE"],
            Rows: [Tokens * FeatureExtractor.HashesPerAttr, Tokens * FeatureExtractor.HashesPerAttr], StaticVectorsRequested: false);
        using var encoder = new Tok2Vec(settings, dropout);
        // Every token its own rows in both tables, so a row's gradient tells whether that token's
        // embedding reached the output.
        var rows = torch.arange(Tokens * FeatureExtractor.HashesPerAttr, dtype: ScalarType.Int64).view(Tokens, FeatureExtractor.HashesPerAttr);
        using var layout = new TokenLayout([Tokens / 2, Tokens / 2], torch.CPU);
        // A random projection of the output: its plain sum would have no gradient through layer norm.
        var output = encoder.Forward([rows, rows], layout, dropout: training);
        (output * torch.randn_like(output)).sum().backward();

        var reached = encoder.parameters().Take(2)
            .Select(table => table.grad!.view(Tokens, FeatureExtractor.HashesPerAttr, -1).abs().sum([1, 2]).gt(0).sum().item<long>() / (double)Tokens)
            .ToArray();

        // SHAPE always reaches the output; NORM is lost for about `dropout` of the tokens when training.
        Assert.Equal(1.0, reached[1]);
        var expectedKept = training ? 1 - dropout : 1.0;
        Assert.InRange(reached[0], expectedKept - 0.04, expectedKept + 0.04);
    }
}
