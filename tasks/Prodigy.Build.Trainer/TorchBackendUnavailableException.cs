namespace Prodigy.Build.Trainer;

/// <summary>A device was asked for that this trainer's TorchSharp backend or this machine cannot give.</summary>
public sealed class TorchBackendUnavailableException(string message) : Exception(message)
{
    internal static TorchBackendUnavailableException ForCuda(string buildBackend) => new(buildBackend == "cuda"
        ? "CUDA was requested, and this trainer has TorchSharp's CUDA backend, but torch.cuda.is_available() is false: " +
          "no NVIDIA GPU or driver is visible to this process (check nvidia-smi and CUDA_VISIBLE_DEVICES), or train on the CPU."
        : "CUDA was requested, but this trainer was built with TorchSharp's CPU backend (ProdigyTorchBackend=cpu, package TorchSharp-cpu), " +
          "so torch.cuda.is_available() is false. Build it with -p:ProdigyTorchBackend=cuda to get the CUDA backend " +
          "(package TorchSharp-cuda-linux on Linux, TorchSharp-cuda-windows on Windows; an NVIDIA driver is needed to run it), or train on the CPU.");
}
