using System.Collections.Concurrent;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Native;
using Prodigy.Build.Trainer.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>Starts TorchSharp once for the test process, through <see cref="TorchRuntime"/>, with its own (fresh) cache.</summary>
public sealed class TorchRuntimeFixture : IDisposable
{
    public TorchRuntimeFixture()
    {
        CacheDirectory = Path.Combine(Path.GetTempPath(), "prodigy-trainer-tests-" + Guid.NewGuid().ToString("N"));
        Info = TorchRuntime.Initialize(TorchDevice.Cpu, new TorchRuntimeOptions { NativeCacheDirectory = CacheDirectory, Log = Log.Enqueue });
    }

    public string CacheDirectory { get; }

    public TorchRuntimeInfo Info { get; }

    public ConcurrentQueue<string> Log { get; } = new();

    // The loaded copy stays mapped; Linux lets it go from the folder all the same.
    public void Dispose() => Directory.Delete(CacheDirectory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class TorchCollection : ICollectionFixture<TorchRuntimeFixture>
{
    public const string Name = "Torch";
}

[Collection(TorchCollection.Name)]
public class TorchRuntimeTests(TorchRuntimeFixture fixture, ITestOutputHelper output)
{
    [SkippableFact]
    public void Initialize_PatchesExactlyWhenTheSystemLibStdCxxLacksAVersion_AndLoadsTheCopy()
    {
        foreach (var line in fixture.Log)
            output.WriteLine(line);
        Assert.Equal("cpu", fixture.Info.BuildBackend);
        Skip.IfNot(OperatingSystem.IsLinux(), "the libstdc++ check and the patch are Linux's");

        var libStdCxx = LoadedLibraries.Locate("libstdc++.so.6", "_ZNSt8ios_base4InitC1Ev")!;
        var systemLacksVersion = !ElfImage.Read(libStdCxx).VersionDefinitions.Contains("GLIBCXX_3.4.32");
        var mapped = File.ReadAllLines("/proc/self/maps");
        if (systemLacksVersion)
        {
            Assert.Equal(["GLIBCXX_3.4.32"], fixture.Info.WeakenedVersions);
            Assert.StartsWith(Path.GetFullPath(fixture.CacheDirectory), fixture.Info.LibTorchSharpPath);
            Assert.Contains(fixture.Log, line => line.StartsWith("libLibTorchSharp.so patched: system libstdc++ lacks GLIBCXX_3.4.32", StringComparison.Ordinal)
                && line.Contains(fixture.Info.LibTorchSharpPath!, StringComparison.Ordinal));
            Assert.Contains(mapped, line => line.EndsWith(" " + fixture.Info.LibTorchSharpPath, StringComparison.Ordinal));
            Assert.DoesNotContain(mapped, line => line.EndsWith(" " + fixture.Info.PatchedFrom, StringComparison.Ordinal));
        }
        else
        {
            Assert.Null(fixture.Info.LibTorchSharpPath);
            Assert.Empty(fixture.Log);
        }

        Assert.Equal(3f, ones(3).sum().item<float>());
    }

    [Fact]
    public void Our_optimizer_fits_a_linear_layer()
    {
        var losses = TrainLinearRegression(seed: 17, steps: 40);

        Assert.All(losses, loss => Assert.True(float.IsFinite(loss)));
        Assert.True(losses[^1] < losses[0] * 0.2f, $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void Training_twice_with_the_same_seed_and_our_optimizer_gives_bit_identical_losses()
    {
        var first = TrainLinearRegression(seed: 5, steps: 25);
        var second = TrainLinearRegression(seed: 5, steps: 25);
        var otherSeed = TrainLinearRegression(seed: 6, steps: 25);

        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), second.Select(BitConverter.SingleToInt32Bits));
        Assert.NotEqual(first.Select(BitConverter.SingleToInt32Bits), otherSeed.Select(BitConverter.SingleToInt32Bits));
    }

    [SkippableFact]
    public void Cuda_WithoutACudaBackend_SaysWhatToInstall()
    {
        Skip.If(cuda.is_available(), "a CUDA backend on a GPU machine: there is no error to check");

        var error = Assert.Throws<TorchBackendUnavailableException>(() => TorchRuntime.Initialize(TorchDevice.Cuda));

        Assert.Contains("ProdigyTorchBackend=cuda", error.Message);
        Assert.Contains("TorchSharp-cuda-linux", error.Message);
        Assert.Contains("TorchSharp-cuda-windows", error.Message);
    }

    [SkippableFact]
    public void PatchedCopy_IsWrittenOnce_ThenReused()
    {
        Skip.If(fixture.Info.PatchedFrom is null, "this system's libstdc++ needs no patch, so no patched copy is written");
        var original = fixture.Info.PatchedFrom!;
        var cache = Path.Combine(fixture.CacheDirectory, "reuse");
        var bytes = File.ReadAllBytes(original);

        var first = TorchRuntime.WritePatchedCopy(bytes, ["GLIBCXX_3.4.32"], cache);
        var written = File.GetLastWriteTimeUtc(first.Path);
        var second = TorchRuntime.WritePatchedCopy(bytes, ["GLIBCXX_3.4.32"], cache);

        Assert.False(first.Reused);
        Assert.True(second.Reused);
        Assert.Equal(first.Path, second.Path);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.Path));
        Assert.Equal(File.ReadAllBytes(fixture.Info.LibTorchSharpPath!), File.ReadAllBytes(first.Path));
    }

    /// <summary>Fits y = x·w + b on fixed random data with this trainer's Adam (spaCy's defaults but the rate); returns the loss before each step.</summary>
    private static float[] TrainLinearRegression(int seed, int steps)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        var inputs = randn(64, 4);
        var targets = inputs.matmul(tensor(new[] { 1.5f, -2f, 0.5f, 3f }).reshape(4, 1)) + 0.25f;
        using var model = nn.Linear(4, 1);
        var loop = new LoopSettings(Seed: seed, Dropout: 0, MaxEpochs: 0, MaxSteps: steps, Patience: 0, EvalFrequency: 200,
            LearnRate: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, L2: 0.01, L2IsWeightDecay: true, GradClip: 1.0,
            BatchStart: 100, BatchStop: 1000, BatchCompound: 1.001, BatchTolerance: 0.2, DiscardOversize: false);
        using var optimizer = new AdamOptimizer(model.parameters(), loop);

        var losses = new float[steps];
        for (var step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            var loss = nn.functional.mse_loss(model.forward(inputs), targets);
            loss.backward();
            optimizer.Step();
            losses[step] = loss.item<float>();
        }

        return losses;
    }
}
