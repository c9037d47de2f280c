using System.Globalization;
using System.Text;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Core.Text;
using Prodigy.Build.Core.Tokenization;

namespace Prodigy.Build.Core.Prodigy;

/// <summary>
/// Prodigy's <c>data-to-spacy</c> semantics: reads the declared JSONL exports, drops ignored tasks,
/// groups annotations of every dataset and component by <c>_input_hash</c>, gives each component its
/// own train/eval split (its Eval datasets, else a seeded share of its examples, split by input so
/// one input never lands on both sides), and merges what each split holds into one spaCy Doc per
/// input: entities (manual = complete, binary = partial with rejected spans in
/// <c>incorrect_spans</c>), categories (majority over conflicting answers) and span groups.
/// </summary>
public sealed class CorpusBuilder(ICorpusLog log)
{
    /// <summary>The span group spaCy's NER reads rejected binary suggestions from (incorrect_spans_key).</summary>
    public const string IncorrectSpansKey = "incorrect_spans";

    private const int MaxWarningsPerCode = 20;

    private readonly Dictionary<string, int> _warnings = new(StringComparer.Ordinal);

    private bool _evaluationOnly;

    private sealed class InputState(ProdigyTask first)
    {
        public ProdigyTask First { get; } = first;

        /// <summary>The first task of this input that carries tokens; its tokenization wins.</summary>
        public ProdigyTask? WithTokens { get; set; }
    }

    private sealed class NerAnnotation
    {
        public ProdigyTask? Manual { get; set; }

        public List<(ProdigySpan Span, ProdigyTask Task)> Accepted { get; } = [];

        public List<(ProdigySpan Span, ProdigyTask Task)> Rejected { get; } = [];

        public bool IsUsable => Manual is not null || Accepted.Count > 0 || Rejected.Count > 0;
    }

    private sealed class ComponentState(CorpusComponent component, string spansKey)
    {
        public CorpusComponent Component { get; } = component;

        public string SpansKey { get; } = spansKey;

        public bool HasEvalDatasets { get; set; }

        public List<int> TrainOrder { get; } = [];

        public List<int> EvalOrder { get; } = [];

        public HashSet<int> TrainSeen { get; } = [];

        public HashSet<int> EvalSeen { get; } = [];

        public Dictionary<int, NerAnnotation> Ner { get; } = [];

        /// <summary>Per input: category answers in order (label, value, whether an exclusive accept that implies 0.0 for the other labels).</summary>
        public Dictionary<int, List<(string Label, double Value, bool ExclusiveAccept)>> Cats { get; } = [];

        public Dictionary<int, ProdigyTask> SpanTasks { get; } = [];

        public SortedSet<string> Labels { get; } = new(StringComparer.Ordinal);

        public bool HasBinary { get; set; }

        public int Conflicts { get; set; }

        public int Ties { get; set; }

        public bool IsUsable(int input) => Component switch
        {
            CorpusComponent.Ner => Ner.TryGetValue(input, out var ner) && ner.IsUsable,
            CorpusComponent.Spancat => SpanTasks.ContainsKey(input),
            _ => Cats.TryGetValue(input, out var cats) && cats.Count > 0,
        };

        public HashSet<int> Train { get; } = [];

        public HashSet<int> Dev { get; } = [];

        public List<int> TrainList { get; } = [];

        public List<int> DevList { get; } = [];
    }

    public CorpusResult Build(CorpusRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Datasets.Count == 0)
        {
            throw new ProdigyDataException("PRD2016", "no datasets declared: add at least one NerDataset, TextcatDataset, TextcatMultilabelDataset or SpancatDataset (a Prodigy JSONL export).");
        }

        if (!(request.EvalSplit > 0 && request.EvalSplit < 1))
        {
            throw new ProdigyDataException("PRD2017", $"the evaluation split must be between 0 and 1 (exclusive), got {request.EvalSplit.ToString(CultureInfo.InvariantCulture)}; 0.2 holds out 20% of the examples.");
        }

