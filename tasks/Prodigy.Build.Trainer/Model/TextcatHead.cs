using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// A text classifier: a bag of hashed n-grams with a weight per label (spaCy's TextCatBOW), plus,
/// in the ensemble, a linear layer over the mean of the token encoder's vectors. Exclusive classes
/// are a softmax, multilabel ones independent sigmoids.
/// </summary>
public sealed class TextcatHead : nn.Module
{
    private readonly EmbeddingBag _bow;
    private readonly Parameter _bias;
    private readonly Linear? _neural;

    public TextcatHead(string name, int ngramBuckets, int labels, int width, bool neural, bool exclusive) : base(name)
    {
        Exclusive = exclusive;
        _bow = nn.EmbeddingBag(ngramBuckets, labels, mode: EmbeddingBagMode.Sum);
        _bias = nn.Parameter(torch.zeros(labels));
        _neural = neural ? nn.Linear(width, labels) : null;
        RegisterComponents();
        using var noGrad = torch.no_grad();
        _bow.weight!.zero_();
    }

    public bool Exclusive { get; }

    /// <summary>
    /// <paramref name="ngrams"/>: flat bucket ids; <paramref name="offsets"/>: where each doc's ids start;
    /// <paramref name="tokens"/> [T, W] packed tokens for the neural part. Returns probabilities [B, labels].
    /// </summary>
    public Tensor Forward(Tensor ngrams, Tensor offsets, Tensor? tokens, TokenLayout layout)
    {
        using var scope = NewDisposeScope();
        var logits = _bow.forward(ngrams, offsets, null).Plus(_bias);
        if (_neural is not null && tokens is not null)
        {
            var sums = torch.zeros([layout.Docs, tokens.shape[1]], dtype: tokens.dtype, device: tokens.device).IndexAdd(0, layout.DocIndex, tokens);
            var counts = torch.tensor(layout.Lengths.Select(l => (float)Math.Max(l, 1)).ToArray(), [layout.Docs, 1], device: tokens.device);
            logits = logits.Plus(_neural.forward(sums / counts));
        }

        return (Exclusive ? logits.softmax(-1) : logits.sigmoid()).MoveToOuterDisposeScope();
    }
}
