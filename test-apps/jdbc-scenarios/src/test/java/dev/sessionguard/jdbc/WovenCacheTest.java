package dev.sessionguard.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The woven-class cache: the first start weaves (Byte Buddy loaded) and stores; a restart with the same
 * libraries reads the woven classes and never loads a Byte Buddy class; a damaged entry is woven again;
 * a directory others can write to is refused. The service ({@link LiveJdbcApp}) must be protected in every run.
 */
class WovenCacheTest {

    /** The cache's own tests weave at run time: the tested library versions are shipped woven in the jar. */
    private static final String OFF = "shipped=off,";

    /**
     * A cold start (no cache) of tested library versions takes their woven classes from the jar and never
     * loads Byte Buddy: only the ASM inside it, for Thread.interrupt() and Hikari's Proxy connection.
     */
    @Test
    void aColdStartOfTestedVersionsUsesTheShippedClasses(@TempDir Path dir) throws Exception {
        String[] cold = run(dir, "cache=off", "cold.log");
        assertEquals("probe none", cold[0], "protected by the shipped classes: " + cold[2]);
        long notAsm = cold[1].lines().filter(l -> l.contains("dev.sessionguard.shaded.bytebuddy.") && !l.contains("shaded.bytebuddy.jar.asm.")).count();
        assertTrue(notAsm <= 2, "no Byte Buddy beyond the two interfaces the targets name: " + notAsm);
        assertFalse(cold[1].contains("shaded.bytebuddy.pool.") || cold[1].contains("shaded.bytebuddy.asm.Advice"), "nothing wove with Byte Buddy");
        String[] plain = run(dir, OFF + "cache=off", "plain.log");
        assertEquals("probe none", plain[0], plain[2]);
        assertTrue(byteBuddyClasses(plain[1]) > 100, "shipped=off: woven with Byte Buddy");
    }

    /** One run of the service: probe once, exit. Returns [probe answer, class-load log, stderr]. */
    private static String[] run(Path dir, String options, String log) throws Exception {
        Path classLog = dir.resolve(log);
        try (RuntimeControlTest.Service s = new RuntimeControlTest.Service(true, options, "-Xlog:class+load=info:file=" + classLog)) {
            String probe = s.ask("probe");
            String err = s.stderr();
            s.close();
            return new String[] {probe, new String(Files.readAllBytes(classLog), StandardCharsets.UTF_8), err};
        }
    }

    private static long byteBuddyClasses(String classLog) {
        return classLog.lines().filter(l -> l.contains("dev.sessionguard.shaded.bytebuddy.")).count();
    }

    private static List<Path> entries(Path cache) throws Exception {
        try (Stream<Path> s = Files.walk(cache)) {
            return s.filter(Files::isRegularFile).collect(Collectors.toList());
        }
    }

