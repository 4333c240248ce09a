package dev.sessionguard.agent;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.zip.CRC32;

/**
 * Puts the helper API ({@code dev/sessionguard/bootstrap/**}) on the bootstrap class path, so that
 * advice inlined into classes of any class loader resolves the one copy of it. The classes are copied
 * from the agent jar into a small jar in the temp directory, named by a checksum of its content.
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
        List<String> names = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        CRC32 crc = new CRC32();
        try (JarFile jar = new JarFile(agentJar)) {
            for (JarEntry e : java.util.Collections.list(jar.entries())) {
                if (e.getName().startsWith(PACKAGE) && e.getName().endsWith(".class")) {
                    byte[] bytes = readAll(jar.getInputStream(e));
                    names.add(e.getName());
                    contents.add(bytes);
                    crc.update(e.getName().getBytes("UTF-8"));
                    crc.update(bytes);
                }
            }
        }
        if (names.isEmpty()) {
            throw new IOException("no " + PACKAGE + " classes in " + agentJar);
        }
        File target = new File(System.getProperty("java.io.tmpdir"),
                "sessionguard-bootstrap-" + Version.get() + "-" + Long.toHexString(crc.getValue()) + ".jar");
        if (!target.isFile()) {
            File tmp = File.createTempFile("sessionguard-bootstrap", ".tmp", target.getParentFile());
            try (JarOutputStream out = new JarOutputStream(new FileOutputStream(tmp))) {
                for (int i = 0; i < names.size(); i++) {
                    out.putNextEntry(new JarEntry(names.get(i)));
                    out.write(contents.get(i));
                    out.closeEntry();
                }
            }
            if (!tmp.renameTo(target) && !target.isFile()) {
                throw new IOException("cannot write " + target);
            }
            tmp.delete();
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(target));
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
