using System.Text.RegularExpressions;
using Prodigy.Build.Core.Config;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;
using Prodigy.Build.Trainer.Configuration;
using Prodigy.Build.Trainer.Data;
using Prodigy.Build.Trainer.Training;
using TorchSharp;

namespace Prodigy.Build.Trainer.Tests;

/// <summary>
/// The bag-of-words text classifiers start from zeros and use no dropout, so spaCy's run is a function of
/// the example order, the batches and the optimizer alone: with Python's shuffle, spaCy's batcher and
/// thinc's Adam, training the shared baseline configs on the shared corpora prints spaCy's own log
/// (shared/spacy/baselines/runs/NAME/train.log) row for row: epoch, step, loss and scores to the digit.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed partial class SpacyTrainingLogTests(TorchRuntimeFixture fixture) : IDisposable
{
    private const int Steps = 1000;

    private readonly string _directory = Directory.CreateTempSubdirectory("prodigy-spacy-log-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // The first evaluation follows one update from all-zero weights: a few dev texts then score within
    // float rounding of each other, and which of them ranks first moves AUC or F in the second decimal, so
    // the rows compared start where the weights have left that tie (step 200) unless the run's row 0 matches too.
    // On the CPU these pipelines train in managed code; on a GPU, or beside a component that needs torch,
    // the same components train as torch tensors: both must print spaCy's log (the torch run is forced by giving the device).
    [Theory]
    [InlineData("docs_issues-textcat-efficiency", "docs_issues_exclusive", "en-textcat-efficiency-cpu.cfg", 0, false)]
    [InlineData("docs_issues-textcat_multilabel-efficiency", "docs_issues", "en-textcat_multilabel-efficiency-cpu.cfg", 200, false)]
    [InlineData("healthsea_clausecat-textcat-efficiency", "healthsea_clausecat", "en-textcat-efficiency-cpu.cfg", 200, false)]
    [InlineData("docs_issues-textcat-efficiency", "docs_issues_exclusive", "en-textcat-efficiency-cpu.cfg", 0, true)]
    [InlineData("docs_issues-textcat_multilabel-efficiency", "docs_issues", "en-textcat_multilabel-efficiency-cpu.cfg", 200, true)]
    [InlineData("healthsea_clausecat-textcat-efficiency", "healthsea_clausecat", "en-textcat-efficiency-cpu.cfg", 200, true)]
    public void Training_prints_spaCys_log_for_the_same_config_corpus_and_seed(string run, string corpus, string configName, int fromStep, bool withTorch)
    {
        Assert.NotNull(fixture.Info);
        var config = SpacyConfigDocument.Load(Path.Combine(SharedData.Root, "spacy", "configs", configName));
        config.SetRaw("training", "max_steps", Steps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var configPath = Path.Combine(_directory, "config.cfg");
        config.Save(configPath);
        var corpusFolder = Path.Combine(SharedData.Root, "spacy", "baselines", "corpus", corpus);
        var output = new StringWriter();
        if (withTorch)
        {
            var settings = TrainingSettings.From(ResolvedConfig.Load(configPath));
            List<Example> Read(string file) => DocBin.Read(file).Where(d => d.Words.Count > 0).Select(d => Example.FromDoc(d, "incorrect_spans")).ToList();
            PipelineTrainer.Train(
                new TrainingRun { Settings = settings, ConfigText = File.ReadAllText(configPath), OutputDirectory = Path.Combine(_directory, "model"), Device = torch.CPU, Log = output.WriteLine },
                Read(Path.Combine(corpusFolder, "train.spacy")),
                Read(Path.Combine(corpusFolder, "dev.spacy")));
        }
        else
        {
            var exit = TrainerCommandLine.Run(
                ["train", "--config", configPath, "--train", Path.Combine(corpusFolder, "train.spacy"), "--dev", Path.Combine(corpusFolder, "dev.spacy"), "--output", Path.Combine(_directory, "model")],
                output,
                CancellationToken.None);
            Assert.True(exit == 0, output.ToString());
            Assert.Contains("TorchSharp's native libraries", output.ToString(), StringComparison.Ordinal);
        }

        var ours = Rows(output.ToString()).Where(r => r.Step >= fromStep).ToList();
        var spacy = Rows(File.ReadAllText(Path.Combine(SharedData.Root, "spacy", "baselines", "runs", run, "train.log")))
            .Where(r => r.Step >= fromStep && r.Step <= Steps).ToList();
        Assert.Equal(Steps / 200 + 1 - (fromStep / 200), spacy.Count);
        Assert.Equal(spacy.Select(r => r.Text), ours.Select(r => r.Text));
    }

    // A table row of the training log: "  5    1200           3.54       81.57    0.82" -> its fields.
    private static IEnumerable<(int Step, string Text)> Rows(string log) =>
        log.Split('\n')
            .Select(line => RowPattern().Match(line))
            .Where(m => m.Success)
            .Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), string.Join(' ', m.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))));

    [GeneratedRegex(@"^\s*\d+\s+(\d+)(\s+\d+\.\d+)+\s*$")]
    private static partial Regex RowPattern();
}