    @Test
    void aRestartReadsTheWovenClassesAndNeverLoadsByteBuddy(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        String[] first = run(dir, OFF + "cache=" + cache, "first.log");
        assertEquals("probe none", first[0], first[2]);
        assertTrue(byteBuddyClasses(first[1]) > 100, "the first start weaves with Byte Buddy: " + byteBuddyClasses(first[1]));
        List<Path> stored = entries(cache);
        assertTrue(stored.stream().anyMatch(p -> p.getFileName().toString().startsWith("org.h2.jdbc.JdbcConnection-")), stored.toString());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));

        String[] second = run(dir, OFF + "cache=" + cache, "second.log");
        assertEquals("probe none", second[0], "protected from the cache: " + second[2]);
        // only the two interfaces the verifier loads for the targets' classes (ElementMatcher, AsmVisitorWrapper);
        // nothing that weaves: no TypePool, no Advice, no ASM
        assertTrue(byteBuddyClasses(second[1]) <= 2, "a restart weaves nothing: " + byteBuddyClasses(second[1]));
        assertFalse(second[1].contains("shaded.bytebuddy.pool.") || second[1].contains("shaded.bytebuddy.asm.Advice")
                || second[1].contains("shaded.bytebuddy.jar.asm."), "no weaving classes loaded");

        // a damaged entry is not used: the class is woven again, and still protected
        Path h2 = stored.stream().filter(p -> p.getFileName().toString().startsWith("org.h2.jdbc.JdbcConnection-")).findFirst().get();
        byte[] bytes = Files.readAllBytes(h2);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(h2, bytes);
        String[] damaged = run(dir, OFF + "cache=" + cache, "damaged.log");
        assertEquals("probe none", damaged[0], damaged[2]);
        assertTrue(byteBuddyClasses(damaged[1]) > 100, "the damaged entry was woven again");
        String[] repaired = run(dir, OFF + "cache=" + cache, "repaired.log");
        assertTrue(byteBuddyClasses(repaired[1]) <= 2, "and stored again: " + byteBuddyClasses(repaired[1]));
    }

    @Test
    void aDirectoryOthersCanWriteToIsNotUsed(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("open");
        Files.createDirectories(cache);
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxrwxrwx"));
        String[] r = run(dir, "cache=" + cache, "open.log");
        assertEquals("probe none", r[0], r[2]);
        assertTrue(r[2].contains("is not used: others can write to it (rwxrwxrwx)"), r[2]);
        assertTrue(entries(cache).isEmpty(), "nothing written there");

        String[] off = run(dir, OFF + "cache=off", "off.log");
        assertEquals("probe none", off[0], off[2]);
        assertTrue(byteBuddyClasses(off[1]) > 100);
    }

    /**
     * java.lang.reflect.Proxy connections (Tomcat JDBC pool's) are numbered anew in every JVM: their entry is
     * keyed without the name, so a restart finds it and weaves nothing (it writes no entry), and is guarded. A
     * restart whose JDK generated the proxy's methods in another order writes one entry more for it (CI saw it
     * once in many runs), and rewrites none.
     */
    @Test
    void proxyConnectionsAreFoundAgainAfterARestart(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        String[] args = {"deadconn", "postgres", "tomcat"};
        dev.sessionguard.testing.Fork.Outcome first = dev.sessionguard.testing.Fork.run(JdbcScenariosTest.JDK17,
                dev.sessionguard.testing.Fork.classpath(), JdbcScenariosTest.MAIN, args, true, "cache=" + cache);
        assertEquals("0", first.get("cleanupEscaped"), first.toString());
        List<Path> stored = entries(cache);
        assertTrue(stored.stream().anyMatch(p -> p.getFileName().toString().startsWith("dev.sessionguard.cache.$Proxy-")), stored.toString());
        java.util.Map<Path, Long> before = new java.util.HashMap<>();
        for (Path p : stored) {
            before.put(p, Files.getLastModifiedTime(p).toMillis());
        }
        dev.sessionguard.testing.Fork.Outcome second = dev.sessionguard.testing.Fork.run(JdbcScenariosTest.JDK17,
                dev.sessionguard.testing.Fork.classpath(), JdbcScenariosTest.MAIN, args, true, "cache=" + cache);
        assertEquals("0", second.get("cleanupEscaped"), "the proxy read from the cache is guarded: " + second);
        java.util.Map<Path, Long> after = new java.util.HashMap<>();
        for (Path p : entries(cache)) {
            after.put(p, Files.getLastModifiedTime(p).toMillis());
        }
        // the restart finds the proxy's entry under another $Proxy number and writes nothing, unless the JDK
        // generated the proxy's methods in another order in it (reflection's method order is not stable between
        // JVMs; the order is part of the key on purpose, docs/weaving.md "The woven-class cache"): then it writes one more entry,
        // for the same interfaces, so of the same class file length (the key's second part). Either way no entry is
        // rewritten.
        for (java.util.Map.Entry<Path, Long> e : before.entrySet()) {
            assertEquals(e.getValue(), after.get(e.getKey()), "the restart did not rewrite " + e.getKey().getFileName() + ": " + after);
        }
        List<String> added = new java.util.ArrayList<>();
        for (Path p : after.keySet()) {
            if (!before.containsKey(p)) {
                added.add(p.getFileName().toString());
            }
        }
        if (!added.isEmpty()) {
            List<String> proxyLengths = new java.util.ArrayList<>();
            for (Path p : before.keySet()) {
                String n = p.getFileName().toString();
                if (n.startsWith("dev.sessionguard.cache.$Proxy-")) {
                    proxyLengths.add(n.split("-")[1]);
                }
            }
            assertEquals(1, added.size(), "at most one entry more, the proxy in another method order: " + added + " after " + before.keySet());
            String n = added.get(0);
            assertTrue(n.startsWith("dev.sessionguard.cache.$Proxy-") && proxyLengths.contains(n.split("-")[1]),
                    "the one entry more is the same proxy (its class file as long) in another method order: " + n + " after " + before.keySet());
        }
    }
}
