using Microsoft.Data.Sqlite;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Core.Spacy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>A corpus from datasets in Prodigy's database equals the corpus from their db-out exports.</summary>
public sealed class CorpusFromDatabaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-dbcorpus-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Shared(string file) => Path.Combine(SharedData.Root, "datasets", file);

    [Fact]
    public void Database_datasets_make_the_same_docs_as_their_exports()
    {
        var db = Path.Combine(_dir, "prodigy.db");
        using (var database = ProdigyTestDatabase.Create(db))
        {
            database.AddFile("fashion_train", Shared("fashion_brands/fashion_brands_training.jsonl"));
            database.AddFile("fashion_eval", Shared("fashion_brands/fashion_brands_eval.jsonl"));
            database.AddFile("insults", Shared("reddit_insult_textcat/annotated_reddit-INSULT-textcat.jsonl"));
        }

        CorpusResult Build(params DatasetInput[] datasets) =>
            new CorpusBuilder(new CorpusBuilderTests.RecordingLog()).Build(new CorpusRequest { Datasets = datasets });

        var fromFiles = Build(
            new DatasetInput(CorpusComponent.Ner, Shared("fashion_brands/fashion_brands_training.jsonl")),
            new DatasetInput(CorpusComponent.Ner, Shared("fashion_brands/fashion_brands_eval.jsonl"), IsEval: true),
            new DatasetInput(CorpusComponent.TextcatMultilabel, Shared("reddit_insult_textcat/annotated_reddit-INSULT-textcat.jsonl")));
        var fromDatabase = Build(
            new DatasetInput(CorpusComponent.Ner, db, Dataset: "fashion_train"),
            new DatasetInput(CorpusComponent.Ner, db, IsEval: true, Dataset: "fashion_eval"),
            new DatasetInput(CorpusComponent.TextcatMultilabel, db, Dataset: "insults"));

        Assert.Equal(DocBin.WritePayload(fromFiles.TrainDocs), DocBin.WritePayload(fromDatabase.TrainDocs));
        Assert.Equal(DocBin.WritePayload(fromFiles.DevDocs), DocBin.WritePayload(fromDatabase.DevDocs));
    }

    [Fact]
    public void A_bad_example_in_a_database_names_the_dataset_and_its_position()
    {
        var db = Path.Combine(_dir, "prodigy.db");
        using (var database = ProdigyTestDatabase.Create(db))
        {
            database.AddExamples("ner", ["""{"text":"ok","spans":[]}""", """{"text":"bad","spans":[{"start":0,"end":9,"label":"X"}]}"""]);
            database.AddDataset("empty");
        }

        var builder = new CorpusBuilder(new CorpusBuilderTests.RecordingLog());
        var error = Assert.Throws<ProdigyDataException>(() => builder.Build(new CorpusRequest { Datasets = [new DatasetInput(CorpusComponent.Ner, db, Dataset: "ner")] }));
        Assert.Equal("PRD2013", error.Code);
        Assert.Equal(db, error.File);
        Assert.Equal(2, error.Line);
        Assert.StartsWith("dataset 'ner', example 2: ", error.Message);

        var empty = Assert.Throws<ProdigyDataException>(() => new CorpusBuilder(new CorpusBuilderTests.RecordingLog())
            .Build(new CorpusRequest { Datasets = [new DatasetInput(CorpusComponent.Ner, db, Dataset: "empty")] }));
        Assert.Equal("PRD2010", empty.Code);
        Assert.Contains("'empty' has no examples", empty.Message);
    }
}
