package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.File;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CodeSourceFiles}: a class file read from another class's jar or directory, or null wherever the class
 * loader must answer instead (not there, not a local file, a multi-release jar with a version of it for this JDK).
 */
class CodeSourceFilesTest {

    private static final byte[] BASE = "base".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VERSIONED = "versioned".getBytes(StandardCharsets.US_ASCII);

    private static Path jar(Path dir, String name, boolean multiRelease, String... entries) throws Exception {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (multiRelease) {
            mf.getMainAttributes().putValue("Multi-Release", "true");
        }
        Path jar = dir.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), mf)) {
            for (String e : entries) {
                out.putNextEntry(new JarEntry(e));
                out.write(e.startsWith("META-INF/versions/") ? VERSIONED : BASE);
                out.closeEntry();
            }
        }
        return jar;
    }

    private static ProtectionDomain domain(URL location) {
        return new ProtectionDomain(new CodeSource(location, (java.security.cert.Certificate[]) null), null);
    }

    @Test
    void aJarsEntry(@TempDir Path dir) throws Exception {
        File jar = jar(dir, "lib.jar", false, "a/B.class").toFile();
        assertEquals(jar, CodeSourceFiles.home(domain(jar.toURI().toURL())));
        for (boolean system : new boolean[] {false, true}) {
            assertArrayEquals(BASE, CodeSourceFiles.read(jar, "a/B.class", system));
            assertNull(CodeSourceFiles.read(jar, "a/Missing.class", system));
        }
    }

    @Test
    void aDirectorysFile(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("a"));
        try (OutputStream out = Files.newOutputStream(dir.resolve("a/B.class"))) {
            out.write(BASE);
        }
        File home = CodeSourceFiles.home(domain(dir.toUri().toURL()));
        assertEquals(dir.toFile(), home);
        assertArrayEquals(BASE, CodeSourceFiles.read(home, "a/B.class", false));
        assertNull(CodeSourceFiles.read(home, "a/Missing.class", false));
    }

    /** The class loader serves a multi-release jar's version of an entry for this JDK: this must not guess. */
    @Test
    void aMultiReleaseJarWithAVersionForThisJdkIsLeftToTheClassLoader(@TempDir Path dir) throws Exception {
        int feature = CodeSourceFiles.feature(System.getProperty("java.specification.version"));
        File mr = jar(dir, "mr.jar", true, "a/B.class", "META-INF/versions/9/a/B.class", "a/C.class").toFile();
        assertNull(CodeSourceFiles.read(mr, "a/B.class", false), "JDK " + feature);
        assertArrayEquals(BASE, CodeSourceFiles.read(mr, "a/C.class", false)); // no version of it: the base entry
        // the same entries, the jar not multi-release: the versioned entry is only a file in it
        File plain = jar(dir, "plain.jar", false, "a/B.class", "META-INF/versions/9/a/B.class").toFile();
        assertArrayEquals(BASE, CodeSourceFiles.read(plain, "a/B.class", false));
    }

    @Test
    void noLocalFileNoHome(@TempDir Path dir) throws Exception {
        assertNull(CodeSourceFiles.home(null));
        assertNull(CodeSourceFiles.home(domain(null)));
        assertNull(CodeSourceFiles.home(domain(new URL("http://example.invalid/lib.jar"))));
        assertNull(CodeSourceFiles.home(domain(dir.resolve("missing.jar").toUri().toURL())));
        assertEquals(8, CodeSourceFiles.feature("1.8"));
        assertEquals(25, CodeSourceFiles.feature("25"));
    }
}