        _evaluationOnly = request.EvaluationOnly;
        var spanKeys = request.Datasets.Where(d => d.Component == CorpusComponent.Spancat).Select(d => d.SpansKey).Distinct(StringComparer.Ordinal).ToList();
        if (spanKeys.Count > 1)
        {
            throw new ProdigyDataException("PRD2019", $"spancat datasets use different span keys ({string.Join(", ", spanKeys)}); one spancat component reads one key. Give every SpancatDataset the same SpansKey.");
        }

        // Built only when a task has no tokens: compiling spaCy's patterns costs a few hundred ms.
        var tokenizer = new Lazy<Tokenizer>(() => request.TokenizerRules is null
            ? Tokenizer.ForLanguage(request.Language)
            : new Tokenizer(TokenizerRules.Load(request.TokenizerRules)));
        if (request.TokenizerRules is not null || !TokenizerRules.BuiltInLanguages.Contains(request.Language))
        {
            _ = tokenizer.Value; // fail early on bad rules or an unknown language
        }

        var inputs = new Dictionary<int, InputState>();
        var components = new SortedDictionary<CorpusComponent, ComponentState>();
        foreach (var dataset in request.Datasets)
        {
            if (!components.TryGetValue(dataset.Component, out var state))
            {
                components[dataset.Component] = state = new ComponentState(dataset.Component, dataset.SpansKey);
            }

            state.HasEvalDatasets |= dataset.IsEval;
        }

        foreach (var dataset in request.Datasets)
        {
            ReadDataset(dataset, components[dataset.Component], inputs, cancellationToken);
        }

        log.Message($"Components: {string.Join(", ", components.Keys.Select(CorpusComponents.Name))}");
        log.Message($"Merging training and evaluation data for {components.Count} component{(components.Count == 1 ? "" : "s")}");
        foreach (var state in components.Values)
        {
            Split(state, request);
            var source = state.HasEvalDatasets ? "from datasets" : $"{(request.EvalSplit * 100).ToString("0.##", CultureInfo.InvariantCulture)}% split";
            log.Message($"  - [{CorpusComponents.Name(state.Component)}] Training: {state.TrainList.Count} | Evaluation: {state.DevList.Count} ({source})");
            if (!request.EvaluationOnly)
            {
                ValidateComponent(state);
            }
        }

        var trainDocs = BuildDocs(components.Values, inputs, tokenizer, dev: false, cancellationToken);
        var devDocs = BuildDocs(components.Values, inputs, tokenizer, dev: true, cancellationToken);
        log.Message($"Training: {trainDocs.Count} | Evaluation: {devDocs.Count}");
        log.Message("Labels: " + string.Join(" | ", components.Values.Select(c => $"{CorpusComponents.Name(c.Component)} ({c.Labels.Count})")));
        foreach (var state in components.Values.Where(c => c.Conflicts > 0))
        {
            var message = $"[{CorpusComponents.Name(state.Component)}] {state.Conflicts} label answer(s) had conflicting annotations: resolved by majority, {state.Ties} tie(s) dropped (the label is left missing on that example)";
            if (state.Ties > 0)
            {
                Warn("PRD2104", message);
            }
            else
            {
                log.Message(message);
            }
        }

        foreach (var (code, count) in _warnings.Where(w => w.Value > MaxWarningsPerCode))
        {
            log.Message($"{code}: {count - MaxWarningsPerCode} more warning(s) not shown ({count} in all)");
        }

