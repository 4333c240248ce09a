package dev.sessionguard.agent;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * The fallback of {@link BootstrapClasses}: the helper classes in a small jar appended to the bootstrap
 * class path, for a JVM that does not let them be defined directly. HotSpot then warns that class-data
 * sharing is limited to boot classes. The jar is written once per agent build in the agent's private
 * directory ({@link PrivateDir}), else to a new temporary file of this JVM's own.
 */
final class BootstrapJar {

    private BootstrapJar() {
    }

    static void appendTo(Instrumentation inst, Map<String, byte[]> classes) throws IOException {
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
            write(classes, tmp);
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
            write(classes, written);
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(written));
    }

    private static void write(Map<String, byte[]> classes, File out) throws IOException {
        try (JarOutputStream o = new JarOutputStream(new FileOutputStream(out))) {
            for (Map.Entry<String, byte[]> e : classes.entrySet()) {
                o.putNextEntry(new JarEntry(e.getKey() + ".class"));
                o.write(e.getValue());
                o.closeEntry();
            }
        }
    }
}
