using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace FluxApps.Backends.Flux;

/// <summary>
/// Finds and loads libflux-core.so.2 and routes <see cref="FluxNative"/>'s imports to it. Where it
/// looks, in order: the path the user named (<see cref="FluxAppsOptions.FluxLibraryPath"/> or
/// <c>FLUXAPPS_FLUX_LIBRARY</c>; a file or a directory), the system library path (ld.so cache,
/// <c>LD_LIBRARY_PATH</c>), then <c>../lib</c> next to each <c>flux</c> on PATH (with symlinks
/// followed), as an installed Flux lays itself out. A miss is an error that lists every place tried.
/// The library is loaded once per process; later runtimes use the same one.
/// </summary>
internal static class FluxLibrary
{
    public const string FileName = "libflux-core.so.2";
    public const string PathVariable = "FLUXAPPS_FLUX_LIBRARY";

    private static readonly object s_gate = new();
    private static nint s_handle;
    private static string? s_loadedFrom;
    private static bool s_resolverSet;

    /// <summary>Where the loaded library came from, or null before <see cref="Load"/>.</summary>
    public static string? LoadedFrom
    {
        get { lock (s_gate) return s_loadedFrom; }
    }

    /// <summary>Loads libflux-core (once per process); throws <see cref="FluxLibraryNotFoundException"/> listing what was tried.</summary>
    public static string Load(string? userPath)
    {
        lock (s_gate)
        {
            if (s_handle != 0) return s_loadedFrom!;
            var tried = new List<string>();
            var candidates = Candidates(userPath ?? Environment.GetEnvironmentVariable(PathVariable), Environment.GetEnvironmentVariable("PATH"));
            var (handle, from) = Locate(candidates, tried);
            if (handle == 0) throw new FluxLibraryNotFoundException(tried);
            s_handle = handle;
            s_loadedFrom = from;
            if (!s_resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(FluxLibrary).Assembly, Resolve);
                s_resolverSet = true;
            }
            return from;
        }
    }

    /// <summary>Tries each candidate in order; returns the first that loads and is libflux-core, noting why each other one failed.</summary>
    internal static (nint Handle, string From) Locate(IReadOnlyList<Candidate> candidates, List<string> tried)
    {
        foreach (var candidate in candidates)
        {
            if (candidate.MustExist && !File.Exists(candidate.Path))
            {
                tried.Add($"{candidate.Path} ({candidate.Why}): no such file");
                continue;
            }
            if (!NativeLibrary.TryLoad(candidate.Path, out nint handle))
            {
                tried.Add($"{candidate.Path} ({candidate.Why}): {(candidate.MustExist ? "exists but could not be loaded (not a shared library, wrong architecture, or missing dependencies)" : "not found")}");
                continue;
            }
            if (!NativeLibrary.TryGetExport(handle, "flux_job_event_watch", out _))
            {
                tried.Add($"{candidate.Path} ({candidate.Why}): loaded, but it lacks flux_job_event_watch (not libflux-core, or too old)");
                NativeLibrary.Free(handle);
                continue;
            }
            return (handle, candidate.MustExist ? candidate.Path : candidate.Path + " (system library path)");
        }
        return (0, "");
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != FluxNative.Library) return 0; // everything else (libc, ...) resolves as usual
        lock (s_gate)
        {
            if (s_handle == 0)
                throw new InvalidOperationException("FluxApps used libflux-core before loading it (FluxLibrary.Load was not called).");
            return s_handle;
        }
    }

    /// <summary>One place to try.</summary>
    /// <param name="Path">A path, or a bare file name for the system search.</param>
    /// <param name="Why">Where the candidate comes from, for the error message.</param>
    /// <param name="MustExist">False for the bare name the dynamic loader searches for.</param>
    public readonly record struct Candidate(string Path, string Why, bool MustExist);

    /// <summary>Every place to look, in order, without duplicates.</summary>
    public static IReadOnlyList<Candidate> Candidates(string? userPath, string? pathVariable)
    {
        var list = new List<Candidate>();
        void Add(string path, string why, bool mustExist = true)
        {
            if (!list.Any(c => c.Path == path)) list.Add(new Candidate(path, why, mustExist));
        }

        if (!string.IsNullOrWhiteSpace(userPath))
        {
            string p = userPath.Trim();
            // A directory (Flux's prefix or its lib folder) or the library file itself.
            if (Directory.Exists(p))
            {
                Add(System.IO.Path.Combine(p, FileName), "the directory named by FluxLibraryPath / " + PathVariable);
                Add(System.IO.Path.Combine(p, "lib", FileName), "lib/ under the directory named by FluxLibraryPath / " + PathVariable);
            }
            else
            {
                Add(p, "named by FluxLibraryPath / " + PathVariable);
            }
        }
        Add(FileName, "the system library path: ld.so cache and LD_LIBRARY_PATH", mustExist: false);
        foreach (string flux in FluxExecutables(pathVariable))
        {
            foreach (string bin in BinDirectories(flux))
                Add(System.IO.Path.GetFullPath(System.IO.Path.Combine(bin, "..", "lib", FileName)), $"../lib next to {flux}");
        }
        return list;
    }

    /// <summary>Each <c>flux</c> executable on PATH, in PATH order.</summary>
    public static IEnumerable<string> FluxExecutables(string? pathVariable)
    {
        if (string.IsNullOrEmpty(pathVariable)) yield break;
        foreach (string dir in pathVariable.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate;
            try { candidate = System.IO.Path.Combine(dir, "flux"); }
            catch (ArgumentException) { continue; }
            if (File.Exists(candidate)) yield return candidate;
        }
    }

    /// <summary>The first <c>flux</c> on PATH, or null.</summary>
    public static string? FindFluxOnPath() => FluxExecutables(Environment.GetEnvironmentVariable("PATH")).FirstOrDefault();

    /// <summary>The directory of <paramref name="flux"/>, then that of each link it resolves through.</summary>
    private static IEnumerable<string> BinDirectories(string flux)
    {
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(flux));
        if (dir is not null) yield return dir;
        string current = flux;
        for (int hops = 0; hops < 16; hops++)
        {
            FileSystemInfo? target;
            try { target = new FileInfo(current).ResolveLinkTarget(returnFinalTarget: false); }
            catch (IOException) { yield break; }
            catch (UnauthorizedAccessException) { yield break; }
            if (target is null) yield break;
            current = target.FullName;
            string? next = System.IO.Path.GetDirectoryName(current);
            if (next is not null) yield return next;
        }
    }
}
