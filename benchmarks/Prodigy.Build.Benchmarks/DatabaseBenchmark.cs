using System.Diagnostics;
using System.Globalization;
using Prodigy.Build.Core.Prodigy;
using Prodigy.Build.Tests.Shared;

namespace Prodigy.Build.Benchmarks;

/// <summary>
/// Examples per second read from Prodigy's database on SQLite, PostgreSQL and MariaDB: every shared
/// dataset three times in one dataset (54,048 examples), loaded through Prodigy's schema on each
/// backend, then read whole (in chunks, content included) and digested (hashes only), best of the passes.
/// The servers are the ones PRODIGY_TEST_POSTGRES / PRODIGY_TEST_MYSQL name (.ci/database-servers starts them).
/// </summary>
internal static class DatabaseBenchmark
{
    public static void Run(string shared, int passes)
    {
        var lines = new List<string>();
        // The annotation files (not fashion_brands' match patterns), as the README's SQLite speed figures use them.
        foreach (var file in Directory.EnumerateFiles(Path.Combine(shared, "datasets"), "*.jsonl", SearchOption.AllDirectories)
                     .Where(f => !f.EndsWith("_patterns.jsonl", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            lines.AddRange(File.ReadLines(file).Where(l => l.Trim().Length > 0));
        }

        var all = Enumerable.Repeat(lines, 3).SelectMany(l => l).ToList();
        var directory = Directory.CreateTempSubdirectory("prodigy-db-bench-").FullName;
        Console.WriteLine($"# Database benchmark ({Environment.ProcessorCount} cores, .NET {Environment.Version}): {all.Count:N0} examples, {all.Sum(l => (long)System.Text.Encoding.UTF8.GetByteCount(l)) / 1e6:F0} MB of JSON, {passes} passes");
        Console.WriteLine();
        Console.WriteLine("| backend | examples stored | read (examples/s, best) | read s | digest s | vs SQLite read |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        double? sqliteRate = null;
        try
        {
            var path = Path.Combine(directory, "prodigy.db");
            using (var db = ProdigyTestDatabase.Create(path))
            {
                db.AddExamples("all", all);
            }

            sqliteRate = Measure("SQLite (file)", all.Count, () => ProdigyDatabase.Open(path), passes, null);
            foreach (var kind in new[] { ProdigyServerKind.PostgreSql, ProdigyServerKind.MySql })
            {
                var admin = Environment.GetEnvironmentVariable(ServerTestDatabase.Variable(kind));
                if (string.IsNullOrEmpty(admin))
                {
                    Console.WriteLine($"| {kind} | not run: {ServerTestDatabase.Variable(kind)} is not set | | | | |");
                    continue;
                }

                using var server = ServerTestDatabase.Create(kind, admin);
                // peewee's MySQL BlobField is BLOB: a task over 65,535 bytes cannot be stored there (Prodigy on MySQL has the same limit).
                var stored = kind == ProdigyServerKind.MySql ? all.Where(l => System.Text.Encoding.UTF8.GetByteCount(l) <= 65_535).ToList() : all;
                server.AddExamples("all", stored);
                Measure(kind == ProdigyServerKind.PostgreSql ? "PostgreSQL (loopback)" : "MariaDB (loopback)", stored.Count, () => ProdigyDatabase.OpenServer(server.Settings), passes, sqliteRate);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Measure(string name, int stored, Func<ProdigyDatabase> open, int passes, double? sqliteRate)
    {
        var bestRead = double.MaxValue;
        var bestDigest = double.MaxValue;
        for (var pass = 0; pass < passes; pass++)
        {
            var watch = Stopwatch.StartNew();
            using (var database = open())
            {
                var count = 0L;
                foreach (var row in database.ReadRows("all"))
                {
                    count += row.Content.Length > 0 ? 1 : 0;
                }

                if (count != stored)
                {
                    throw new InvalidOperationException($"{name}: read {count} of {stored} examples");
                }
            }

            bestRead = Math.Min(bestRead, watch.Elapsed.TotalSeconds);
            watch.Restart();
            using (var database = open())
            {
                database.Digest("all");
            }

            bestDigest = Math.Min(bestDigest, watch.Elapsed.TotalSeconds);
        }

        var rate = stored / bestRead;
        var relative = sqliteRate is { } baseline ? (rate / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "1.00x";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {stored:N0} | {rate:N0} | {bestRead:F2} | {bestDigest:F2} | {relative} |"));
        return rate;
    }
}
