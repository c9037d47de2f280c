using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Prodigy.Build.Trainer.Model;

/// <summary>
/// The trainable pipeline: one shared token encoder and a head per component, as one module so that
/// one optimizer updates all of it. Builds the batch tensors, computes the losses and predicts.
/// </summary>
public sealed class Pipeline : nn.Module
{
    // Null when no component reads it: spaCy's efficiency textcat (bag of words) has no tok2vec.
    private readonly Tok2Vec? _tok2vec;
    private readonly NerHead? _ner;
    private readonly ModuleDict<TextcatHead> _textcats = new();
    private readonly SpancatHead? _spancat;
    private readonly FeatureExtractor _features;

    // An example's embedding rows and n-gram buckets never change: computed once, reused every epoch.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Example, long[][]> _rowCache = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Example, Dictionary<int, long[]>> _ngramCache = new();

    public Pipeline(TrainingSettings settings, PipelineLabels labels, Device device) : base("pipeline")
    {
        Settings = settings;
        Labels = labels;
        Device = device;
        _features = new FeatureExtractor(settings.Tok2Vec.Attrs, settings.Tok2Vec.Rows);
        _tok2vec = settings.Ner is not null || settings.Spancat is not null || settings.Textcats.Any(t => t.Neural)
            ? new Tok2Vec(settings.Tok2Vec, settings.Loop.Dropout)
            : null;
        if (settings.Ner is { } ner)
        {
            _ner = new NerHead(settings.Tok2Vec.Width, ner.HiddenWidth, ner.MaxoutPieces, Math.Max(labels.Ner.Count, 1));
        }

        foreach (var textcat in settings.Textcats)
        {
            var count = Math.Max(labels.Textcat.GetValueOrDefault(textcat.Component)?.Count ?? 0, 1);
            _textcats.Add(textcat.Component, new TextcatHead(textcat.Component, FeatureExtractor.NgramBuckets, count, settings.Tok2Vec.Width, textcat.Neural, textcat.Exclusive));
        }

        if (settings.Spancat is { } spancat)
        {
            _spancat = new SpancatHead(settings.Tok2Vec.Width, spancat.HiddenSize, Math.Max(labels.Spancat.Count, 1));
        }

        RegisterComponents();
        this.to(device);
    }

    public TrainingSettings Settings { get; }

    public PipelineLabels Labels { get; }

    public Device Device { get; }

    /// <summary>The components' names in pipeline order (for the loss columns).</summary>
    public IReadOnlyList<string> ComponentNames => Settings.Pipeline;

    /// <summary>
    /// Computes the losses of one batch and backpropagates them; returns each component's loss and
    /// whether any gradient was made (false when the batch has nothing to learn from). With a shared
    /// tok2vec component, its loss is spaCy's: the sum of the squares of the gradients its listeners
    /// send back.
    /// </summary>
    public (Dictionary<string, double> PerComponent, bool Learned) Backward(IReadOnlyList<Example> batch)
    {
        var (layout, rows) = Encode(batch);
        using var disposeLayout = layout;
        var tokens = _tok2vec?.Forward(rows, layout, dropout: training);
        // Each listener reads its own leaf copy of the encoder's output, as spaCy's listeners receive
        // the tok2vec's output: their gradients stay apart until they are added into the encoder.
        var listened = new List<Tensor>();
        Tensor? Listen()
        {
            if (tokens is null)
            {
                return null;
            }

            var leaf = tokens.detach().requires_grad_(true);
            listened.Add(leaf);
            return leaf;
        }

        var losses = new List<Tensor>();
        var perComponent = new Dictionary<string, double>(StringComparer.Ordinal);
        if (_ner is not null && NerLoss(batch, layout, Listen()!) is { } ner)
        {
            losses.Add(ner);
            perComponent[Settings.Ner!.Name] = ner.item<float>();
        }

        foreach (var textcat in Settings.Textcats)
        {
            if (TextcatLoss(textcat, batch, textcat.Neural ? Listen() : null, layout) is { } loss)
            {
                losses.Add(loss);
                perComponent[textcat.Component] = loss.item<float>();
            }
        }

        if (_spancat is not null && SpancatLoss(batch, layout, Listen()!) is { } spans)
        {
            losses.Add(spans);
            perComponent[Settings.Spancat!.Name] = spans.item<float>();
        }

        if (losses.Count == 0)
        {
            return (perComponent, false);
        }

        losses.Aggregate((a, b) => a.Plus(b)).backward();
        var gradients = listened.Where(l => l.grad is not null).Select(l => l.grad!).ToList();
        if (tokens is not null && gradients.Count > 0)
        {
            if (Settings.Tok2VecComponent is { } encoder)
            {
                perComponent[encoder] = gradients.Sum(g => g.Power(2).sum().item<float>());
            }

            tokens.backward([gradients.Aggregate((a, b) => a.Plus(b))]);
        }

        return (perComponent, true);
    }

