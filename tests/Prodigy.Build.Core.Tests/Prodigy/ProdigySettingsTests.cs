using Prodigy.Build.Core.Prodigy;

namespace Prodigy.Build.Core.Tests.Prodigy;

/// <summary>Where Prodigy's database is: PRODIGY_HOME, the global and local prodigy.json, PRODIGY_CONFIG_OVERRIDES.</summary>
public sealed class ProdigySettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prodigy-settings-").FullName;
    private readonly Dictionary<string, string?> _environment = [];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private string Project => Path.Combine(_dir, "project");

    private ProdigySettings Load()
    {
        Directory.CreateDirectory(Project);
        return ProdigySettings.Load(Project, name => _environment.GetValueOrDefault(name));
    }

    private void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void Default_is_prodigy_db_in_the_home_folder()
    {
        var settings = Load();
        Assert.Equal(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".prodigy", "prodigy.db"), settings.DatabasePath);

        _environment["PRODIGY_HOME"] = Home;
        Assert.Equal(Path.Combine(Home, "prodigy.db"), Load().DatabasePath);
        Assert.Contains(Path.Combine(Home, "prodigy.json"), Load().ConsultedFiles);
    }

    [Fact]
    public void Global_then_local_prodigy_json_then_overrides_decide_name_and_path()
    {
        _environment["PRODIGY_HOME"] = Home;
        Write(Path.Combine(Home, "prodigy.json"), """{"db": "sqlite", "db_settings": {"sqlite": {"name": "global.db", "path": "/srv/annotations"}}}""");
        Assert.Equal(Path.GetFullPath("/srv/annotations/global.db"), Load().DatabasePath);

        // The local file replaces db_settings as a whole (top-level keys replace, as Prodigy merges them); a relative path is the working folder's.
        Write(Path.Combine(Project, "prodigy.json"), """{"db_settings": {"sqlite": {"name": "local.db", "path": "data"}}, "port": 8080}""");
        Assert.Equal(Path.Combine(Project, "data", "local.db"), Load().DatabasePath);

        _environment["PRODIGY_CONFIG_OVERRIDES"] = """{"db_settings": {"sqlite": {"name": "override.db"}}}""";
        Assert.Equal(Path.Combine(Home, "override.db"), Load().DatabasePath);
    }

    [Fact]
    public void PRODIGY_CONFIG_names_the_global_file_and_dot_prodigy_json_is_a_local_file_too()
    {
        _environment["PRODIGY_HOME"] = Home;
        var config = Path.Combine(_dir, "elsewhere", "config.json");
        Write(config, """{"db_settings": {"sqlite": {"name": "from-config.db"}}}""");
        _environment["PRODIGY_CONFIG"] = config;
        Assert.Equal(Path.Combine(Home, "from-config.db"), Load().DatabasePath);

        Write(Path.Combine(Project, ".prodigy.json"), """{"db_settings": {"sqlite": {"name": "dot.db", "path": "."}}}""");
        Assert.Equal(Path.Combine(Project, "dot.db"), Load().DatabasePath);
    }

    [Fact]
    public void Other_databases_memory_and_broken_json_are_errors_with_their_place()
    {
        _environment["PRODIGY_HOME"] = Home;
        // A "db" Prodigy has no driver for (postgresql and mysql are servers: ServerDatabaseTests).
        Write(Path.Combine(Project, "prodigy.json"), """{"db": "mongodb"}""");
        Assert.Equal("PRD2206", Assert.Throws<ProdigyDataException>(Load).Code);
        Write(Path.Combine(Project, "prodigy.json"), """{"db": "postgresql"}""");
        Assert.NotNull(Load().Server);

        Write(Path.Combine(Project, "prodigy.json"), """{"db_settings": {"sqlite": {"name": ":memory:"}}}""");
        Assert.Equal("PRD2206", Assert.Throws<ProdigyDataException>(Load).Code);

        Write(Path.Combine(Project, "prodigy.json"), "{\n  \"db\": \"sqlite\",\n  \"port\": 80 80\n}");
        var error = Assert.Throws<ProdigyDataException>(Load);
        Assert.Equal("PRD2205", error.Code);
        Assert.Equal(Path.Combine(Project, "prodigy.json"), error.File);
        Assert.Equal(3, error.Line);
        Assert.True(error.Column > 1);
    }
}
