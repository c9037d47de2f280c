using System.Text.Json;
using Prodigy.Build.Core.Pipelines.Thinc;
using Prodigy.Build.Core.Serialization;

namespace Prodigy.Build.Core.Pipelines;

/// <summary>
/// spaCy's <c>ner</c> component: <c>spacy.TransitionBasedParser.v2</c> over the BILUO moves of its
/// <c>moves</c> file, decoded greedily; entities into <see cref="PipelineDoc.Entities"/>.
/// </summary>
public sealed class EntityRecognizerComponent : IPipelineComponent
{
    private readonly TransitionParserModel _model;
    private readonly BiluoTransitionSystem _moves;

    private EntityRecognizerComponent(string name, TransitionParserModel model, BiluoTransitionSystem moves, ThincModelData data)
    {
        Name = name;
        _model = model;
        _moves = moves;
        Model = data;
    }

    public string Name { get; }

    public string Factory => "ner";

    public IReadOnlyList<string> Labels => _moves.Labels;

    public ThincModelData? Model { get; }

    /// <summary>The class names in the model's output order (<c>B-ORG</c>, ..., <c>O</c>), as spaCy's <c>move_names</c>.</summary>
    public IReadOnlyList<string> MoveNames => Enumerable.Range(0, _moves.ClassCount).Select(_moves.ClassName).ToList();

    /// <summary>The classes (move, label) in the model's output order, as the moves file gives them.</summary>
    public IReadOnlyList<(int Move, string Label)> Classes => _moves.Classes;

    /// <summary>The layer tree as spaCy builds it.</summary>
    public ThincLayer Tree => _model.Tree;

    public static IPipelineComponent Create(ComponentContext context)
    {
        var cfgPath = Path.Combine(context.Directory, "cfg");
        if (File.Exists(cfgPath))
        {
            using var cfg = JsonDocument.Parse(File.ReadAllText(cfgPath));
            if (cfg.RootElement.TryGetProperty("beam_width", out var beam) && beam.ValueKind == JsonValueKind.Number && beam.GetInt32() != 1)
            {
                throw new SpacyPipelineException("PRD2424", $"component '{context.Name}' decodes with beam_width {beam.GetInt32()}; Prodigy.Build.Sdk runs the greedy decoder (beam_width 1) only", cfgPath);
            }
        }

        var moves = ReadMoves(context);
        var model = TransitionParserModel.Build(context, context.ModelSection, moves.ClassCount, moves.FeatureCount);
        var data = context.ReadModel(model.Tree);
        var modelPath = Path.Combine(context.Directory, "model");
        model.LoadWeights(modelPath, moves.ClassCount, moves.FeatureCount);
        return new EntityRecognizerComponent(context.Name, model, moves, data);
    }

    public void Predict(IReadOnlyList<PipelineDoc> docs) => _model.Parse(_moves, docs);

    /// <summary>The <c>moves</c> file: msgpack <c>{"moves": JSON of move type → {label: frequency}, "cfg": ...}</c>.</summary>
    private static BiluoTransitionSystem ReadMoves(ComponentContext context)
    {
        var path = Path.Combine(context.Directory, "moves");
        if (!File.Exists(path))
        {
            throw new SpacyPipelineException("PRD2411", $"component '{context.Name}' has no moves file (its transition classes); copy the whole folder spaCy wrote", path);
        }

        SpacyPipelineException Bad(string what) => new("PRD2428", $"the moves file is not spaCy's ({what}); copy it again from the folder spaCy wrote", path);
        string json;
        try
        {
            var top = MsgPackReader.Decode(File.ReadAllBytes(path)) as List<KeyValuePair<object?, object?>> ?? throw Bad("not a map");
            json = top.FirstOrDefault(kv => kv.Key as string == "moves").Value as string ?? throw Bad("no 'moves' string");
        }
        catch (MsgPackException e)
        {
            throw new SpacyPipelineException("PRD2428", $"the moves file is truncated or corrupt ({e.Message})", path, e);
        }

        var byMove = new List<KeyValuePair<string, IReadOnlyList<KeyValuePair<string, long>>>>();
        try
        {
            using var moves = JsonDocument.Parse(json);
            foreach (var move in moves.RootElement.EnumerateObject())
            {
                if (!int.TryParse(move.Name, out _))
                {
                    throw Bad($"the move type '{move.Name}' is not a number");
                }

                byMove.Add(new(move.Name, move.Value.EnumerateObject().Select(l => new KeyValuePair<string, long>(l.Name, l.Value.GetInt64())).ToList()));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw Bad(e.Message);
        }

        var classes = MoveOrder.FromFrequencies(byMove, BiluoTransitionSystem.Accepts);
        if (classes.Count == 0)
        {
            throw Bad("no moves");
        }

        return new BiluoTransitionSystem(classes);
    }
}
