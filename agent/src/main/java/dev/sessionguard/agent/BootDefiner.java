package dev.sessionguard.agent;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.function.BiFunction;

/**
 * Defines one class into the bootstrap class loader on JDK 8: {@code apply(name, bytes)}, through
 * sun.misc.Unsafe#defineClass (gone from JDK 11 on; JDK 9 and later use {@code BootDefiner9}). Never loaded by
 * the agent's own class loader: {@link BootstrapClasses} defines it in a class loader of its own
 * (docs/weaving.md, "The helper classes").
 */
public final class BootDefiner implements BiFunction<String, byte[], Class<?>> {

    private final Object unsafe;
    private final Method define;

    public BootDefiner() throws Exception {
        Class<?> type = Class.forName("sun.misc.Unsafe");
        Field f = type.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Object instance = f.get(null);
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
