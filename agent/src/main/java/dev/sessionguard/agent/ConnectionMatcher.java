package dev.sessionguard.agent;

import dev.sessionguard.instrumentation.Target;
import dev.sessionguard.instrumentation.jdbc.ConnectionInstrumentation;
import java.io.File;
import java.security.ProtectionDomain;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Finds {@code java.sql.Connection} implementations whatever their name: drivers, pools, wrappers and
 * classes generated at run time (java.lang.reflect.Proxy connections). For each loaded class it reads
 * the class file's own header ({@link ClassHeader}); only a class that declares commit(), rollback() or
 * close() with a body is a candidate, and only for a candidate are its supertypes looked up, from their
 * class files (in the candidate's own jar or directory when they are there, else through the class's own loader:
 * {@link CodeSourceFiles}), and remembered by name. No Byte Buddy, no TypePool, no
 * class loaded. See docs/weaving.md, "Finding the classes to weave".
 */
final class ConnectionMatcher {

    private static final String CONNECTION = "java/sql/Connection";
    /** Supertypes are remembered by name; more than this many (a pathological class path) starts over. */
    private static final int MAX_REMEMBERED = 20_000;
    private static final int MAX_DEPTH = 24;

    /** Internal name of a supertype seen for a candidate: is it, or does it extend, java.sql.Connection? */
    private final ConcurrentHashMap<String, Boolean> isConnection = new ConcurrentHashMap<>();
    private final ConnectionInstrumentation[] byMethods = new ConnectionInstrumentation[8];

    ConnectionMatcher() {
        for (int mask = 1; mask < 8; mask++) {
            byMethods[mask] = ConnectionInstrumentation.declaring(
                    (mask & ClassHeader.COMMIT) != 0, (mask & ClassHeader.ROLLBACK) != 0, (mask & ClassHeader.CLOSE) != 0);
        }
    }

    /**
     * The target for {@code className}, or null when it is not a Connection implementation with a guarded method.
     * {@code pd}: the class's protection domain, whose jar or directory is read first for its supertypes.
     */
    Target match(final ClassLoader loader, ProtectionDomain pd, String className, byte[] bytes) {
        if (skipped(className, jdkLoader(loader))) {
            return null;
        }
        ClassHeader h = ClassHeader.read(bytes, true);
        if (h == null) {
            return null;
        }
        final File home = CodeSourceFiles.home(pd);
        final boolean system = loader != null && loader == ClassLoader.getSystemClassLoader();
        return match(className, h, new Function<String, byte[]>() {
            @Override
            public byte[] apply(String name) {
                return classFile(loader, home, system, name);
            }
        });
    }

    /** As above, the supertypes' class files from {@code source} (internal name to bytes, null when unknown): scan. */
    Target match(String className, ClassHeader h, Function<String, byte[]> source) {
        if (!extendsConnection(source, h, 0)) {
            return null;
        }
        remember(className, Boolean.TRUE);
        return byMethods[h.declared];
    }

    /**
     * JDK classes (except java.lang.reflect.Proxy classes, which live in jdk.proxyN or com.sun.proxy) and the agent's
     * own. {@code jdk}: the class comes from the JDK's own loaders (bootstrap, platform); only there is a com.sun class
     * the JDK's: an application server's are not (GlassFish's and Payara's connection wrappers are com.sun.gjc.spi).
     */
    static boolean skipped(String n, boolean jdk) {
        if (n.startsWith("java/") || n.startsWith("javax/") || n.startsWith("sun/") || n.startsWith("dev/sessionguard/")
                || n.contains("$$Lambda")) {
            return true;
        }
        if (n.startsWith("jdk/")) {
            return !n.startsWith("jdk/proxy");
        }
        return jdk && n.startsWith("com/sun/") && !n.startsWith("com/sun/proxy/");
    }

    /** The platform (JDK 9+) or extension (JDK 8) class loader: the system class loader's parent. */
    private static final ClassLoader PLATFORM = platform();

    private static ClassLoader platform() {
        try {
            return ClassLoader.getSystemClassLoader().getParent();
        } catch (Throwable t) {
            return null;
        }
    }

    /** Is {@code loader} one of the JDK's own (the bootstrap loader is null)? */
    static boolean jdkLoader(ClassLoader loader) {
        return loader == null || loader == PLATFORM;
    }

    private boolean extendsConnection(Function<String, byte[]> source, ClassHeader h, int depth) {
        for (String i : h.interfaces) {
            if (isConnection(source, i, depth + 1)) {
                return true;
            }
        }
        return h.superName != null && isConnection(source, h.superName, depth + 1);
    }

    private boolean isConnection(Function<String, byte[]> source, String name, int depth) {
        if (CONNECTION.equals(name)) {
            return true;
        }
        Boolean known = isConnection.get(name);
        if (known != null) {
            return known;
        }
        if (name.startsWith("java/") || name.startsWith("javax/") || name.startsWith("jdk/") || name.startsWith("sun/")
                || depth > MAX_DEPTH) {
            return false; // the JDK's only Connection is java.sql.Connection itself
        }
        byte[] bytes = source.apply(name);
        ClassHeader h = bytes == null ? null : ClassHeader.read(bytes, false);
        boolean result = h != null && extendsConnection(source, h, depth);
        remember(name, result);
        return result;
    }

    private void remember(String name, Boolean value) {
        if (isConnection.size() > MAX_REMEMBERED) {
            isConnection.clear();
        }
        isConnection.put(name, value);
    }

    /** A supertype's class file: from the candidate's own jar or directory when it is there, else from its class loader. */
    private static byte[] classFile(ClassLoader loader, File home, boolean system, String name) {
        byte[] bytes = home == null ? null : CodeSourceFiles.read(home, name + ".class", system);
        if (bytes != null) {
            return bytes;
        }
        try {
            return BootstrapClasses.resource(loader, name + ".class");
        } catch (Throwable t) {
            return null; // an odd class loader: the class is not guarded, the application runs on
        }
    }

    /** For classes already loaded (attach, detach): is {@code c} a Connection implementation declaring a guarded method? */
    static boolean isLoadedCandidate(Class<?> c, Class<?> connection) {
        return connection != null && !c.isInterface() && connection.isAssignableFrom(c)
                && !skipped(c.getName().replace('.', '/'), jdkLoader(c.getClassLoader()));
    }
}
