package dev.sessionguard.instrumentation.hibernate;

import dev.sessionguard.instrumentation.Target;

/** What the Hibernate targets share: their group, their library (woven whole), one class, its methods and the API needed. */
abstract class HibernateTarget implements Target {

    private final String type;
    private final String[] required;
    private final String[] methods;

    HibernateTarget(String type, String[] required, String... methods) {
        this.type = type;
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
