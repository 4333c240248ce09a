package dev.sessionguard.agent;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads a class file from the jar or directory another class was loaded from (its code source, a {@code file:}
 * location), for {@link ConnectionMatcher}: a candidate's supertypes are nearly always in its own jar, and reading
 * them there takes a hash lookup in that jar, where the class loader's getResourceAsStream first asks its parents, then
 * tries each jar of its class path in turn and goes through the URL machinery (about 0.5 ms a class file before the
 * JIT compiled it, 51 of them in the Hibernate 5.6 program's start: 23 ms; docs/weaving.md, "Finding the classes to
 * weave"). Null whenever this cannot answer as the class loader would, and the caller asks the class loader: no
 * {@code file:} location, the entry not there, or a multi-release jar with a version of the entry for this JDK.
 *
 * <p>The jars of the system class loader's class path stay open here, as that loader keeps them; any other jar is
 * opened for each read and closed again. The class loader that loaded the class keeps the same file open, so the JDK
 * shares its central directory and the open is cheap; holding it here would keep the file of an undeployed webapp
 * open.
 */
final class CodeSourceFiles {

    /** This JDK's feature version: a multi-release jar's entries for 9 up to it take precedence (JDK 9 and later). */
    private static final int FEATURE = feature(System.getProperty("java.specification.version"));

    private CodeSourceFiles() {
    }

    private static final Object NONE = new Object();
    /** Per protection domain (weakly: a webapp's go with it): its file or directory, or NONE. Guarded by itself. */
    private static final java.util.Map<ProtectionDomain, Object> HOMES = new java.util.WeakHashMap<ProtectionDomain, Object>();
    /**
     * The jars of the system class loader's class path, open: that loader keeps them open for the life of the JVM
     * anyway. Any other class loader's jar is opened for each read and closed again (an undeployed webapp's jar must
     * not stay open on our account).
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, ZipFile> SYSTEM_JARS =
            new java.util.concurrent.ConcurrentHashMap<String, ZipFile>();

    /** The file or directory {@code pd}'s classes come from, or null (no code source, not a local file). */
    static File home(ProtectionDomain pd) {
        if (pd == null) {
            return null;
        }
        synchronized (HOMES) {
            Object known = HOMES.get(pd);
            if (known != null) {
                return known == NONE ? null : (File) known;
            }
        }
        File home = null;
        try {
            CodeSource cs = pd.getCodeSource();
            URL location = cs == null ? null : cs.getLocation();
            if (location != null && "file".equals(location.getProtocol())) {
                File f = new File(location.toURI());
                home = f.isDirectory() || (f.isFile() && f.getName().endsWith(".jar")) ? f : null;
            }
        } catch (Throwable t) {
            home = null; // an odd code source: the class loader answers
        }
        synchronized (HOMES) {
            HOMES.put(pd, home == null ? NONE : home);
        }
        return home;
    }

    /**
     * The bytes of {@code entry} (a class file's path, {@code a/b/C.class}) in {@code home}, or null. {@code system}:
     * the class was loaded by the system class loader, whose jars may stay open.
     */
    static byte[] read(File home, String entry, boolean system) {
        try {
            if (home.isDirectory()) {
                File f = new File(home, entry.replace('/', File.separatorChar));
                return f.isFile() ? BootstrapClasses.readAll(new FileInputStream(f)) : null;
            }
            if (system) {
                String path = home.getPath();
                ZipFile z = SYSTEM_JARS.get(path);
                if (z == null) {
                    z = new ZipFile(home);
                    ZipFile raced = SYSTEM_JARS.putIfAbsent(path, z);
                    if (raced != null) {
                        z.close();
                        z = raced;
                    }
                }
                return read(z, entry);
            }
            try (ZipFile z = new ZipFile(home)) {
                return read(z, entry);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static byte[] read(ZipFile z, String entry) throws IOException {
        if (FEATURE >= 9 && multiRelease(z)) {
            for (int v = 9; v <= FEATURE; v++) {
                if (z.getEntry("META-INF/versions/" + v + "/" + entry) != null) {
                    return null; // a multi-release jar serves its version for this JDK: the class loader knows which
                }
            }
        }
        ZipEntry e = z.getEntry(entry);
        return e == null ? null : BootstrapClasses.readAll(z.getInputStream(e));
    }

    /** Per jar file: does its manifest say Multi-Release: true? (A few hundred jars at most: kept for the JVM's life.) */
    private static final java.util.concurrent.ConcurrentHashMap<String, Boolean> MULTI_RELEASE =
            new java.util.concurrent.ConcurrentHashMap<String, Boolean>();

    private static boolean multiRelease(ZipFile z) throws IOException {
        String key = z.getName();
        Boolean known = MULTI_RELEASE.get(key);
        if (known == null) {
            ZipEntry m = z.getEntry("META-INF/MANIFEST.MF");
            String value = null;
            if (m != null) {
                try (java.io.InputStream in = z.getInputStream(m)) {
                    value = new java.util.jar.Manifest(in).getMainAttributes().getValue("Multi-Release");
                }
            }
            known = value != null && "true".equalsIgnoreCase(value.trim());
            MULTI_RELEASE.put(key, known);
        }
        return known;
    }

    static int feature(String specification) {
        try {
            return specification == null || specification.startsWith("1.") ? 8 : Integer.parseInt(specification.split("\\.")[0]);
        } catch (NumberFormatException e) {
            return 64; // not a number we know: any versioned entry sends the read to the class loader
        }
    }
}
