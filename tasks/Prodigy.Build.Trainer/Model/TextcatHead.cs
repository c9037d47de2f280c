using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// A text classifier: a bag of hashed n-grams with a weight per label (spaCy's TextCatBOW), plus,
/// in the ensemble, a linear layer over the mean of the token encoder's vectors. Exclusive classes
/// are a softmax, multilabel ones independent sigmoids.
/// </summary>
public sealed class TextcatHead : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
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
    /// <paramref name="tokens"/> [B, L, W] and <paramref name="mask"/> [B, L] for the neural part.
    /// Returns probabilities [B, labels].
    /// </summary>
    public override Tensor forward(Tensor ngrams, Tensor offsets, Tensor tokens, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var logits = _bow.forward(ngrams, offsets, null) + _bias;
        if (_neural is not null)
        {
            var counts = mask.sum(1, keepdim: true).clamp_min(1);
            logits = logits + _neural.forward(tokens.sum(1) / counts);
        }

        return (Exclusive ? logits.softmax(-1) : logits.sigmoid()).MoveToOuterDisposeScope();
    }
}
