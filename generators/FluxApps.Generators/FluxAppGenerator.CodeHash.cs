using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FluxApps.Generators;

public sealed partial class FluxAppGenerator
{
    /// <summary>
    /// The checkpoint key's code part: a hash of what decides an app's result as far as the compiler
    /// can see it. It covers the method's declaration (modifiers, signature, body; not its attributes,
    /// so changing resources or retries keeps stored results, and not comments or whitespace) and the
    /// serialized shapes of its parameter and result types, recursively (members, their types and
    /// order). It does not cover helpers the method calls, files it reads or its environment: those
    /// are the user's to invalidate (README, "Checkpoints").
    /// </summary>
    internal static class CodeHash
    {
        /// <summary>Bumped when what the hash covers changes, so old entries become misses.</summary>
        private const string Version = "1";

        public static string Of(IMethodSymbol method, ReturnKind returnKind, EquatableArray<TypeShape> shapes, CancellationToken cancellationToken)
        {
            var text = new StringBuilder();
            text.Append("v").Append(Version).Append('\n');
            foreach (var reference in method.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is not MethodDeclarationSyntax declaration) continue;
                // Tokens without trivia: reformatting or commenting does not change the hash.
                foreach (var token in declaration.DescendantTokens())
                {
                    if (token.Parent is { } parent && parent.AncestorsAndSelf().Any(n => n is AttributeListSyntax)) continue;
                    text.Append(token.Text).Append(' ');
                }
                text.Append('\n');
            }
            text.Append("returns ").Append(returnKind).Append('\n');
            foreach (var shape in shapes)
            {
                text.Append(shape.Key).Append(' ').Append(shape.Kind).Append(' ').Append(shape.Primitive).Append(' ')
                    .Append(shape.Element).Append(' ').Append(shape.Value).Append(' ').Append(shape.ConstructorArity);
                foreach (var member in shape.Members)
                    text.Append(" | ").Append(member.Name).Append(':').Append(member.TypeKey).Append('@').Append(member.ConstructorIndex);
                text.Append('\n');
            }
            using var sha = SHA256.Create();
            byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(text.ToString()));
            var hex = new StringBuilder(32);
            for (int i = 0; i < 16; i++) hex.Append(hash[i].ToString("x2"));
            return hex.ToString();
        }
    }
}