    /// <summary>
    /// Predicts entities, categories and spans for each example, without dropout or gradients. It
    /// changes nothing in the module (no switch to eval mode and back), so that several threads may
    /// predict at once, and a prediction during training leaves the training mode as it was.
    /// </summary>
    public List<Prediction> Predict(IReadOnlyList<Example> examples, int batchSize = 64)
    {
        var predictions = new List<Prediction>(examples.Count);
        using var noGrad = torch.no_grad();
        for (var offset = 0; offset < examples.Count; offset += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = examples.Skip(offset).Take(batchSize).ToList();
            var (layout, rows) = Encode(batch);
            using var disposeLayout = layout;
            var tokens = _tok2vec?.Forward(rows, layout, dropout: false);
            var entities = _ner is null ? null : PredictEntities(batch, layout, tokens!);
            var cats = Settings.Textcats.ToDictionary(t => t.Component, t => PredictCats(t, batch, tokens, layout), StringComparer.Ordinal);
            var spans = _spancat is null ? null : PredictSpans(layout, tokens!);
            for (var i = 0; i < batch.Count; i++)
            {
                predictions.Add(new Prediction
                {
                    Entities = entities?[i] ?? [],
                    Cats = cats.ToDictionary(c => c.Key, c => c.Value[i], StringComparer.Ordinal),
                    Spans = spans is null
                        ? new Dictionary<string, IReadOnlyList<(LabeledSpan, double)>>()
                        : new Dictionary<string, IReadOnlyList<(LabeledSpan, double)>> { [Settings.Spancat!.SpansKey] = spans[i] },
                });
            }
        }

        return predictions;
    }

    // ----- tensors of a batch -----

    private (TokenLayout Layout, Tensor[] Rows) Encode(IReadOnlyList<Example> batch)
    {
        var layout = new TokenLayout(batch.Select(e => e.Length).ToArray(), Device);
        if (_tok2vec is null)
        {
            return (layout, []);
        }

        var attrs = Settings.Tok2Vec.Attrs.Count;
        var rows = new long[attrs][];
        for (var a = 0; a < attrs; a++)
        {
            rows[a] = new long[layout.Total * FeatureExtractor.HashesPerAttr];
        }

        for (var b = 0; b < batch.Count; b++)
        {
            var ids = _rowCache.GetValue(batch[b], _features.TokenRows);
            for (var a = 0; a < attrs; a++)
            {
                Array.Copy(ids[a], 0, rows[a], layout.Starts[b] * FeatureExtractor.HashesPerAttr, ids[a].Length);
            }
        }

        var tensors = rows.Select(r => torch.tensor(r, [layout.Total, FeatureExtractor.HashesPerAttr], device: Device)).ToArray();
        return (layout, tensors);
    }

    // ----- NER -----

