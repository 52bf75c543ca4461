using System;
using System.Linq;
using System.Reflection;
using FluxApps.Serialization;

namespace FluxApps.TestApps.Payloads;

/// <summary>
/// The serializers the generator emitted for this assembly's apps, found by the type they write
/// and read, so tests exercise exactly the code a worker and a stub run. Types the generator
/// writes inline (primitives) map to the <see cref="FluxWriter"/>/<see cref="FluxReader"/> calls it emits.
/// </summary>
public static class GeneratedSerializers
{
    private static readonly Type s_serializers = typeof(GeneratedSerializers).Assembly
        .GetType("FluxApps.Generated.FluxAppsSerializers_FluxApps_TestApps", throwOnError: true)!;

    /// <summary>Writes a <typeparamref name="T"/> as generated code does.</summary>
    public static Action<FluxWriter, T> Writer<T>()
    {
        if (Primitive<T>() is { } name)
            return typeof(FluxWriter).GetMethod("Write" + name, [typeof(T)])!.CreateDelegate<Action<FluxWriter, T>>();
        return Find("Write_", m => m.ReturnType == typeof(void) && m.GetParameters()[1].ParameterType == typeof(T))
            .CreateDelegate<Action<FluxWriter, T>>();
    }

    /// <summary>Reads a <typeparamref name="T"/> as generated code does.</summary>
    public static Func<FluxReader, T> Reader<T>()
    {
        if (Primitive<T>() is { } name)
            return typeof(FluxReader).GetMethod("Read" + name, Type.EmptyTypes)!.CreateDelegate<Func<FluxReader, T>>();
        return Find("Read_", m => m.ReturnType == typeof(T)).CreateDelegate<Func<FluxReader, T>>();
    }

    /// <summary>The bytes generated code writes for <paramref name="value"/>.</summary>
    public static byte[] Write<T>(T value)
    {
        var w = new FluxWriter();
        Writer<T>()(w, value);
        return w.ToArray();
    }

    /// <summary>Reads a whole payload as a <typeparamref name="T"/>; unread bytes are an error, as in a result.</summary>
    public static T Read<T>(byte[] payload)
    {
        var r = new FluxReader(payload);
        T value = Reader<T>()(r);
        r.CompleteResult();
        return value;
    }

    /// <summary>Writes and reads back <paramref name="value"/>.</summary>
    public static T RoundTrip<T>(T value) => Read<T>(Write(value));

    private static string? Primitive<T>() => Type.GetTypeCode(typeof(T)) switch
    {
        TypeCode.String => "String",
        TypeCode.Int32 => "Int32",
        TypeCode.Int64 => "Int64",
        TypeCode.Double => "Double",
        _ => typeof(T) == typeof(byte[]) ? "Bytes" : null,
    };

    private static MethodInfo Find(string prefix, Func<MethodInfo, bool> matches)
    {
        var found = s_serializers.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name.StartsWith(prefix, StringComparison.Ordinal) && matches(m)).ToList();
        return found.Count == 1 ? found[0] : throw new InvalidOperationException(
            $"{found.Count} generated {prefix} methods match; is the type a parameter or result of an app in FluxApps.TestApps?");
    }
}
