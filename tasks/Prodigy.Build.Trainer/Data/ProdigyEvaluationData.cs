using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Training;

namespace Prodigy.Build.Trainer.Data;

/// <summary>
/// A Prodigy JSONL export as evaluation examples for a trained pipeline: converted in process by the
/// corpus's own <see cref="CorpusBuilder"/> (answers, merging by input, binary NER, categories as
/// data-to-spacy makes them), for each component the model has, tokenized as the model tokenizes.
/// </summary>
public static class ProdigyEvaluationData
{
    public static List<Example> Read(string path, string modelDirectory, TrainingSettings settings, Action<string> say)
    {
        var datasets = new List<DatasetInput>();
        if (settings.Ner is not null)
        {
            datasets.Add(new DatasetInput(CorpusComponent.Ner, path, IsEval: true));
        }

        foreach (var textcat in settings.Textcats)
        {
            datasets.Add(new DatasetInput(textcat.Exclusive ? CorpusComponent.Textcat : CorpusComponent.TextcatMultilabel, path, IsEval: true));
        }

        if (settings.Spancat is { } spancat)
        {
            datasets.Add(new DatasetInput(CorpusComponent.Spancat, path, IsEval: true, spancat.SpansKey));
        }

        // A model of this SDK ships its rules as JSON; a spaCy pipeline folder as its 'tokenizer' file.
        var rules = Path.Combine(modelDirectory, ModelDirectory.TokenizerFile);
        if (!File.Exists(rules))
        {
            rules = Path.Combine(modelDirectory, "tokenizer");
        }

        var request = new CorpusRequest
        {
            Datasets = datasets,
            Language = settings.Language,
            TokenizerRules = File.Exists(rules) ? rules : null,
            EvaluationOnly = true,
        };
        CorpusResult corpus;
        try
        {
            corpus = new CorpusBuilder(new SayCorpusLog(say)).Build(request);
        }
        catch (ProdigyDataException e)
        {
            throw new TrainerInputException(e.Code, e.Message, e.File ?? path, e.Line, e.Column);
        }
        catch (Core.Tokenization.TokenizerRulesException e)
        {
            throw new TrainerInputException("PRD2308", $"the model's tokenizer rules cannot be used: {e.Message}", rules);
        }

        if (corpus.DevDocs.Count == 0)
        {
            throw new TrainerInputException("PRD2305", $"no task of the file annotates the model's components ({string.Join(", ", settings.Pipeline)}); give an export of those annotations", path);
        }

        return corpus.DevDocs.Select(d => Example.FromDoc(d, settings.Ner?.IncorrectSpansKey ?? CorpusBuilder.IncorrectSpansKey)).ToList();
    }

    /// <summary>The conversion's progress lines and warnings (canonical, so a build shows them as warnings).</summary>
    private sealed class SayCorpusLog(Action<string> say) : ICorpusLog
    {
        public void Message(string text) => say(text);

        public void Warning(string code, string message, string? file = null, int line = 0, int column = 0) =>
            say($"{TrainerInputException.OriginOf(file, line, column)}: warning {code}: {message}");
    }
}
