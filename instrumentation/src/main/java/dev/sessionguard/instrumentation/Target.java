package dev.sessionguard.instrumentation;

import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * One instrumented library type: which classes (exact names, so that start-up never walks a class
 * hierarchy), which methods, which advice. The agent matches class names before it touches Byte Buddy.
 */
public interface Target {

    /** The value of option {@code targets} this belongs to: {@code hibernate} or {@code jdbc}. */
    String group();

    /** Binary names of the classes to instrument. */
    String[] typeNames();

    /** No-argument methods that must all be declared by the class; if one is missing the class is left alone. */
    String[] methodNames();

    /** Binds each method to its advice. */
    DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices);

    /** Loads advice classes by name, without loading them into the agent's class loader. */
    interface Advices {
        Advice to(String adviceClassName);
    }
}
