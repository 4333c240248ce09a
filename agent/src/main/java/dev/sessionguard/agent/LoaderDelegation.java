package dev.sessionguard.agent;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * Class loaders that do not delegate unknown packages to the bootstrap class loader (JBoss Modules in
 * WildFly and JBoss EAP, OSGi frameworks): woven code in their classes must still reach the helper
 * classes, or every guarded call would throw NoClassDefFoundError inside the advice's suppress handler and
 * run unguarded, in silence. With {@code -javaagent}, the agent adds its helper package to the system
 * properties those loaders read once at start-up ({@code jboss.modules.system.pkgs},
 * {@code org.osgi.framework.bootdelegation}); before weaving a class, it checks that the class's loader
 * sees the helper classes, and leaves the classes of a loader that does not alone, with one WARN line
 * naming the option to add (an attach after JBoss Modules has started). See docs/weaving.md, "Class loaders
 * that do not delegate".
 */
final class LoaderDelegation {

    static final String HELPER_PACKAGE = "dev.sessionguard.bootstrap";
    static final String JBOSS_MODULES = "jboss.modules.system.pkgs";
    static final String OSGI = "org.osgi.framework.bootdelegation";

    /** Per class loader: does it see the helper classes? Weak keys. Guarded by itself. */
    private final Map<ClassLoader, Boolean> sees = new WeakHashMap<>();
    private final LogSink log;

    LoaderDelegation(LogSink log) {
        this.log = log;
    }

    /**
     * Premain only (nothing has read them yet): the helper package appended to both properties, kept as the
     * user set them otherwise (WildFly's standalone.conf sets {@code org.jboss.byteman}). The OSGi one only when it
     * is set: an OSGi launcher reads its framework properties from its own configuration file and copies the
     * system properties over them (Apache Felix's Main, Equinox), so a property made here would replace the
     * product's own list ({@code sun.*,com.sun.*}: its bundles then lose the JDK's internal packages); without
     * it, the classes of a bundle loader that does not see the helpers are left alone with a WARN naming the
     * property. JBoss Modules reads its property from the system properties only. Returns what changed, for the
     * start-up line, or null.
     */
    static String arrange() {
        StringBuilder changed = new StringBuilder();
        for (String key : new String[] {JBOSS_MODULES, OSGI}) {
            String value = System.getProperty(key);
            if (contains(value, HELPER_PACKAGE) || (key.equals(OSGI) && (value == null || value.trim().isEmpty()))) {
                continue;
            }
            String v = value == null || value.trim().isEmpty() ? HELPER_PACKAGE : value.trim() + "," + HELPER_PACKAGE;
            System.setProperty(key, v);
            changed.append(changed.length() == 0 ? "" : ", ").append(key).append('=').append(v);
        }
        return changed.length() == 0 ? null : changed.toString();
    }

    static boolean contains(String list, String pkg) {
        if (list == null) {
            return false;
        }
        for (String part : list.split(",")) {
            String p = part.trim();
            if (p.equals(pkg) || p.equals(pkg + ".*") || p.equals("*") || (!p.isEmpty() && pkg.startsWith(p.endsWith(".*") ? p.substring(0, p.length() - 1) : p + "."))) {
                return true;
            }
        }
        return false;
    }

    /** True when classes of {@code loader} resolve the helper classes to the bootstrap copy; else one WARN per loader. */
    boolean seesHelpers(ClassLoader loader, String firstClass) {
        if (loader == null) {
            return true;
        }
        synchronized (sees) {
            Boolean known = sees.get(loader);
            if (known != null) {
                return known;
            }
        }
        boolean ok;
        try {
            ok = Class.forName(HELPER_PACKAGE + ".Guard", false, loader) == dev.sessionguard.bootstrap.Guard.class;
        } catch (Throwable t) {
            ok = false;
        }
        synchronized (sees) {
            Boolean raced = sees.put(loader, ok);
            if (raced != null) {
                return raced;
            }
        }
        if (!ok) {
            log.warn("left the classes of " + describe(loader) + " uninstrumented (the first: " + firstClass + "): that class loader does not"
                    + " delegate " + HELPER_PACKAGE + " to the bootstrap class loader, so woven code there could not reach SessionGuard's"
                    + " helper classes" + hint(loader), null);
        }
        return ok;
    }

    private static String describe(ClassLoader loader) {
        String s;
        try {
            s = String.valueOf(loader);
        } catch (Throwable t) {
            s = loader.getClass().getName();
        }
        return s.length() > 160 ? s.substring(0, 160) + "..." : s;
    }

    private static String hint(ClassLoader loader) {
        for (Class<?> c = loader.getClass(); c != null; c = c.getSuperclass()) {
            String n = c.getName();
            if (n.startsWith("org.jboss.modules.")) {
                return "; JBoss Modules reads -D" + JBOSS_MODULES + " once, when it starts: add " + HELPER_PACKAGE
                        + " to it (-D" + JBOSS_MODULES + "=org.jboss.byteman," + HELPER_PACKAGE + " in standalone.conf's JAVA_OPTS), or start"
                        + " SessionGuard with -javaagent, which adds it itself; an agent attached later cannot";
            }
            if (n.startsWith("org.eclipse.osgi.") || n.startsWith("org.apache.felix.")) {
                return "; OSGi: add " + HELPER_PACKAGE + " to the framework property " + OSGI + " (in the framework's"
                        + " configuration, or as -D" + OSGI + "=<its list>," + HELPER_PACKAGE + ")";
            }
        }
        return "; its class loader must delegate that package to its parent or to the bootstrap class loader";
    }
}
