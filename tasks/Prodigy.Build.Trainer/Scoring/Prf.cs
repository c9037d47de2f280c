namespace Prodigy.Build.Trainer.Scoring;

/// <summary>spaCy's PRFScore: counts, and precision, recall and F in spaCy's exact arithmetic.</summary>
public sealed class Prf
{
    public int Tp { get; set; }

    public int Fp { get; set; }

    public int Fn { get; set; }

    public int Count => Tp + Fp + Fn;

    public double Precision => Tp / ((double)(Tp + Fp) + 1e-100);

    public double Recall => Tp / ((double)(Tp + Fn) + 1e-100);

    public double F
    {
        get
        {
            var p = Precision;
            var r = Recall;
            return 2 * (p * r / (p + r + 1e-100));
        }
    }

    public void Add(Prf other)
    {
        Tp += other.Tp;
        Fp += other.Fp;
        Fn += other.Fn;
    }

    /// <summary>Compares sets: tp = |cand ∩ gold|, fp = |cand − gold|, fn = |gold − cand|.</summary>
    public void ScoreSet<T>(ISet<T> candidates, ISet<T> gold)
    {
        var both = candidates.Count(gold.Contains);
        Tp += both;
        Fp += candidates.Count - both;
        Fn += gold.Count - both;
    }

    public PrfValues Values => new(Precision, Recall, F);
}

/// <summary>A <c>{"p", "r", "f"}</c> entry of a <c>*_per_type</c> table.</summary>
public readonly record struct PrfValues(double P, double R, double F);
