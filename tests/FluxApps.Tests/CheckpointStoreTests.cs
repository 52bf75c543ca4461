using FluxApps.Runtime;

namespace FluxApps.Tests;

/// <summary>The checkpoint store on its own: keys, whole-or-nothing entries, misses for anything unexpected, private files.</summary>
public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fluxapps-checkpoints-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static FluxAppDescriptor App(string codeHash = "c0de", string id = "Demo.Physics.Simulate(int)") =>
        new(id, "Demo.Physics.Simulate", typeof(CheckpointStoreTests), 1, 0, 1, 0, false, null, null, 16, null) { CodeHash = codeHash, Cache = true };

    [Fact]
    public void AWrittenResultIsReadBackUnderTheSameKeyOnly()
    {
        var store = new CheckpointStore(_root);
        var key = store.KeyFor(App(), [1, 2, 3]);
        Assert.Null(CheckpointStore.TryRead(key));
        Assert.True(store.Write(key, [42, 43]));
        Assert.Equal([42, 43], CheckpointStore.TryRead(key));

        Assert.Null(CheckpointStore.TryRead(store.KeyFor(App(), [1, 2, 4])));                    // other arguments
        Assert.Null(CheckpointStore.TryRead(store.KeyFor(App(id: "Demo.Physics.Other(int)"), [1, 2, 3]))); // other app
        Assert.Null(CheckpointStore.TryRead(store.KeyFor(App(codeHash: "edited"), [1, 2, 3])));  // other code
        Assert.StartsWith(Path.Combine(_root, "Demo.Physics.Simulate-"), key.EntryPath);
    }

    [Fact]
    public void AnEmptyResultIsAResult()
    {
        var store = new CheckpointStore(_root);
        var key = store.KeyFor(App(), []);
        Assert.True(store.Write(key, []));
        Assert.Equal(Array.Empty<byte>(), CheckpointStore.TryRead(key));
    }

    [Fact]
    public void AnEntryOfAnotherCodeHashIsAMissEvenUnderTheSameName()
    {
        var store = new CheckpointStore(_root);
        var old = store.KeyFor(App(codeHash: "before"), [9]);
        store.Write(old, [1]);
        var current = store.KeyFor(App(codeHash: "after"), [9]);
        // Even if the file were found under the new key's name (as after a rename), its contents say it is stale.
        Directory.CreateDirectory(current.AppDirectory);
        File.Copy(old.EntryPath, current.EntryPath, overwrite: true);
        Assert.Null(CheckpointStore.TryRead(current));
        Assert.Null(CheckpointStore.Decode(File.ReadAllBytes(old.EntryPath), current));
    }

    [Fact]
    public void ACorruptedTruncatedOrForeignEntryIsAMissNotAnError()
    {
        var store = new CheckpointStore(_root);
        var key = store.KeyFor(App(), [5, 6]);
        store.Write(key, [10, 20, 30, 40]);
        byte[] good = File.ReadAllBytes(key.EntryPath);
        for (int i = 0; i < good.Length; i++)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[i] ^= 0x10;
            File.WriteAllBytes(key.EntryPath, flipped);
            Assert.Null(CheckpointStore.TryRead(key));
        }
        for (int length = 0; length < good.Length; length++)
        {
            File.WriteAllBytes(key.EntryPath, good[..length]); // what a torn write without rename would leave
            Assert.Null(CheckpointStore.TryRead(key));
        }
        File.WriteAllText(key.EntryPath, "not a checkpoint at all");
        Assert.Null(CheckpointStore.TryRead(key));
        File.WriteAllBytes(key.EntryPath, good);
        Assert.Equal([10, 20, 30, 40], CheckpointStore.TryRead(key));
    }

    [Fact]
    public void AnUnreadableEntryIsAMiss()
    {
        var store = new CheckpointStore(_root);
        var key = store.KeyFor(App(), [1]);
        Directory.CreateDirectory(key.EntryPath); // a directory where the file should be
        Assert.Null(CheckpointStore.TryRead(key));
        Assert.False(store.Write(key, [1]));      // cannot replace it: reported, not thrown
    }

    [Fact]
    public void WritesGoThroughATemporaryFileAndLeaveNothingElse()
    {
        var store = new CheckpointStore(_root);
        var key = store.KeyFor(App(), [7]);
        store.Write(key, [1, 2]);
        // A writer killed before its rename leaves only a temporary file: the entry is whole or absent.
        File.WriteAllBytes(Path.Combine(key.AppDirectory, ".tmp-killed"), [1, 2, 3]);
        store.Write(key, [3, 4, 5]); // replaces the entry whole
        Assert.Equal([3, 4, 5], CheckpointStore.TryRead(key));
        var names = Directory.GetFiles(key.AppDirectory).Select(f => Path.GetFileName(f)!).Order().ToArray();
        Assert.Equal(new[] { ".tmp-killed", Path.GetFileName(key.EntryPath) }, names);
    }

    [Fact]
    public void TheDirectoryAndEntriesArePrivateToTheUser()
    {
        if (OperatingSystem.IsWindows()) return; // Unix permissions
        var store = new CheckpointStore(_root);
        var key = store.KeyFor(App(), [1]);
        store.Write(key, [1]);
        var directoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(directoryMode, File.GetUnixFileMode(_root));
        Assert.Equal(directoryMode, File.GetUnixFileMode(key.AppDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key.EntryPath));
    }

    [Fact]
    public void CommandAppsCannotBeCached()
    {
        var ex = Assert.Throws<ArgumentException>(() => CheckpointStore.Resolve(App(), new FluxCallOptions { Cache = true }, isCommand: true));
        Assert.Equal("Cache", ex.ParamName);
        Assert.Contains("Cache = true", ex.Message);
        Assert.False(CheckpointStore.Resolve(App(), new FluxCallOptions { Cache = false }, isCommand: false));
        Assert.True(CheckpointStore.Resolve(App(), null, isCommand: false));
    }

    [Fact]
    public void TheDirectoryComesFromTheOptionsThenTheEnvironmentThenHome()
    {
        Assert.Equal("/x/y", CheckpointStore.DirectoryFor(new FluxAppsOptions { CheckpointDirectory = "/x/y" }));
        if (Environment.GetEnvironmentVariable("FLUXAPPS_CHECKPOINT") is null)
            Assert.EndsWith(Path.Combine(".fluxapps", "checkpoints"), CheckpointStore.DirectoryFor(new FluxAppsOptions()));
    }
}
