package dev.sessionguard.instrumentation.hibernate;

import dev.sessionguard.instrumentation.Target;

/** What the Hibernate targets share: their group, their library (woven whole), one class, its methods and the API needed. */
abstract class HibernateTarget implements Target {

    private final String type;
    private final String part;
    private final String[] required;
    private final String[] methods;

    /** {@code part}: "session" or "transaction" (Target.part()). */
    HibernateTarget(String type, String part, String[] required, String... methods) {
        this.type = type;
        this.part = part;
        this.required = required;
        this.methods = methods;
    }

    @Override
    public final String group() {
        return "hibernate";
    }

    @Override
    public final String library() {
        return HibernateApi.LIBRARY;
    }

    @Override
    public final String part() {
        return part;
    }

    @Override
    public final String[] typeNames() {
        return new String[] {type};
    }

    @Override
    public final String[] methodNames() {
        return methods.clone();
    }

    @Override
    public final String[] requiredTypes() {
        return required.clone();
    }
}