        return new CorpusResult
        {
            TrainDocs = trainDocs,
            DevDocs = devDocs,
            Components = components.Values.Select(c => new ComponentSummary(
                c.Component, c.SpansKey, c.TrainList.Count, c.DevList.Count,
                c.HasEvalDatasets ? EvalSource.FromDatasets : EvalSource.Split, [.. c.Labels], c.HasBinary)).ToList(),
            WarningCounts = new Dictionary<string, int>(_warnings, StringComparer.Ordinal),
        };
    }

    private void Warn(string code, string message, string? file = null, int line = 0, int column = 0)
    {
        _warnings[code] = _warnings.TryGetValue(code, out var count) ? count + 1 : 1;
        if (_warnings[code] <= MaxWarningsPerCode)
        {
            log.Warning(code, message, file, line, column);
        }
    }

    private void ReadDataset(DatasetInput dataset, ComponentState state, Dictionary<int, InputState> inputs, CancellationToken cancellationToken)
    {
        if (dataset.Dataset is not null)
        {
            ReadDatabaseDataset(dataset, state, inputs, cancellationToken);
            return;
        }

        if (!File.Exists(dataset.Path))
        {
            throw new ProdigyDataException("PRD2010", $"the dataset file does not exist. Check the path of the {CorpusComponents.Name(dataset.Component)} dataset, or export it with 'prodigy db-out'.", dataset.Path);
        }

        var tasks = ReadTasks(ProdigyTaskReader.ReadLines(dataset.Path), dataset.Path, dataset, state, inputs, cancellationToken, out var ignored);
        if (tasks == 0)
        {
            throw new ProdigyDataException("PRD2010", "the dataset file is empty: it has no Prodigy tasks. Export annotations into it with 'prodigy db-out', or remove the item.", dataset.Path);
        }

        log.Message($"Read {dataset.Path}: {tasks} task(s), {ignored} ignored");
    }

    // A dataset in Prodigy's database: its examples in the order they were added, each parsed as a line
    // of a db-out export would be; problems point at the database file and the example's position.
    private void ReadDatabaseDataset(DatasetInput dataset, ComponentState state, Dictionary<int, InputState> inputs, CancellationToken cancellationToken)
    {
        using var database = dataset.Path.Length == 0
            ? ProdigyDatabase.Connect()
            : ProdigyDatabase.Open(System.IO.Path.GetFullPath(dataset.Path));
        var rows = database.ReadRows(dataset.Dataset!, cancellationToken).Select(r => new ProdigyTaskReader.RawLine(r.Position, r.Content));
        int tasks, ignored;
        try
        {
            tasks = ReadTasks(rows, database.Path, dataset, state, inputs, cancellationToken, out ignored);
        }
        catch (ProdigyDataException e) when (e.File == database.Path && e.Line > 0)
        {
            throw new ProdigyDataException(e.Code, $"dataset '{dataset.Dataset}', example {e.Line}: {e.Message}", e.File, e.Line, 1);
        }

        if (tasks == 0)
        {
            throw new ProdigyDataException("PRD2010", $"the dataset '{dataset.Dataset}' has no examples yet. Annotate into it, or remove the item.", database.Path);
        }

        log.Message($"Read {database.Path}#{dataset.Dataset}: {tasks} task(s), {ignored} ignored");
    }

    private int ReadTasks(IEnumerable<ProdigyTaskReader.RawLine> lines, string path, DatasetInput dataset, ComponentState state, Dictionary<int, InputState> inputs, CancellationToken cancellationToken, out int ignored)
    {
        var tasks = 0;
        ignored = 0;
        foreach (var batch in lines.Chunk(1024))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var task in ParseBatch(batch, path, cancellationToken))
            {
                tasks++;
                if (task.Answer == ProdigyAnswer.Ignore)
                {
                    ignored++;
                    continue;
                }

                if (!inputs.TryGetValue(task.InputHash, out var input))
                {
                    inputs[task.InputHash] = input = new InputState(task);
                }

                if (input.WithTokens is null && task.Tokens is not null)
                {
                    input.WithTokens = task;
                }

                if (_evaluationOnly && !Annotates(dataset.Component, task))
                {
                    continue;
                }

                var used = dataset.Component switch
                {
                    CorpusComponent.Ner => AddNer(state, task),
                    CorpusComponent.Spancat => AddSpans(state, task),
                    _ => AddCats(state, task),
                };

                if (!used)
                {
                    continue;
                }

                var (order, seen) = dataset.IsEval ? (state.EvalOrder, state.EvalSeen) : (state.TrainOrder, state.TrainSeen);
                if (seen.Add(task.InputHash))
                {
                    order.Add(task.InputHash);
                }
            }
        }

        return tasks;
    }

    /// <summary>
    /// Whether a task annotates a component, for a file that feeds several: categories are tasks with
    /// <c>options</c>, a classification view, or a <c>label</c> without <c>spans</c>; the other tasks
    /// with spans or tokens annotate NER (unless their view is spans_manual) and spancat (unless it is
    /// ner or ner_manual).
    /// </summary>
    public static bool Annotates(CorpusComponent component, ProdigyTask task)
    {
        var categories = task.Options is not null || task.ViewId is "classification" or "choice" || (task.Label is not null && task.Spans is null);
        var spans = !categories && (task.Spans is not null || task.Tokens is not null);
        return component switch
        {
            CorpusComponent.Ner => spans && task.ViewId is not "spans_manual",
            CorpusComponent.Spancat => spans && task.ViewId is not ("ner" or "ner_manual"),
            _ => categories,
        };
    }

    private readonly ThreadLocal<StringPool> _pools = new(() => new StringPool());

    // Lines are parsed on all cores; tasks come back in file order, and the first bad line (in
    // file order) is the error reported.
    private ProdigyTask[] ParseBatch(ProdigyTaskReader.RawLine[] batch, string path, CancellationToken cancellationToken)
    {
        var tasks = new ProdigyTask[batch.Length];
        var errors = new Exception?[batch.Length];
        Parallel.For(0, batch.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            try
            {
                tasks[i] = ProdigyTaskReader.Parse(batch[i], path, _pools.Value!);
            }
            catch (ProdigyDataException e)
            {
                errors[i] = e;
            }
        });

        foreach (var error in errors)
        {
            if (error is not null)
            {
                throw error;
            }
        }

        return tasks;
    }

    // Manual annotations (ner_manual, review, spans_manual, or spans without _view_id) are complete.
    // Binary ones are ner.teach's: view "ner", or, in exports without _view_id, spans that carry a
    // model's suggestion (their own answer, a score or a rank).
    private static bool IsManualNer(ProdigyTask task) => task.ViewId switch
    {
        "ner" => false,
        null => !(task.Spans ?? []).Any(s => s.Suggested),
        _ => true,
    };

    private bool AddNer(ComponentState state, ProdigyTask task)
    {
        if (!state.Ner.TryGetValue(task.InputHash, out var annotation))
        {
            state.Ner[task.InputHash] = annotation = new NerAnnotation();
        }

        if (IsManualNer(task))
        {
            if (task.Answer != ProdigyAnswer.Accept)
            {
                return annotation.IsUsable; // a rejected manual annotation carries no entities
            }

            if (annotation.Manual is null)
            {
                annotation.Manual = task;
                foreach (var span in task.Spans ?? [])
                {
                    state.Labels.Add(span.Label);
                }
            }
            else if (!SameSpans(annotation.Manual, task))
            {
                Warn("PRD2103", $"this input was annotated again with different entities; the first complete annotation ({Path.GetFileName(annotation.Manual.File)}:{annotation.Manual.Line}) is kept.", task.File, task.Line, 1);
            }

            return true;
        }

        // Binary (ner.teach style): a suggested span accepted or rejected; a span's own answer wins.
        state.HasBinary = true;
        foreach (var span in task.Spans ?? [])
        {
            switch (span.Answer ?? task.Answer)
            {
                case ProdigyAnswer.Accept:
                    annotation.Accepted.Add((span, task));
                    state.Labels.Add(span.Label);
                    break;
                case ProdigyAnswer.Reject:
                    annotation.Rejected.Add((span, task));
                    break;
            }
        }

        return annotation.IsUsable;
    }

    private static bool SameSpans(ProdigyTask a, ProdigyTask b) =>
        (a.Spans ?? []).Select(s => (s.Start, s.End, s.Label)).SequenceEqual((b.Spans ?? []).Select(s => (s.Start, s.End, s.Label)));

    private static bool AddSpans(ComponentState state, ProdigyTask task)
    {
        if (task.Answer != ProdigyAnswer.Accept)
        {
            return state.SpanTasks.ContainsKey(task.InputHash);
        }

        if (state.SpanTasks.TryAdd(task.InputHash, task))
        {
            foreach (var span in task.Spans ?? [])
            {
                state.Labels.Add(span.Label);
            }
        }

        return true;
    }

    private bool AddCats(ComponentState state, ProdigyTask task)
    {
        if (!state.Cats.TryGetValue(task.InputHash, out var answers))
        {
            state.Cats[task.InputHash] = answers = [];
        }

        if (task.Options is not null)
        {
            foreach (var option in task.Options)
            {
                state.Labels.Add(option);
            }

            // A rejected choice says that the options did not fit, not which one would: no signal.
            if (task.Answer == ProdigyAnswer.Accept)
            {
                var accepted = new HashSet<string>(task.Accept ?? [], StringComparer.Ordinal);
                foreach (var option in task.Options)
                {
                    answers.Add((option, accepted.Contains(option) ? 1.0 : 0.0, false));
                }
            }
        }
        else if (task.Label is not null)
        {
            state.Labels.Add(task.Label);
            var accept = task.Answer == ProdigyAnswer.Accept;
            answers.Add((task.Label, accept ? 1.0 : 0.0, accept && state.Component == CorpusComponent.Textcat));
        }
        else
        {
            Warn("PRD2105", "a text classification task has neither \"label\" nor \"options\"; it is skipped.", task.File, task.Line, 1);
        }

        return answers.Count > 0;
    }

    private void Split(ComponentState state, CorpusRequest request)
    {
        if (state.HasEvalDatasets)
        {
            foreach (var input in state.EvalOrder.Where(state.IsUsable))
            {
                state.Dev.Add(input);
                state.DevList.Add(input);
            }

            var overlap = 0;
            foreach (var input in state.TrainOrder.Where(state.IsUsable))
            {
                if (state.Dev.Contains(input))
                {
                    overlap++;
                    continue;
                }

                state.Train.Add(input);
                state.TrainList.Add(input);
            }

            if (overlap > 0)
            {
                Warn("PRD2106", $"[{CorpusComponents.Name(state.Component)}] {overlap} training example(s) are also in the evaluation datasets; they are used for evaluation only.");
            }

            return;
        }

        // Seeded split over the component's examples in first-occurrence order, as Python's
        // random.Random(seed).shuffle(range(n)) orders them; both parts keep file order.
        var examples = state.TrainOrder.Where(state.IsUsable).ToList();
        var indexes = Enumerable.Range(0, examples.Count).ToList();
        new PythonRandom(request.Seed).Shuffle(indexes);
        var devCount = (int)(examples.Count * request.EvalSplit);
        var devIndexes = new HashSet<int>(indexes.Take(devCount));
        for (var i = 0; i < examples.Count; i++)
        {
            var (set, list) = devIndexes.Contains(i) ? (state.Dev, state.DevList) : (state.Train, state.TrainList);
            set.Add(examples[i]);
            list.Add(examples[i]);
        }
    }

    private static void ValidateComponent(ComponentState state)
    {
        var name = CorpusComponents.Name(state.Component);
        if (state.TrainList.Count == 0)
        {
            throw new ProdigyDataException("PRD2018", $"[{name}] has no training examples (every usable example is in the evaluation data). Add training data or lower the evaluation split.");
        }

        if (state.Component == CorpusComponent.Textcat && state.Labels.Count < 2)
        {
            throw new ProdigyDataException("PRD2015",
                $"[textcat] has {state.Labels.Count} label(s) ({string.Join(", ", state.Labels)}), but exclusive text classification needs at least two (spaCy error E867). " +
                "For a yes/no label, declare the dataset as TextcatMultilabelDataset instead.");
        }
    }

    private List<SpacyDoc> BuildDocs(IEnumerable<ComponentState> components, Dictionary<int, InputState> inputs, Lazy<Tokenizer> tokenizer, bool dev, CancellationToken cancellationToken)
    {
        var states = components.ToList();
        var order = new List<int>();
        var added = new HashSet<int>();
        foreach (var state in states)
        {
            foreach (var input in dev ? state.DevList : state.TrainList)
            {
                if (added.Add(input))
                {
                    order.Add(input);
                }
            }
        }

        // Tokens (the tokenizer and the norms: the costly part) on all cores; annotations, which
        // may warn, in order so the log is the same on every run.
        var tokenized = new DocTokens[order.Count];
        Parallel.For(0, order.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => tokenized[i] = TokensOf(inputs[order[i]], tokenizer));
        var docs = new List<SpacyDoc>(order.Count);
        foreach (var inputHash in order)
        {
            var tokens = tokenized[docs.Count];
            var doc = new SpacyDoc(tokens.Words, tokens.Spaces, tokens.Norms);
            if (tokens.FirstIsNotSentStart)
            {
                // spaCy's tokenizer marks its first token as a sentence start unless a special case
                // matched across tokens replaced that token (It's, That's, ...): then none is marked.
                doc.SentStarts = new int[tokens.Words.Length];
            }

            foreach (var state in states)
            {
                if (!(dev ? state.Dev : state.Train).Contains(inputHash))
                {
                    continue;
                }

                switch (state.Component)
                {
                    case CorpusComponent.Ner:
                        ApplyNer(doc, tokens, state.Ner[inputHash]);
                        break;
                    case CorpusComponent.Spancat:
                        ApplySpans(doc, tokens, state.SpanTasks[inputHash], state.SpansKey);
                        break;
                    default:
                        ApplyCats(doc, state, state.Cats[inputHash]);
                        break;
                }
            }

            docs.Add(doc);
        }

        return docs;
    }

    /// <summary>An input's tokens with their code point offsets, for aligning character spans.</summary>
    private sealed record DocTokens(string[] Words, bool[] Spaces, string[] Norms, int[] Starts, int[] Ends, bool FirstIsNotSentStart = false);

    private static DocTokens TokensOf(InputState input, Lazy<Tokenizer> lazyTokenizer)
    {
        if (input.WithTokens is { Tokens: { } given } task)
        {
            var count = given.Count;
            var words = new string[count];
            var spaces = new bool[count];
            var norms = new string[count];
            var starts = new int[count];
            var ends = new int[count];
            var text = task.Text;
            // Code point offsets index UTF-16 directly unless the text has surrogate pairs.
            var simple = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0;
            var textLength = simple ? text.Length : ProdigyTask.CodePointLength(text);
            int[]? utf16 = null;
            if (!simple)
            {
                utf16 = new int[textLength + 1];
                for (int cp = 0, unit = 0; cp <= textLength; cp++)
                {
                    utf16[cp] = unit;
                    if (unit < text.Length)
                    {
                        unit += char.IsHighSurrogate(text[unit]) && unit + 1 < text.Length && char.IsLowSurrogate(text[unit + 1]) ? 2 : 1;
                    }
                }
            }

            for (var i = 0; i < count; i++)
            {
                var token = given[i];
                words[i] = token.Text;
                norms[i] = LexemeNorms.BuiltIn.Get(token.Text);
                starts[i] = token.Start;
                ends[i] = token.End;
                if (token.Whitespace is { } ws)
                {
                    spaces[i] = ws;
                }
                else
                {
                    // Without "ws", a token has a trailing space when exactly one space separates it from the next token (or the end).
                    var next = i + 1 < count ? given[i + 1].Start : textLength;
                    if (next - token.End == 1 && token.End < textLength)
                    {
                        var at = utf16 is null ? token.End : utf16[token.End];
                        spaces[i] = text[at] == ' ';
                    }
                }
            }

            return new DocTokens(words, spaces, norms, starts, ends);
        }

        var tokenizer = lazyTokenizer.Value;
        var tokens = tokenizer.Tokenize(input.First.Text);
        var result = new DocTokens(new string[tokens.Count], new bool[tokens.Count], new string[tokens.Count], new int[tokens.Count], new int[tokens.Count], FirstIsNotSentStart: tokens.Count > 0 && !tokens[0].IsSentStart);
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            result.Words[i] = token.Text;
            result.Spaces[i] = token.Whitespace;
            result.Norms[i] = token.Norm;
            result.Starts[i] = token.Idx;
            result.Ends[i] = token.Idx + PythonText.CodePointCount(token.Text);
        }

        return result;
    }

    private bool TryAlign(DocTokens tokens, ProdigySpan span, ProdigyTask task, out int start, out int end)
    {
        start = Array.IndexOf(tokens.Starts, span.Start);
        var last = Array.LastIndexOf(tokens.Ends, span.End);
        end = last + 1;
        if (start >= 0 && last >= start)
        {
            return true;
        }

        Warn("PRD2101", $"span {span.Start}-{span.End} \"{span.Label}\" does not line up with token boundaries; it is skipped. Run 'prodigy-build tokenize' on the text to see the tokens.", task.File, task.Line, 1);
        return false;
    }

    private void ApplyNer(SpacyDoc doc, DocTokens tokens, NerAnnotation annotation)
    {
        var ents = new EntityTag[doc.Length];
        if (annotation.Manual is { } manual)
        {
            Array.Fill(ents, EntityTag.Outside);
            SetEntities(ents, tokens, (manual.Spans ?? []).Select(s => (s, manual)));
        }
        else
        {
            Array.Fill(ents, EntityTag.Missing);
            SetEntities(ents, tokens, annotation.Accepted);

            // Every binary example carries the group, empty when nothing was rejected.
            var group = new SpacySpanGroup(IncorrectSpansKey);
            foreach (var (span, task) in annotation.Rejected)
            {
                if (TryAlign(tokens, span, task, out var start, out var end))
                {
                    group.Spans.Add(new SpacySpan(start, end, span.Label));
                }
            }

            doc.SpanGroups.Add(new KeyValuePair<string, SpacySpanGroup>(IncorrectSpansKey, group));
        }

        doc.Entities = ents;
    }

    private void SetEntities(EntityTag[] ents, DocTokens tokens, IEnumerable<(ProdigySpan Span, ProdigyTask Task)> spans)
    {
        var taken = new bool[ents.Length];
        foreach (var (span, task) in spans)
        {
            if (!TryAlign(tokens, span, task, out var start, out var end))
            {
                continue;
            }

            if (taken.AsSpan(start, end - start).Contains(true))
            {
                Warn("PRD2102", $"entity {span.Start}-{span.End} \"{span.Label}\" overlaps another entity; it is skipped (an entity layer cannot overlap: use a SpancatDataset for overlapping spans).", task.File, task.Line, 1);
                continue;
            }

            for (var i = start; i < end; i++)
            {
                taken[i] = true;
                ents[i] = new EntityTag(i == start ? EntityIob.Begin : EntityIob.Inside, span.Label);
            }
        }
    }

    private void ApplySpans(SpacyDoc doc, DocTokens tokens, ProdigyTask task, string key)
    {
        var group = new SpacySpanGroup(key);
        foreach (var span in task.Spans ?? [])
        {
            if (TryAlign(tokens, span, task, out var start, out var end))
            {
                group.Spans.Add(new SpacySpan(start, end, span.Label));
            }
        }

        doc.SpanGroups.Add(new KeyValuePair<string, SpacySpanGroup>(key, group));
    }

    private static void ApplyCats(SpacyDoc doc, ComponentState state, List<(string Label, double Value, bool ExclusiveAccept)> answers)
    {
        // Votes per label in first-seen order; an exclusive accept also votes 0.0 for every other label.
        var order = new List<string>();
        var votes = new Dictionary<string, (int Ones, int Zeros)>(StringComparer.Ordinal);
        void Vote(string label, double value)
        {
            if (!votes.TryGetValue(label, out var count))
            {
                order.Add(label);
            }

            votes[label] = value >= 0.5 ? (count.Ones + 1, count.Zeros) : (count.Ones, count.Zeros + 1);
        }

        foreach (var (label, value, _) in answers)
        {
            Vote(label, value);
        }

        foreach (var (label, _, exclusiveAccept) in answers)
        {
            if (!exclusiveAccept)
            {
                continue;
            }

            foreach (var other in state.Labels)
            {
                if (other != label)
                {
                    Vote(other, 0.0);
                }
            }
        }

        foreach (var label in order)
        {
            var (ones, zeros) = votes[label];
            if (ones > 0 && zeros > 0)
            {
                state.Conflicts++;
                if (ones == zeros)
                {
                    state.Ties++;
                    continue;
                }
            }

            var existing = doc.Cats.FindIndex(c => c.Key == label);
            var entry = new KeyValuePair<string, object>(label, ones > zeros ? 1.0 : 0.0);
            if (existing >= 0)
            {
                doc.Cats[existing] = entry;
            }
            else
            {
                doc.Cats.Add(entry);
            }
        }
    }
}