    private Tensor? NerLoss(IReadOnlyList<Example> batch, TokenLayout layout, Tensor tokens)
    {
        var gold = new int[layout.Total];
        Array.Fill(gold, -1);
        var known = 0;
        var rejected = new List<(long Flat, long Tag)>();
        var labelIndex = LabelIndex(Labels.Ner);
        for (var b = 0; b < batch.Count; b++)
        {
            var example = batch[b];
            if (example.Entities is { } entities)
            {
                for (var t = 0; t < example.Length; t++)
                {
                    if (!example.EntityMissing![t])
                    {
                        gold[layout.Starts[b] + t] = Biluo.Outside;
                        known++;
                    }
                }

                foreach (var entity in entities)
                {
                    if (!labelIndex.TryGetValue(entity.Label, out var label))
                    {
                        continue;
                    }

                    for (var t = entity.Start; t < entity.End; t++)
                    {
                        gold[layout.Starts[b] + t] = Biluo.TagOf(t, entity.Start, entity.End, label);
                    }
                }
            }

            foreach (var entity in example.IncorrectEntities)
            {
                if (labelIndex.TryGetValue(entity.Label, out var label) && entity.End <= example.Length)
                {
                    for (var t = entity.Start; t < entity.End; t++)
                    {
                        rejected.Add((layout.Starts[b] + t, Biluo.TagOf(t, entity.Start, entity.End, label)));
                    }
                }
            }
        }

        if (known == 0 && rejected.Count == 0)
        {
            return null;
        }

        var scores = _ner!.Forward(tokens, layout);
        Tensor? loss = null;
        if (known > 0)
        {
            loss = CrfLoss(scores, gold, layout, batch.Count);
        }

        if (rejected.Count > 0)
        {
            // A rejected suggestion: the span is not an entity of that label. Push down the
            // probability of each of its tokens having the tag the entity would give it.
            var probabilities = scores.softmax(-1);
            var picked = probabilities[torch.tensor(rejected.Select(r => r.Flat).ToArray(), device: Device), torch.tensor(rejected.Select(r => r.Tag).ToArray(), device: Device)];
            var rejectLoss = picked.SubtractedFrom(1).ClampMin(1e-6).log().sum().DividedBy(-batch.Count);
            loss = loss is null ? rejectLoss : loss.Plus(rejectLoss);
        }

        return loss;
    }

    /// <summary>
    /// The CRF's negative log-likelihood of the annotation, as a tensor whose value is the loss and
    /// whose gradient (computed by forward-backward on the CPU) reaches the tag and transition scores.
    /// </summary>
    private Tensor CrfLoss(Tensor scores, int[] gold, TokenLayout layout, int batchSize)
    {
        var tags = (int)scores.shape[1];
        var emissions = scores.detach().cpu().data<float>().ToArray();
        var transitions = _ner!.Transitions.detach().cpu().data<float>().ToArray();
        var emissionGradient = new float[emissions.Length];
        var scale = 1f / batchSize;
        // Forward-backward of the documents in parallel; their losses and gradients are then added in
        // document order, so that the sums (and the trained model) do not depend on scheduling.
        var solutions = new BiluoCrf.Solution?[layout.Docs];
        Parallel.For(0, layout.Docs, b =>
        {
            var length = layout.Lengths[b];
            var docGold = gold.AsSpan(layout.Starts[b], length);
            if (docGold.IndexOfAnyExcept(-1) >= 0)
            {
                solutions[b] = BiluoCrf.Solve(emissions.AsSpan(layout.Starts[b] * tags, length * tags), docGold, length, tags, transitions);
            }
        });

        var gradients = new BiluoCrf.Gradients(tags);
        for (var b = 0; b < layout.Docs; b++)
        {
            var start = layout.Starts[b] * tags;
            var size = layout.Lengths[b] * tags;
            solutions[b]?.AddGradients(emissionGradient.AsSpan(start, size), gradients, scale);
        }

        var surrogate = (scores * torch.tensor(emissionGradient, [layout.Total, tags], device: Device)).sum()
            .Plus((_ner.Transitions * torch.tensor(gradients.Transitions.Select(g => (float)g).ToArray(), [tags, tags], device: Device)).sum());
        // Value of the loss, gradient of the surrogate.
        return surrogate.Minus(surrogate.detach()).Plus(gradients.Loss);
    }

