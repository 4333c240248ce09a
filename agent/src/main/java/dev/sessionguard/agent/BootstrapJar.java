package dev.sessionguard.agent;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts the helper API ({@code dev/sessionguard/bootstrap/**}) on the bootstrap class path, so that
 * advice inlined into classes of any class loader resolves the one copy of it. The classes are copied
 * from the agent jar into a small jar in the agent's private directory ({@link PrivateDir}), named after the
 * agent build, so that later starts append it without reading the agent jar.
 */
final class BootstrapJar {

    static final String PACKAGE = "dev/sessionguard/bootstrap/";

    private BootstrapJar() {
    }

    static void appendTo(Instrumentation inst) throws IOException {
        if (alreadyOnBootstrap()) {
            return;
        }
        URL location = BootstrapJar.class.getProtectionDomain().getCodeSource().getLocation();
        File agentJar;
        try {
            agentJar = new File(location.toURI());
        } catch (Exception e) {
            throw new IOException("cannot locate the agent jar from " + location, e);
        }
        // in the agent's private directory, named after the agent build: written once, reused by every start
        String[] why = new String[1];
        File dir = PrivateDir.root(why);
        File target = null;
        if (dir != null) {
            try {
                target = new File(dir, "bootstrap-" + PrivateDir.build() + ".jar");
            } catch (Exception e) {
                target = null;
            }
        }
        if (target != null && target.isFile() && target.length() > 0) {
            inst.appendToBootstrapClassLoaderSearch(new JarFile(target));
            return;
        }
        File written;
        if (target != null) {
            File tmp = File.createTempFile("bootstrap", ".tmp", dir);
            write(agentJar, tmp);
            if (!tmp.renameTo(target) && !target.isFile()) {
                tmp.delete();
                throw new IOException("cannot write " + target);
            }
            tmp.delete();
            written = target;
        } else {
            // no private directory: a new file of our own (created exclusively, random name) for this JVM only
            written = File.createTempFile("sessionguard-bootstrap", ".jar");
            written.deleteOnExit();
            write(agentJar, written);
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(written));
    }

    /** Copies the helper classes ({@link #PACKAGE}) of the agent jar into {@code out}. */
    private static void write(File agentJar, File out) throws IOException {
        int n = 0;
        try (JarFile jar = new JarFile(agentJar);
             JarOutputStream o = new JarOutputStream(new FileOutputStream(out))) {
            for (JarEntry e : java.util.Collections.list(jar.entries())) {
                if (e.getName().startsWith(PACKAGE) && e.getName().endsWith(".class")) {
                    o.putNextEntry(new JarEntry(e.getName()));
                    o.write(readAll(jar.getInputStream(e)));
                    o.closeEntry();
                    n++;
                }
            }
        }
        if (n == 0) {
            throw new IOException("no " + PACKAGE + " classes in " + agentJar);
        }
    }

    private static boolean alreadyOnBootstrap() {
        try {
            Class.forName("dev.sessionguard.bootstrap.Guard", false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (InputStream i = in) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = i.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }

}
