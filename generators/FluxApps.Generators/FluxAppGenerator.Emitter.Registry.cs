using System;
using System.Linq;

namespace FluxApps.Generators;

public sealed partial class FluxAppGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// The assembly's registry: a module initializer that enters every app into the worker's dispatch
        /// table and its [FluxWorkerStartup] methods, and then lets this process become the worker when it was started as one.
        /// </summary>
        private static string EmitRegistry(EquatableArray<AppSpec> apps, EquatableArray<StartupSpec> startups, string assemblyName)
        {
            string className = "FluxAppsRegistry_" + Identifier(assemblyName);
            var w = NewFile(nullable: true);
            using (w.Block("namespace FluxApps.Generated"))
            {
                w.WriteLine("/// <summary>Registers this assembly's FluxApps with the worker's dispatch table when the assembly loads.</summary>");
                w.WriteLine(s_generatedCode);
                w.WriteLine(NeverBrowsable);
                using (w.Block($"internal static class {className}"))
                {
                    w.WriteLine("#pragma warning disable CA2255 // a module initializer is how the worker finds the apps of a class library");
                    w.WriteLine("[global::System.Runtime.CompilerServices.ModuleInitializer]");
                    w.WriteLine("#pragma warning restore CA2255");
                    using (w.Block("internal static void Register()"))
                    {
                        // Command apps run a program, not the worker: nothing to dispatch.
                        foreach (var app in apps.Where(a => a.ReturnKind != ReturnKind.Command).OrderBy(a => a.AppId, StringComparer.Ordinal))
                            w.WriteLine($"global::FluxApps.Runtime.FluxAppRegistry.Register({app.ContainingType}.__fluxApp_{app.MemberSuffix}, {app.ContainingType}.__fluxRun_{app.MemberSuffix});");
                        // [FluxWorkerStartup] methods: a worker process runs each once, before its first call.
                        foreach (var startup in startups.OrderBy(s => s.DisplayName, StringComparer.Ordinal))
                        {
                            string run = startup.Return switch
                            {
                                "void" => $"static () => {{ {startup.Method}(); return default; }}",
                                "Task" => $"static () => new global::System.Threading.Tasks.ValueTask({startup.Method}())",
                                _ => $"static () => {startup.Method}()",
                            };
                            w.WriteLine($"global::FluxApps.Runtime.FluxAppRegistry.RegisterWorkerStartup({Literal(startup.DisplayName)}, {run});");
                        }
                        w.WriteLine($"global::FluxApps.Worker.FluxWorker.RunIfWorkerProcess(typeof({className}).Assembly);");
                    }
                }
            }
            return w.ToString();
        }
    }
}
