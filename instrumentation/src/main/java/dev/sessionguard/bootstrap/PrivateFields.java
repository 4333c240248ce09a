package dev.sessionguard.bootstrap;

import java.lang.reflect.Field;

/**
 * Reads a field a library keeps private, where a version offers no other way to what the advice needs
 * (Hibernate 5.2: the session of a transaction). One reflective lookup per class, kept in a ClassValue (no
 * class loader retained beyond its classes); any failure reads as null: the advice then does without.
 */
final class PrivateFields {

    private final String name;
    private final ClassValue<Field> byClass = new ClassValue<Field>() {
        @Override
        protected Field computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    Field f = c.getDeclaredField(name);
                    f.setAccessible(true);
                    return f;
                } catch (NoSuchFieldException e) {
                    // look in the superclass
                } catch (RuntimeException e) {
                    return null; // not accessible (a named module that does not open its package)
                }
            }
            return null;
        }
    };

    PrivateFields(String name) {
        this.name = name;
    }

    Object read(Object o) {
        if (o == null) {
            return null;
        }
        Field f = byClass.get(o.getClass());
        try {
            return f == null ? null : f.get(o);
        } catch (IllegalAccessException | RuntimeException e) {
            return null;
        }
    }
}
