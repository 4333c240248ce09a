package dev.sessionguard.agent;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.function.BiFunction;

/**
 * Defines one class into the bootstrap class loader: {@code apply(name, bytes)}. Never loaded by the
 * agent's own class loader: {@link BootstrapClasses} defines it in a class loader of its own, the only
 * one to which java.base's {@code jdk.internal.misc} is opened, so that no application class gains access
 * to the JDK's internal Unsafe (docs/weaving.md, "The helper classes").
 */
public final class BootDefiner implements BiFunction<String, byte[], Class<?>> {

    private final Object unsafe;
    private final Method define;

    public BootDefiner() throws Exception {
        Class<?> type;
        Object instance;
        try {
            // JDK 9 and later (sun.misc.Unsafe#defineClass is gone from JDK 11 on)
            type = Class.forName("jdk.internal.misc.Unsafe");
            Method get = type.getMethod("getUnsafe");
            get.setAccessible(true);
            instance = get.invoke(null);
        } catch (ClassNotFoundException jdk8) {
            type = Class.forName("sun.misc.Unsafe");
            Field f = type.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            instance = f.get(null);
        }
        Method m = type.getMethod("defineClass", String.class, byte[].class, int.class, int.class,
                ClassLoader.class, java.security.ProtectionDomain.class);
        m.setAccessible(true);
        this.unsafe = instance;
        this.define = m;
    }

    @Override
    public Class<?> apply(String name, byte[] bytes) {
        try {
            return (Class<?>) define.invoke(unsafe, name, bytes, 0, bytes.length, null, null);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable t = e.getCause();
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            throw new IllegalStateException(t);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
