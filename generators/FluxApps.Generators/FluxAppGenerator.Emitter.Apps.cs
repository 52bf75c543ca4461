using System.Collections.Generic;
using System.Linq;

namespace FluxApps.Generators;

public sealed partial class FluxAppGenerator
{
    internal static partial class Emitter
    {
        /// <summary>
        /// The file of one containing type: for each app, its stub, its descriptor and its worker entry point,
        /// inside the user's own nesting of partial types. They go into the user's type (not a namespace of
        /// their own, as Orleans does) so that the stub sits beside the method and can call it, private or not.
        /// </summary>
        private static string EmitType(List<AppSpec> apps, SortedDictionary<string, TypeShape> shapes, string serializers)
        {
            var first = apps[0];
            var w = NewFile(nullable: true);
            // The namespace and every type around the apps, outermost first; closed innermost first.
            var enclosing = new Stack<SourceWriter.Scope>();
            if (first.Namespace.Length > 0) enclosing.Push(w.Block("namespace " + first.Namespace));
            foreach (var type in first.Hierarchy) enclosing.Push(w.Block("partial " + type.Keyword + " " + type.Name));
            for (int i = 0; i < apps.Count; i++)
            {
                if (i > 0) w.WriteLine();
                EmitApp(w, apps[i], shapes, serializers);
            }
            while (enclosing.Count > 0) enclosing.Pop().Dispose();
            return w.ToString();
        }

        private static void EmitApp(SourceWriter w, AppSpec app, SortedDictionary<string, TypeShape> shapes, string serializers)
        {
            string descriptor = "__fluxApp_" + app.MemberSuffix;
            bool hasResult = app.ResultKey is not null;
            bool isCommand = app.ReturnKind == ReturnKind.Command;
            string futureType = isCommand ? "global::FluxApps.FluxFuture<global::FluxApps.FluxCommandResult>"
                : hasResult ? "global::FluxApps.FluxFuture<" + app.ResultType + ">" : "global::FluxApps.FluxFuture";

            EmitStubDocumentation(w, app);
            w.WriteLine(s_generatedCode);
            var parameters = app.Parameters.Select(p => p.Type + " " + p.Name + (p.DefaultValue is null ? "" : " = " + p.DefaultValue)).ToList();
            parameters.Add("global::FluxApps.FluxCallOptions? " + app.OptionsName + " = null");
            parameters.Add("global::System.Threading.CancellationToken " + app.CancellationName + " = default");
            using (w.Block($"{app.Accessibility} static {futureType} {app.StubName}({string.Join(", ", parameters)})"))
            {
                if (isCommand)
                {
                    // A command app builds its command line here, in the caller; the job runs the program itself.
                    var arguments = app.Parameters.Select(p => p.Name).ToList();
                    if (app.TakesCancellationToken) arguments.Add(app.CancellationName);
                    w.WriteLine($"return global::FluxApps.Runtime.FluxAppInvoker.InvokeCommand({descriptor}, {app.MethodName}({string.Join(", ", arguments)}), {app.OptionsName}, {app.CancellationName});");
                }
                else
                {
                    w.WriteLine("var __fluxArgs = global::FluxApps.Runtime.FluxAppInvoker.CreateArgumentWriter();");
                    foreach (var p in app.Parameters)
                        w.WriteLine(WriteExpression(shapes[p.TypeKey], "__fluxArgs", p.Name, serializers) + ";");
                    if (hasResult)
                        w.WriteLine($"return global::FluxApps.Runtime.FluxAppInvoker.Invoke<{app.ResultType}>({descriptor}, __fluxArgs, static __fluxResult => {ReadExpression(shapes[app.ResultKey!], "__fluxResult", serializers)}, {app.OptionsName}, {app.CancellationName});");
                    else
                        w.WriteLine($"return global::FluxApps.Runtime.FluxAppInvoker.Invoke({descriptor}, __fluxArgs, {app.OptionsName}, {app.CancellationName});");
                }
            }
            w.WriteLine();
            EmitDescriptor(w, app, descriptor);
            // A command app runs a program, not the worker: it has no entry point.
            if (isCommand) return;
            w.WriteLine();
            EmitWorkerEntryPoint(w, app, shapes, serializers);
        }

