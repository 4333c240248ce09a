package dev.sessionguard.agent;

import java.util.function.BiFunction;

/**
 * {@link BootDefiner} for JDK 9 and later: defines one class into the bootstrap class loader with a plain call of
 * the JDK's internal {@code Unsafe.defineClass} (public in jdk.internal.misc from JDK 9 to 25), not by reflection,
 * which from JDK 18 on spins method-handle classes at run time. Compiled against that package (agent/pom.xml,
 * execution java9-internal); it links only in the class loader of its own to which
 * {@link BootstrapClasses} opened the package (docs/weaving.md, "The helper classes").
 */
public final class BootDefiner9 implements BiFunction<String, byte[], Class<?>> {

    private final jdk.internal.misc.Unsafe unsafe = jdk.internal.misc.Unsafe.getUnsafe();

    public BootDefiner9() {
    }

    @Override
    public Class<?> apply(String name, byte[] bytes) {
        return unsafe.defineClass(name, bytes, 0, bytes.length, null, null);
    }
}
