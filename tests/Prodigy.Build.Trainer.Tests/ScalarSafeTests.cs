using Prodigy.Build.Trainer.Model;
using TorchSharp;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// TorchSharp 0.107's implicit Scalars can be finalized during the native call when another thread
/// triggers a GC (with `a + b` and `c * 0.5` this loop fails within a second: "Expected false to be
/// true ... Scalar.h"); the ScalarSafe helpers the training code uses keep them alive.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ScalarSafeTests(TorchRuntimeFixture fixture)
{
    [Fact]
    public void Arithmetic_with_numbers_survives_collections_started_by_other_threads()
    {
        Assert.NotNull(fixture.Info);
        var stop = false;
        var allocator = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                _ = new byte[1 << 16];
            }
        });
        allocator.Start();
        using var a = torch.ones(4);
        using var b = torch.ones(4);
        try
        {
            for (var i = 0; i < 300_000; i++)
            {
                using var sum = a.Plus(b);
                using var half = sum.Times(0.5);
                using var clipped = half.ClampTo(-20, 20);
                using var summed = torch.zeros(4).IndexAdd(0, torch.zeros(4, torch.int64), clipped);
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            allocator.Join();
        }

        using var check = a.Plus(b).Times(0.5);
        Assert.Equal(1f, check[0].item<float>());
    }
}
