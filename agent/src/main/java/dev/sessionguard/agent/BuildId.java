package dev.sessionguard.agent;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The identity of an agent build, from its contents: written by the build ({@link Scan#main}, after the shipped
 * classes are woven) into the jar as {@link #RESOURCE}, and part of the name of the directories a build keeps its
 * files in ({@link PrivateDir#build}): the woven-class cache and the fallback bootstrap jar. A rebuilt agent of the
 * same version must never read another build's woven classes (they call the helper classes of the build that wove
 * them); the jar's size and time alone did not tell two builds apart when an image builder sets every file's time
 * to one value (Jib, Nix) and the sizes happen to be equal. See docs/weaving.md, "Woven-class cache".
 */
final class BuildId {

    static final String RESOURCE = "META-INF/sessionguard/build-id";

    private BuildId() {
    }

    /**
     * 16 hex digits over every file under {@code classes} (its path and bytes, in path order; the id itself left out)
     * and every jar or directory of {@code classpath} (the helper classes, the advice, Byte Buddy: their bytes).
     */
    static String compute(File classes, List<File> classpath) throws IOException {
        long[] h = {0xcbf29ce484222325L, 0x9E3779B97F4A7C15L};
        mixTree(h, classes);
        for (File f : classpath) {
            if (f.isFile()) {
                mix(h, read(f));
            } else if (f.isDirectory() && !f.getCanonicalFile().equals(classes.getCanonicalFile())) {
                mixTree(h, f);
            }
        }
        String a = Long.toHexString(h[0] ^ Long.rotateLeft(h[1], 17));
        return "0000000000000000".substring(a.length()) + a;
    }

    /** The build's class path as Maven's exec plugin gives it: the class loader that loaded this class. */
    static List<File> classpathOf(ClassLoader loader) {
        List<File> files = new ArrayList<File>();
        for (ClassLoader l = loader; l != null; l = l.getParent()) {
            if (l instanceof URLClassLoader) {
                for (URL u : ((URLClassLoader) l).getURLs()) {
                    if ("file".equals(u.getProtocol())) {
                        try {
                            files.add(new File(u.toURI()));
                        } catch (Exception e) {
                            files.add(new File(u.getPath()));
                        }
                    }
                }
            }
        }
        if (files.isEmpty()) {
            for (String p : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
                if (!p.isEmpty()) {
                    files.add(new File(p));
                }
            }
        }
        return files;
    }

    /** Every file under {@code dir}, its path and bytes, in path order; the id itself left out. */
    private static void mixTree(long[] h, File dir) throws IOException {
        List<String> files = new ArrayList<String>();
        list(dir, "", files);
        java.util.Collections.sort(files);
        for (String f : files) {
            if (!f.equals(RESOURCE)) {
                mix(h, f.getBytes(StandardCharsets.UTF_8));
                mix(h, read(new File(dir, f)));
            }
        }
    }

    private static void list(File dir, String prefix, List<String> out) {
        String[] names = dir.list();
        if (names == null) {
            return;
        }
        Arrays.sort(names);
        for (String n : names) {
            File f = new File(dir, n);
            if (f.isDirectory()) {
                list(f, prefix + n + "/", out);
            } else {
                out.add(prefix + n);
            }
        }
    }

    private static byte[] read(File f) throws IOException {
        return BootstrapClasses.readAll(new FileInputStream(f));
    }

    /** Two 64-bit lanes over the length and the bytes (not a digest: it tells builds apart, nobody forges it). */
    private static void mix(long[] h, byte[] b) {
        long a = h[0] ^ b.length;
        long c = h[1] + b.length;
        for (byte x : b) {
            a = (a ^ (x & 0xff)) * 0x100000001b3L;
            c = (c + (x & 0xff)) * 0xbf58476d1ce4e5b9L;
            c ^= c >>> 31;
        }
        h[0] = a;
        h[1] = c;
    }
}
