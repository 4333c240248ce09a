package dev.sessionguard.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;

/**
 * What the agent does with the module system of JDK 9 and later, as plain calls: the one implementation,
 * {@code ModuleSupport9}, is compiled for JDK 9 and found by name once. Not by reflection per call: from JDK 18 on,
 * each reflective call of a new shape spins method-handle classes at run time, which cost a JDK 25 premain about
 * 50 ms (docs/weaving.md, "The helper classes").
 */
abstract class ModuleSupport {

    private static ModuleSupport instance;
    private static boolean looked;

    /** The module support of this JVM, or null on JDK 8 (no modules). */
    static synchronized ModuleSupport get() throws Exception {
        if (!looked) {
            looked = true;
            if (!System.getProperty("java.specification.version", "1.8").startsWith("1.")) {
                instance = (ModuleSupport) Class.forName("dev.sessionguard.agent.ModuleSupport9").getDeclaredConstructor().newInstance();
            }
        }
        return instance;
    }

    /** Opens java.base's package {@code pkg} to the unnamed module of {@code loader} only. */
    abstract void openToLoader(Instrumentation inst, String pkg, ClassLoader loader);

    /** The transformer as the JVM calls it with the module of each class ({@link ModuleReads}). */
    abstract ClassFileTransformer moduleAware(GuardTransformer transformer, Instrumentation inst) throws Exception;
}