    private List<IReadOnlyList<LabeledSpan>> PredictEntities(IReadOnlyList<Example> batch, TokenLayout layout, Tensor tokens)
    {
        var tags = Biluo.TagCount(Math.Max(Labels.Ner.Count, 1));
        var all = _ner!.Forward(tokens, layout).cpu().data<float>().ToArray();
        var transitions = _ner.Transitions.detach().cpu().data<float>().ToArray();
        var lengths = layout.Lengths;
        var result = new List<IReadOnlyList<LabeledSpan>>(batch.Count);
        for (var b = 0; b < batch.Count; b++)
        {
            result.Add(Labels.Ner.Count == 0
                ? []
                : BiluoCrf.Decode(all.AsSpan(layout.Starts[b] * tags, lengths[b] * tags), lengths[b], tags, transitions)
                    .Select(e => new LabeledSpan(e.Start, e.End, Labels.Ner[e.Label])).ToList());
        }

        return result;
    }

    // ----- text classification -----

    private (Tensor Ngrams, Tensor Offsets) Ngrams(TextcatSettings settings, IReadOnlyList<Example> batch)
    {
        var ids = new List<long>();
        var offsets = new long[batch.Count];
        for (var b = 0; b < batch.Count; b++)
        {
            offsets[b] = ids.Count;
            var byLength = _ngramCache.GetOrCreateValue(batch[b]);
            lock (byLength)
            {
                if (!byLength.TryGetValue(settings.NgramSize, out var rows))
                {
                    byLength[settings.NgramSize] = rows = FeatureExtractor.NgramRows(batch[b], settings.NgramSize);
                }

                ids.AddRange(rows);
            }
        }

        return (torch.tensor(ids.ToArray(), device: Device), torch.tensor(offsets, device: Device));
    }

    private Tensor? TextcatLoss(TextcatSettings settings, IReadOnlyList<Example> batch, Tensor? tokens, TokenLayout layout)
    {
        var labels = Labels.Textcat.GetValueOrDefault(settings.Component) ?? [];
        if (labels.Count == 0)
        {
            return null;
        }

        var truth = new float[batch.Count * labels.Count];
        var known = new float[batch.Count * labels.Count];
        var any = false;
        for (var b = 0; b < batch.Count; b++)
        {
            for (var l = 0; l < labels.Count; l++)
            {
                if (batch[b].Cats.TryGetValue(labels[l], out var value))
                {
                    truth[(b * labels.Count) + l] = (float)value;
                    known[(b * labels.Count) + l] = 1;
                    any = true;
                }
            }
        }

        if (!any)
        {
            return null;
        }

        var (ngrams, offsets) = Ngrams(settings, batch);
        var probabilities = _textcats[settings.Component].Forward(ngrams, offsets, tokens, layout);
        var knownMask = torch.tensor(known, [batch.Count, labels.Count], device: Device);
        // Missing labels (not annotated) give no signal, as in spaCy's textcat loss.
        // spaCy's textcat loss: the squared error of the probabilities (its gradient is scores - truths).
        // Measured against cross-entropy on the baselines: higher scores for all three textcat runs.
        var target = torch.tensor(truth, [batch.Count, labels.Count], device: Device);
        var loss = probabilities.Minus(target).Power(2);
        return (loss * knownMask).sum().DividedBy(batch.Count);
    }

