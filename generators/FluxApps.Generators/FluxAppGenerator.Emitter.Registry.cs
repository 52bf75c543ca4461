using System;
using System.Linq;

namespace FluxApps.Generators;

public sealed partial class FluxAppGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// The assembly's registry: a module initializer that enters every app into the worker's dispatch
        /// table, and then lets this process become the worker when it was started as one.
        /// </summary>
        private static string EmitRegistry(EquatableArray<AppSpec> apps, string assemblyName)
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
                        w.WriteLine($"global::FluxApps.Worker.FluxWorker.RunIfWorkerProcess(typeof({className}).Assembly);");
                    }
                }
            }
            return w.ToString();
        }
    }
}
