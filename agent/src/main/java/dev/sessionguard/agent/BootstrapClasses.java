package dev.sessionguard.agent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * Makes the helper API ({@code dev/sessionguard/bootstrap/**}) one copy that advice inlined into classes of
 * any class loader resolves: its classes are defined straight into the bootstrap class loader. Nothing is
 * appended to the bootstrap class path, so HotSpot keeps class-data sharing for every class loader and
 * prints no warning. Why this is safe on JDK 8 to 25, and the fallback: docs/weaving.md, "The helper
 * classes".
 *
 * <p>A JVM keeps the helper classes for its whole life (detach leaves them, idle). An agent jar whose
 * helper classes differ from the ones already there (another build attached after a detach) refuses to
 * start: its advice would link against code it was not built with.
 */
final class BootstrapClasses {

    static final String PACKAGE = "dev/sessionguard/bootstrap/";
    /** The digest of the helper classes defined in this JVM, set when they are defined. */
    static final String BUILD_PROPERTY = "dev.sessionguard.helpers";
    /** Defines the helper classes: JDK 8 (sun.misc.Unsafe, by reflection), JDK 9 and later (a plain call). */
    private static final String DEFINER_8 = "dev.sessionguard.agent.BootDefiner";
    private static final String DEFINER_9 = "dev.sessionguard.agent.BootDefiner9";
    /** Asks whether this JVM writes a class-data archive (JDK 9 and later; a plain call). */
    private static final String DUMP_9 = "dev.sessionguard.agent.ArchiveDump9";
    /**
     * The class loader of the agent's own in which the classes above are defined, made once per premain or agentmain
     * and dropped at its end ({@link #dropInternals}): nothing reachable from application code keeps it.
     */
    private static ClassLoader internals;

    /** The helper classes there are of another build: this agent must not start. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    private BootstrapClasses() {
    }

    /** The digest of this jar's helper classes (the CLI compares it with a JVM's {@link #BUILD_PROPERTY}). */
    static String ownDigest() throws Exception {
        return digest(read());
    }

    /** Puts the helper classes in place; returns how, for the start-up line. */
    static String install(Instrumentation inst) throws Exception {
        Map<String, byte[]> classes = read();
        String build = digest(classes);
        if (onBootstrap()) {
            String there = System.getProperty(BUILD_PROPERTY);
            if (build.equals(there)) {
                return "already in this JVM";
            }
            throw new Refused("this JVM already has the helper classes of another SessionGuard build ("
                    + (there == null ? "an older agent" : "helpers " + there) + ", left by an earlier attach) and this jar's ("
                    + build + ") would run against them; SessionGuard is off: restart the JVM to use this jar, or attach the jar that was attached before");
        }
        String how;
        try {
            define(inst, classes);
            how = "defined in the bootstrap class loader";
        } catch (Throwable t) {
            // a JVM that does not allow it: the helper jar on the bootstrap class path, as before (the CDS warning comes back)
            BootstrapJar.appendTo(inst, classes);
            how = "appended to the bootstrap class path, because defining them failed (" + t + ")";
        }
        System.setProperty(BUILD_PROPERTY, build);
        return how;
    }

    /**
     * Whether this JVM writes a class-data archive: the training run or the assembly of a JDK 24+ AOT cache, or a
     * CDS dump allowed agents. The agent stays off there (docs/weaving.md, "AOT caches and CDS dumps"). False on
     * JDK 8, which has neither, and when it cannot be told.
     */
    static boolean writesArchive(Instrumentation inst) {
        try {
            ModuleSupport modules = ModuleSupport.get();
            return modules != null && ((BooleanSupplier) internal(inst, modules, DUMP_9)).getAsBoolean();
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * A new instance of {@code name}, one of the definer classes, loaded from the agent jar into a class loader of
     * its own (parent: bootstrap), made once per start. On JDK 9 and later java.base's internal package is opened to that
     * loader only (through Instrumentation#redefineModule): application code gains no access.
     */
    private static synchronized Object internal(Instrumentation inst, ModuleSupport modules, final String name) throws Exception {
        if (internals == null) {
            ClassLoader isolated = new ClassLoader(null) {
                @Override
                protected Class<?> findClass(String n) throws ClassNotFoundException {
                    byte[] bytes = null;
                    if (n.equals(DEFINER_8) || n.equals(DEFINER_9) || n.equals(DUMP_9)) {
                        try {
                            bytes = AgentJar.bytes(n.replace('.', '/') + ".class");
                        } catch (IOException e) {
                            throw new ClassNotFoundException(n, e);
                        }
                    }
                    if (bytes == null) {
                        throw new ClassNotFoundException(n);
                    }
                    return defineClass(n, bytes, 0, bytes.length);
                }
            };
            if (modules != null) {
                modules.openToLoader(inst, "jdk.internal.misc", isolated);
            }
            internals = isolated;
        }
        try {
            return internals.loadClass(name).getConstructor().newInstance();
        } catch (ClassNotFoundException e) {
            throw new IOException(name + " missing from the agent jar", e);
        }
    }

    /** Forgets the class loader of {@link #internal}: called when premain or agentmain ends, however it ends. */
    static synchronized void dropInternals() {
        internals = null;
    }

    /**
     * Defines each class with the JDK's Unsafe#defineClass and no class loader (the bootstrap loader), called by a
     * definer in the class loader of {@link #internal}. No reflective call on JDK 9 and later ({@link ModuleSupport},
     * {@code BootDefiner9}).
     */
    private static void define(Instrumentation inst, Map<String, byte[]> classes) throws Exception {
        ModuleSupport modules = ModuleSupport.get();
        @SuppressWarnings("unchecked")
        BiFunction<String, byte[], Class<?>> definer = (BiFunction<String, byte[], Class<?>>)
                internal(inst, modules, modules == null ? DEFINER_8 : DEFINER_9);
        // a class whose superclass is another helper class needs that one first: retry until none is left
        List<String> left = new ArrayList<>(classes.keySet());
        while (!left.isEmpty()) {
            List<String> again = new ArrayList<>();
            Throwable last = null;
            for (String internal : left) {
                try {
                    definer.apply(internal.replace('/', '.'), classes.get(internal));
                } catch (NoClassDefFoundError e) {
                    again.add(internal);
                    last = e;
                } catch (LinkageError e) {
                    if (!isDefined(internal)) {
                        throw e;
                    }
                }
            }
            if (again.size() == left.size()) {
                throw new IllegalStateException("cannot define " + again, last);
            }
            left = again;
        }
    }

    static boolean onBootstrap() {
        return isDefined("dev/sessionguard/bootstrap/Guard");
    }

    private static boolean isDefined(String internal) {
        try {
            Class.forName(internal.replace('/', '.'), false, null);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The list of helper class files the build wrote (instrumentation/pom.xml). */
    private static final String INDEX = "META-INF/sessionguard/helpers.idx";

    /**
     * The helper classes of the agent jar, by internal name, in name order: by the build's list, read
     * straight from the jar ({@link AgentJar}); listing the jar's thousands of entries is the fallback.
     */
    private static Map<String, byte[]> read() throws IOException {
        Map<String, byte[]> classes = new TreeMap<>();
        byte[] index = AgentJar.bytes(INDEX);
        if (index != null) {
            for (String line : new String(index, "UTF-8").split("\n")) {
                String n = line.trim();
                byte[] b = n.startsWith(PACKAGE) && n.endsWith(".class") ? AgentJar.bytes(n) : null;
                if (b != null) {
                    classes.put(n.substring(0, n.length() - ".class".length()), b);
                }
            }
        }
        if (classes.isEmpty()) {
            // a jar built without the list
            for (String n : AgentJar.names(PACKAGE)) {
                if (n.endsWith(".class")) {
                    classes.put(n.substring(0, n.length() - ".class".length()), AgentJar.bytes(n));
                }
            }
        }
        if (classes.isEmpty()) {
            throw new IOException("no " + PACKAGE + " classes in the agent jar");
        }
        return classes;
    }

    /**
     * 12 hex digits over the helper classes' names and bytes: CRC-32 and Adler-32 (both native code in the
     * JDK; a hash loop in Java runs interpreted at start-up, 4 ms here). It tells two builds' helper classes
     * apart; it is not a defence against a crafted jar (whoever can replace the agent jar runs its code anyway).
     */
    static String digest(Map<String, byte[]> classes) throws Exception {
        CRC32 crc = new CRC32();
        Adler32 adler = new Adler32();
        for (Map.Entry<String, byte[]> e : classes.entrySet()) {
            byte[] name = e.getKey().getBytes("UTF-8");
            crc.update(name, 0, name.length);
            crc.update(e.getValue(), 0, e.getValue().length);
            adler.update(name, 0, name.length);
            adler.update(e.getValue(), 0, e.getValue().length);
        }
        String h = Long.toHexString((crc.getValue() << 16) ^ (adler.getValue() & 0xffffL) | (1L << 48));
        return h.substring(1);
    }

    /** The resource {@code name} of {@code loader} (null: the system class loader), or null when it has none. */
    static byte[] resource(ClassLoader loader, String name) throws IOException {
        InputStream in = loader != null ? loader.getResourceAsStream(name) : ClassLoader.getSystemResourceAsStream(name);
        return in == null ? null : readAll(in);
    }

    static byte[] readAll(InputStream in) throws IOException {
        if (in == null) {
            throw new IOException("resource missing from the agent jar");
        }
        try (InputStream i = in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = i.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }
}