    private List<IReadOnlyDictionary<string, double>> PredictCats(TextcatSettings settings, IReadOnlyList<Example> batch, Tensor? tokens, TokenLayout layout)
    {
        var labels = Labels.Textcat.GetValueOrDefault(settings.Component) ?? [];
        var result = new List<IReadOnlyDictionary<string, double>>(batch.Count);
        if (labels.Count == 0)
        {
            result.AddRange(batch.Select(_ => (IReadOnlyDictionary<string, double>)new Dictionary<string, double>()));
            return result;
        }

        var (ngrams, offsets) = Ngrams(settings, batch);
        var probabilities = _textcats[settings.Component].Forward(ngrams, offsets, tokens, layout).cpu().data<float>().ToArray();
        for (var b = 0; b < batch.Count; b++)
        {
            var cats = new Dictionary<string, double>(StringComparer.Ordinal);
            for (var l = 0; l < labels.Count; l++)
            {
                cats[labels[l]] = probabilities[(b * labels.Count) + l];
            }

            result.Add(cats);
        }

        return result;
    }

    // ----- spancat -----

    private Tensor? SpancatLoss(IReadOnlyList<Example> batch, TokenLayout layout, Tensor tokens)
    {
        var settings = Settings.Spancat!;
        if (Labels.Spancat.Count == 0 || !batch.Any(e => e.SpanGroups.ContainsKey(settings.SpansKey)))
        {
            return null;
        }

        var (vectors, spans) = SpancatHead.Suggest(tokens, layout, settings.SuggesterSizes);
        var labelIndex = LabelIndex(Labels.Spancat);
        var truth = new float[spans.Count * Labels.Spancat.Count];
        var annotated = new float[spans.Count];
        var goldByDoc = batch.Select(e => e.SpanGroups.TryGetValue(settings.SpansKey, out var group)
            ? group.Where(s => labelIndex.ContainsKey(s.Label)).ToLookup(s => (s.Start, s.End), s => labelIndex[s.Label])
            : null).ToList();
        for (var s = 0; s < spans.Count; s++)
        {
            var (doc, start, end) = spans[s];
            if (goldByDoc[doc] is not { } gold)
            {
                continue;
            }

            annotated[s] = 1;
            foreach (var label in gold[(start, end)])
            {
                truth[(s * Labels.Spancat.Count) + label] = 1;
            }
        }

        var probabilities = _spancat!.Forward(vectors);
        var loss = nn.functional.binary_cross_entropy(probabilities.ClampTo(1e-6, 1 - 1e-6), torch.tensor(truth, [spans.Count, Labels.Spancat.Count], device: Device), reduction: nn.Reduction.None);
        return (loss * torch.tensor(annotated, [spans.Count, 1], device: Device)).sum().DividedBy(batch.Count);
    }

    private List<IReadOnlyList<(LabeledSpan, double)>> PredictSpans(TokenLayout layout, Tensor tokens)
    {
        var settings = Settings.Spancat!;
        var result = layout.Lengths.Select(_ => new List<(LabeledSpan, double)>()).ToList();
        if (Labels.Spancat.Count == 0)
        {
            return [.. result];
        }

        var (vectors, spans) = SpancatHead.Suggest(tokens, layout, settings.SuggesterSizes);
        if (spans.Count == 0)
        {
            return [.. result];
        }

        var probabilities = _spancat!.Forward(vectors).cpu().data<float>().ToArray();
        var labels = Labels.Spancat.Count;
        for (var s = 0; s < spans.Count; s++)
        {
            var (doc, start, end) = spans[s];
            var candidates = Enumerable.Range(0, labels)
                .Select(l => (Label: l, Score: (double)probabilities[(s * labels) + l]))
                .Where(c => c.Score >= settings.Threshold)
                .OrderByDescending(c => c.Score)
                .Take(settings.MaxPositive ?? labels);
            foreach (var (label, score) in candidates)
            {
                result[doc].Add((new LabeledSpan(start, end, Labels.Spancat[label]), score));
            }
        }

        return [.. result.Select(r => (IReadOnlyList<(LabeledSpan, double)>)r.OrderBy(x => x.Item1.Start).ThenBy(x => x.Item1.End).ThenBy(x => x.Item1.Label, StringComparer.Ordinal).ToList())];
    }

    private static Dictionary<string, int> LabelIndex(IReadOnlyList<string> labels) =>
        labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
}
