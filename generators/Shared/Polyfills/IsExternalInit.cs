// Lets netstandard2.0 code use records and init accessors.
namespace System.Runtime.CompilerServices;

internal static class IsExternalInit { }
