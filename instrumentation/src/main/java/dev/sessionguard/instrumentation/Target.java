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

    /**
     * Types the advice refers to that the library must have, visible from the class's loader; when one is
     * missing (an older version) the class is left alone with one WARN line, never half-instrumented.
     */
    default String[] requiredTypes() {
        return new String[0];
    }

    /**
     * The library this target belongs to, whose targets are woven whole or not at all (never Hibernate's
     * SessionImpl without its TransactionImpl), or null when the target stands alone.
     */
    default String library() {
        return null;
    }

    /**
     * The part of its library this target's classes play (Hibernate: "session", "transaction"), or null. A library
     * is woven when each of its parts has a class in the class loader and every one of its classes that is there
     * fits: Hibernate 4.x has AbstractTransactionImpl where 5.0 on have TransactionImpl, and neither may be
     * missing (docs/weaving.md, "Gating").
     */
    default String part() {
        return null;
    }

    /**
     * The advice for the versions before the ones this target fits (the same classes, other internals:
     * Hibernate 5.0 and 5.1), tried when this one does not fit; null when there is none. Per-version advice
     * is a chain newest first, and a class is woven by the first that fits (docs/weaving.md, "Hibernate versions").
     */
    default Target older() {
        return null;
    }

    /** Binds each method to its advice. */
    DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices);

    /** Loads advice classes by name, without loading them into the agent's class loader. */
    interface Advices {
        Advice to(String adviceClassName);
    }
}