        private static void EmitStubDocumentation(SourceWriter w, AppSpec app)
        {
            var types = app.Parameters.Select(p => p.TypeKey.Replace("global::", "").Replace('<', '{').Replace('>', '}')).ToList();
            if (app.TakesCancellationToken) types.Add("System.Threading.CancellationToken");
            string cref = app.MethodName.TrimStart('@') + "(" + string.Join(", ", types) + ")";
            w.WriteLine("/// <summary>");
            w.WriteLine(app.ReturnKind == ReturnKind.Command
                ? $"/// Builds the command of <see cref=\"{cref}\"/> and runs it as a job ({Describe(app)}): every rank runs the program."
                : $"/// Runs <see cref=\"{cref}\"/> as a job ({Describe(app)}) and returns its pending result.");
            w.WriteLine("/// </summary>");
            foreach (var p in app.Parameters)
                w.WriteLine($"/// <param name=\"{p.Name.TrimStart('@')}\">Passed to the app.</param>");
            w.WriteLine($"/// <param name=\"{app.OptionsName}\">Per-call overrides of resources, environment and runtime; null for the attribute's values.</param>");
            w.WriteLine(app.TakesCancellationToken
                ? $"/// <param name=\"{app.CancellationName}\">Cancels the job, queued or running; the running app sees it through its own token.</param>"
                : $"/// <param name=\"{app.CancellationName}\">Cancels the job, queued or running.</param>");
            w.WriteLine("/// <returns>The job's future: awaitable, with its job id, state and events.</returns>");
        }

        /// <summary>The descriptor: the app's identity and resources.</summary>
        private static void EmitDescriptor(SourceWriter w, AppSpec app, string descriptor)
        {
            w.WriteLine(s_generatedCode);
            w.WriteLine(NeverBrowsable);
            w.WriteLine($"internal static readonly global::FluxApps.Runtime.FluxAppDescriptor {descriptor} = new global::FluxApps.Runtime.FluxAppDescriptor(");
            using (w.Indent())
            {
                w.WriteLine($"{Literal(app.AppId)}, {Literal(app.DisplayName)}, typeof({app.ContainingType}),");
                w.WriteLine($"cpus: {app.Cpus}, gpus: {app.Gpus}, mpiRanks: {app.MpiRanks}, nodes: {app.Nodes}, exclusive: {(app.Exclusive ? "true" : "false")},");
                w.WriteLine($"timeLimit: {Literal(app.TimeLimit)}, queue: {Literal(app.Queue)}, urgency: {app.Urgency}, name: {Literal(app.Name)})");
                // Init properties, so descriptors written by hand against the constructor keep compiling.
                using (w.Block(closing: "};"))
                {
                    if (app.Retries != 0) w.WriteLine($"Retries = {app.Retries},");
                    if (app.RetryOnAppException) w.WriteLine("RetryOnAppException = true,");
                    if (app.Cache) w.WriteLine("Cache = true,");
                    if (app.Pool is not null) w.WriteLine($"Pool = {Literal(app.Pool)},");
                    w.WriteLine($"CodeHash = {Literal(app.CodeHash)},");
                }
            }
        }

        /// <summary>What the worker runs inside the job: reads the arguments, calls the method, writes its result.</summary>
        private static void EmitWorkerEntryPoint(SourceWriter w, AppSpec app, SortedDictionary<string, TypeShape> shapes, string serializers)
        {
            bool hasResult = app.ResultKey is not null;
            bool isAsync = app.ReturnKind is ReturnKind.Task or ReturnKind.ValueTask or ReturnKind.TaskOfT or ReturnKind.ValueTaskOfT;
            w.WriteLine(s_generatedCode);
            w.WriteLine(NeverBrowsable);
            // An app that takes a CancellationToken gets the call's token: cancelled when the call is cancelled or passes its time limit.
            string token = app.TakesCancellationToken ? ", global::System.Threading.CancellationToken __fluxCancel" : "";
            using (w.Block($"internal static {(isAsync ? "async " : "")}global::System.Threading.Tasks.ValueTask __fluxRun_{app.MemberSuffix}({Reader} __fluxIn, {Writer} __fluxOut{token})"))
            {
                for (int i = 0; i < app.Parameters.Count; i++)
                    w.WriteLine($"var __fluxArg{i} = {ReadExpression(shapes[app.Parameters[i].TypeKey], "__fluxIn", serializers)};");
                w.WriteLine("__fluxIn.CompleteArguments();");
                var arguments = app.Parameters.Select((_, i) => "__fluxArg" + i).ToList();
                if (app.TakesCancellationToken) arguments.Add("__fluxCancel");
                string call = $"{app.MethodName}({string.Join(", ", arguments)})";
                if (isAsync) call = "await " + call + ".ConfigureAwait(false)";
                w.WriteLine(hasResult ? $"var __fluxValue = {call};" : call + ";");
                w.WriteLine("__fluxOut.StartResult();");
                if (hasResult) w.WriteLine(WriteExpression(shapes[app.ResultKey!], "__fluxOut", "__fluxValue", serializers) + ";");
                if (!isAsync) w.WriteLine("return default;");
            }
        }

        private static string Describe(AppSpec app)
        {
            var parts = new List<string> { $"{app.MpiRanks} rank(s) x {app.Cpus} core(s)" };
            if (app.Gpus > 0) parts.Add($"{app.Gpus} GPU(s) per rank");
            if (app.Nodes > 0) parts.Add($"{app.Nodes} node(s)");
            if (app.TimeLimit is not null) parts.Add("time limit " + app.TimeLimit);
            return System.Security.SecurityElement.Escape(string.Join(", ", parts));
        }
    }
}
