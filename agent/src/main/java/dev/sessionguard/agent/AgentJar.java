package dev.sessionguard.agent;

import java.io.File;
import java.io.IOException;
import java.util.Collections;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The agent's own jar, read by entry name with one {@link ZipFile} that stays open for the life of the JVM
 * (the class path loader keeps the same file open anyway, and the JDK shares its central directory between
 * the two). Start-up reads the helper classes, the version and the shipped woven classes from it: the class
 * loader's getResourceAsStream would first ask its parents (a lookup in the runtime image per entry) and
 * load the URL and JarURLConnection classes, which cost 15 ms of a start-up here (docs/weaving.md).
 */
final class AgentJar {

    private static final Object NONE = new Object();
    /** The open jar, {@link #NONE} when the agent does not run from a jar file, or null before the first use. */
    private static volatile Object jar;

    private AgentJar() {
    }

    /** The bytes of {@code entry}, or null when the jar has no such entry. */
    static byte[] bytes(String entry) throws IOException {
        ZipFile z = open();
        if (z == null) {
            // not a jar file (classes on a directory, as in some tests): through the class loader
            return BootstrapClasses.resource(AgentJar.class.getClassLoader(), entry);
        }
        ZipEntry e = z.getEntry(entry);
        return e == null ? null : BootstrapClasses.readAll(z.getInputStream(e));
    }

    /** Whether the jar has {@code entry}, without reading it. */
    static boolean has(String entry) throws IOException {
        ZipFile z = open();
        if (z == null) {
            java.net.URL u = AgentJar.class.getClassLoader() == null ? null : AgentJar.class.getClassLoader().getResource(entry);
            return u != null;
        }
        return z.getEntry(entry) != null;
    }

    /** The names of the entries under {@code prefix} (a jar built without the list of helper classes). */
    static java.util.List<String> names(String prefix) throws IOException {
        ZipFile z = open();
        if (z == null) {
            throw new IOException("the agent does not run from a jar file: " + location());
        }
        java.util.List<String> names = new java.util.ArrayList<>();
        for (ZipEntry e : Collections.list(z.entries())) {
            if (e.getName().startsWith(prefix)) {
                names.add(e.getName());
            }
        }
        return names;
    }

    private static ZipFile open() throws IOException {
        Object j = jar;
        if (j == null) {
            synchronized (AgentJar.class) {
                j = jar;
                if (j == null) {
                    File f = file();
                    j = f != null && f.isFile() ? new ZipFile(f) : NONE;
                    jar = j;
                }
            }
        }
        return j == NONE ? null : (ZipFile) j;
    }

    /** The agent jar as a file, or null when the agent's classes do not come from a local file. */
    static File file() {
        try {
            java.net.URL location = location();
            return location == null || !"file".equals(location.getProtocol()) ? null : new File(location.toURI());
        } catch (Exception e) {
            return null;
        }
    }

    private static java.net.URL location() {
        java.security.CodeSource cs = AgentJar.class.getProtectionDomain().getCodeSource();
        return cs == null ? null : cs.getLocation();
    }
}
