package dev.sessionguard.apps.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import dev.sessionguard.testing.Fork.Outcome;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * #14: a Spring Boot 4 service with an AppCDS archive (-XX:SharedArchiveFile, as Spring Boot's CDS training run
 * makes one) keeps its classes in the archive with the agent. The archive is dumped by a run of the shop without
 * the agent (start, one order over HTTP, JPA and the pool, stop); then the same run without and with the agent
 * reads it. With the agent, the only classes that no longer come from the archive are those it wove (their
 * bytes changed, so the JVM defines them from the woven bytes: docs/weaving.md, "Class-data sharing"), and the
 * JVM prints no warning.
 */
class AppCdsTest {

    static final String MAIN = "dev.sessionguard.apps.shop.LegacyShop";

    @Test
    void theArchivedClassesStayShared() throws Exception {
        Path dir = Paths.get("target", "appcds").toAbsolutePath();
        Files.createDirectories(dir);
        Path archive = dir.resolve("shop.jsa");
        Files.deleteIfExists(archive);
        // AppCDS archives classes from jars only: the shop's classes as the jar a service ships
        String cp = jar(Paths.get("target", "classes"), dir.resolve("shop.jar")) + File.pathSeparator
                + new String(Files.readAllBytes(Paths.get("target", "classpath.txt"))).trim();
        String home = System.getProperty("java.home");
        String[] args = {dir.resolve("run").toString(), "startup"};

        Outcome dump = Fork.run(home, cp, MAIN, args, false, "", List.of("-XX:ArchiveClassesAtExit=" + archive), List.of());
        assertEquals(0, dump.exitCode, () -> Fork.tail(dump.stderr));
        assertTrue(Files.isRegularFile(archive), () -> "archive written: " + Fork.tail(dump.stdout + dump.stderr));

        List<String> use = List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:class+load=info", "-Xshare:auto");
        Outcome plain = Fork.run(home, cp, MAIN, args, false, "", use, List.of());
        Outcome agent = Fork.run(home, cp, MAIN, args, true, "", use, List.of());
        assertEquals(0, plain.exitCode, () -> Fork.tail(plain.stderr));
        assertEquals(0, agent.exitCode, () -> Fork.tail(agent.stderr));

        Map<String, Integer> without = loaded(plain.stdout, true);
        Map<String, Integer> with = loaded(agent.stdout, true);
        assertTrue(without.containsKey(MAIN), () -> "the shop's classes come from the archive without the agent: " + without.size());
        assertTrue(without.containsKey("org.hibernate.internal.SessionImpl"), "Hibernate's classes come from the archive");
        Set<String> woven = wovenClasses(agent.report);
        assertTrue(woven.contains("org.hibernate.internal.SessionImpl"), () -> "the agent wove Hibernate: " + agent.report);
        // lost: a class loaded from the archive without the agent and from elsewhere with it (one that a run loads
        // and the other does not is neither); lambdas by their number from the archive, per class that made them
        Map<String, Integer> lost = new TreeMap<>();
        for (Map.Entry<String, Integer> e : loaded(agent.stdout, false).entrySet()) {
            String c = e.getKey();
            if (without.containsKey(c)) {
                int n = c.endsWith("$$Lambda") ? without.get(c) - with.getOrDefault(c, 0) : e.getValue();
                if (n > 0) {
                    lost.put(c, n);
                }
            }
        }
        Set<String> lostNotWoven = new TreeSet<>();
        for (String c : lost.keySet()) {
            // a lambda's class is archived with the class that made it and that class's nest host (a nested
            // class's top-level class): lost with them when that class was woven
            String host = c.replace("$$Lambda", "");
            int nested = host.indexOf('$', host.lastIndexOf('.') + 1);
            String nestHost = nested < 0 ? host : host.substring(0, nested);
            if (!woven.contains(host) && !(c.endsWith("$$Lambda") && woven.contains(nestHost))) {
                lostNotWoven.add(c);
            }
        }
        System.out.printf("AppCDS, Spring Boot 4 shop: %d classes from the archive without the agent, %d with it; "
                + "not from the archive with it: %s%n", total(without), total(with), lost);
        assertEquals(Collections.emptySet(), lostNotWoven, "classes shared without the agent, not with it, and not woven by it");
        String jvmWarnings = grep(agent.stdout + agent.stderr, "(?i).*VM warning.*|.*\\[warning\\]\\[cds.*");
        assertFalse(!jvmWarnings.isEmpty(), () -> "no JVM warning with the agent: " + jvmWarnings);
    }

    /** The classes named in the agent's report ("pkg.Class#method" keys). */
    static Set<String> wovenClasses(String report) {
        Set<String> s = new TreeSet<>();
        Matcher m = Pattern.compile("\"([\\w.$]+)#\\w+\"").matcher(String.valueOf(report));
        while (m.find()) {
            s.add(m.group(1));
        }
        return s;
    }

    /**
     * Classes the class+load log says came from the shared archive (the base archive or this dynamic one), or, with
     * {@code shared} false, from anywhere else, counted by name; a lambda's class by the class that made it
     * ("Host$$Lambda"), as its number and address differ per run.
     */
    static Map<String, Integer> loaded(String classLoadLog, boolean shared) {
        Map<String, Integer> s = new TreeMap<>();
        for (String l : classLoadLog.split("\n")) {
            int at = l.indexOf("[class,load");
            // a class redefined (java.lang.Thread, retransformed by the agent) was loaded before and is not a load
            if (at >= 0 && l.contains(" source: ") && !l.contains("__VM_RedefineClasses__")
                    && l.contains("source: shared objects file") == shared) {
                String name = l.substring(l.indexOf(']', at) + 1).trim().split(" ")[0];
                int lambda = name.indexOf("$$Lambda");
                s.merge(lambda < 0 ? name : name.substring(0, lambda + "$$Lambda".length()), 1, Integer::sum);
            }
        }
        return s;
    }

    static int total(Map<String, Integer> counts) {
        int n = 0;
        for (int c : counts.values()) {
            n += c;
        }
        return n;
    }

    static String grep(String text, String regex) {
        StringBuilder b = new StringBuilder();
        for (String l : text.split("\n")) {
            if (l.matches(regex)) {
                b.append(l).append('\n');
            }
        }
        return b.toString();
    }

    static String jar(Path classes, Path jar) throws IOException {
        try (JarOutputStream o = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            // directory entries too, as jar(1) writes them: Spring's component scan lists a package through them
            for (Path f : (Iterable<Path>) files.filter(p -> !p.equals(classes)).sorted()::iterator) {
                String name = classes.relativize(f).toString().replace(File.separatorChar, '/');
                boolean isDir = Files.isDirectory(f);
                o.putNextEntry(new JarEntry(isDir ? name + "/" : name));
                if (!isDir) {
                    Files.copy(f, (OutputStream) o);
                }
                o.closeEntry();
            }
        }
        return jar.toString();
    }
}
