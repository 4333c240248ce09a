package dev.sessionguard.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/COMPATIBILITY.md is made by the test run, not by hand: this module is built after every other test
 * app, reads the matrices their tests wrote (test-apps/&lt;module&gt;/target/*.md: one row per cell, the outcome
 * without and with the agent) and the library jars each module ran with, and writes them as one document to
 * target/COMPATIBILITY.md. The checked-in docs/COMPATIBILITY.md must list exactly the libraries, versions and
 * cells of this run (outcome texts carry ids and counts that change between runs, so they are not
 * compared); {@code mvn verify -Dsg.compat.write=true} writes it.
 */
class CompatibilityDocTest {

    static final Path TEST_APPS = Paths.get("..").toAbsolutePath().normalize();
    static final Path DOC = TEST_APPS.getParent().resolve("docs").resolve("COMPATIBILITY.md");

    /** Jars worth naming: drivers, pools, wrappers, Hibernate, Spring Boot, application servers, other agents. */
    static final Pattern LIBRARY = Pattern.compile("(h2|postgresql|mariadb-java-client|mysql-connector-j|mysql-connector-java|HikariCP"
            + "|commons-dbcp2?|tomcat-jdbc|tomcat-dbcp|c3p0|mchange-commons-java|druid|agroal-pool|vibur-dbcp|p6spy|datasource-proxy|hibernate-core"
            + "|hibernate-envers|spring-boot|hsqldb|derby|sqlite-jdbc|ojdbc\\d*|mssql-jdbc|jtds|jcc|otel|datadog|elastic)-?[0-9.].*\\.jar"
            + "|(otel|datadog|elastic)\\.jar");

    @Test
    void theDocumentIsTheRun() throws IOException {
        Map<String, Section> run = sections();
        assertTrue(!run.isEmpty(), "no matrices under " + TEST_APPS + "/*/target: run this module after the others (mvn verify)");
        String doc = render(run);
        Path out = Paths.get("target", "COMPATIBILITY.md");
        Files.createDirectories(out.getParent());
        Files.write(out, doc.getBytes(StandardCharsets.UTF_8));
        if (Boolean.getBoolean("sg.compat.write")) {
            Files.write(DOC, doc.getBytes(StandardCharsets.UTF_8));
            return;
        }
        assertTrue(Files.exists(DOC), "no " + DOC + "; write it with mvn verify -Dsg.compat.write=true");
        Map<String, TreeSet<String>> documented = keys(new String(Files.readAllBytes(DOC), StandardCharsets.UTF_8));
        Map<String, TreeSet<String>> tested = keys(doc);
        boolean ci = System.getenv("CI") != null;
        for (Map.Entry<String, TreeSet<String>> e : tested.entrySet()) {
            assertEquals(documented.get(e.getKey()), e.getValue(), "docs/COMPATIBILITY.md, section " + e.getKey()
                    + ", is not what this run tested: regenerate it (mvn verify -Dsg.compat.write=true, or copy " + out.toAbsolutePath() + ")");
        }
        if (ci) { // a partial build (-pl) runs some modules only; CI runs them all
            assertEquals(documented.keySet(), tested.keySet(), "sections of docs/COMPATIBILITY.md this run did not produce, or the reverse");
        }
    }

    /** One module's libraries and matrices. */
    static final class Section {
        final List<String> libraries = new ArrayList<>();
        final Map<String, List<String>> tables = new TreeMap<>();
    }

    static Map<String, Section> sections() throws IOException {
        Map<String, Section> all = new TreeMap<>();
        File[] modules = TEST_APPS.toFile().listFiles(File::isDirectory);
        Arrays.sort(modules);
        for (File m : modules) {
            if (m.getName().equals("compatibility")) {
                continue; // this module's own output
            }
            Path target = m.toPath().resolve("target");
            File[] matrices = target.toFile().listFiles((d, n) -> n.endsWith(".md"));
            if (matrices == null || matrices.length == 0) {
                continue;
            }
            Section s = new Section();
            s.libraries.addAll(libraries(target));
            for (File f : matrices) {
                s.tables.put(f.getName(), sorted(Files.readAllLines(f.toPath(), StandardCharsets.UTF_8)));
            }
            all.put(m.getName(), s);
        }
        return all;
    }

    /** The named jars of the module's class path and of the jars its tests swap in (target/*&#47;*.jar). */
    static List<String> libraries(Path target) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        Path cp = target.resolve("classpath.txt");
        if (Files.exists(cp)) {
            for (String entry : new String(Files.readAllBytes(cp), StandardCharsets.UTF_8).trim().split(File.pathSeparator)) {
                String n = Paths.get(entry).getFileName().toString();
                if (LIBRARY.matcher(n).matches()) {
                    names.add(n);
                }
            }
        }
        try (Stream<Path> swapped = Files.list(target)) {
            for (Path dir : (Iterable<Path>) swapped.filter(Files::isDirectory)::iterator) {
                if (dir.getFileName().toString().matches("scenarios|classes|test-classes|generated-.*|maven-.*|surefire.*")) {
                    continue;
                }
                List<File> jars = new ArrayList<>(Arrays.asList(dir.toFile().listFiles((d, n) -> LIBRARY.matcher(n).matches())));
                for (File sub : dir.toFile().listFiles(File::isDirectory)) { // target/versions/<set>/*.jar
                    for (File j : sub.listFiles((d, n) -> LIBRARY.matcher(n).matches())) {
                        jars.add(j);
                    }
                }
                for (File j : jars) {
                    names.add(target.relativize(j.toPath()).toString().replace(File.separatorChar, '/') + version(j));
                }
            }
        }
        return new ArrayList<>(names);
    }

    /** " (version)" from the manifest of a jar whose name carries none (otel.jar), else "". */
    static String version(File jar) throws IOException {
        if (jar.getName().matches(".*\\d.*")) {
            return "";
        }
        try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar)) {
            java.util.jar.Manifest m = j.getManifest();
            String v = m == null ? null : m.getMainAttributes().getValue("Implementation-Version");
            return v == null ? "" : " " + v;
        }
    }

    /** Header and separator first, then the rows sorted by their key cells (tests finish in any order). */
    static List<String> sorted(List<String> lines) {
        List<String> rows = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("|")) {
                rows.add(l);
            }
        }
        if (rows.size() < 2) {
            return rows;
        }
        int keyCells = keyCells(rows.get(0));
        Map<String, String> byKey = new TreeMap<>();
        for (String r : rows.subList(2, rows.size())) {
            byKey.put(key(r, keyCells), r);
        }
        List<String> out = new ArrayList<>(rows.subList(0, 2));
        out.addAll(byKey.values());
        return out;
    }

    /** The cells before the first outcome column ("without the agent", "outcome"). */
    static int keyCells(String header) {
        String[] cells = cells(header);
        for (int i = 0; i < cells.length; i++) {
            if (cells[i].startsWith("without") || cells[i].startsWith("outcome")) {
                return i;
            }
        }
        return 1;
    }

    static String key(String row, int keyCells) {
        String[] cells = cells(row);
        return String.join(" | ", Arrays.copyOf(cells, Math.min(keyCells, cells.length)));
    }

    static String[] cells(String row) {
        String inner = row.trim();
        inner = inner.substring(1, inner.endsWith("|") ? inner.length() - 1 : inner.length());
        String[] c = inner.split("\\|", -1);
        for (int i = 0; i < c.length; i++) {
            c[i] = c[i].trim();
        }
        return c;
    }

    static String render(Map<String, Section> sections) {
        StringBuilder b = new StringBuilder();
        b.append("# Compatibility: what the tests ran, without and with the agent\n\n")
                .append("Generated by the test run (test-apps/compatibility, `CompatibilityDocTest`), not written by hand: each\n")
                .append("section is one test app, its libraries (the jars it ran with, and the jars its tests swap in), and the\n")
                .append("matrices its tests wrote, one row per cell, the outcome without the agent and with it. CI checks that this\n")
                .append("file lists exactly the libraries and cells of its run; `mvn verify -Dsg.compat.write=true` rewrites it.\n")
                .append("Outcomes are those of the run that wrote the file (ids and counts differ between runs). Scenario numbers\n")
                .append("refer to docs/design.md and the failure catalogue; docs/weaving.md says how classes are found and woven.\n");
        for (Map.Entry<String, Section> e : sections.entrySet()) {
            b.append("\n## ").append(e.getKey()).append("\n\nLibraries: ");
            b.append(e.getValue().libraries.isEmpty() ? "-" : "`" + String.join("`, `", e.getValue().libraries) + "`").append("\n");
            for (Map.Entry<String, List<String>> t : e.getValue().tables.entrySet()) {
                b.append("\n### ").append(t.getKey().replace(".md", "")).append("\n\n");
                for (String row : t.getValue()) {
                    b.append(row).append('\n');
                }
            }
        }
        return b.toString();
    }

    /** Per "module/table" (and "module/libraries"): the key cells of its rows, or the library names. */
    static Map<String, TreeSet<String>> keys(String doc) {
        Map<String, TreeSet<String>> keys = new LinkedHashMap<>();
        String module = null;
        String table = null;
        int keyCells = 1;
        int row = 0;
        for (String line : doc.split("\n")) {
            if (line.startsWith("## ")) {
                module = line.substring(3).trim();
                table = null;
            } else if (line.startsWith("### ")) {
                table = line.substring(4).trim();
                row = 0;
            } else if (line.startsWith("Libraries: ") && module != null) {
                TreeSet<String> libs = new TreeSet<>();
                for (String l : line.substring(11).split(",")) {
                    libs.add(l.trim().replace("`", ""));
                }
                keys.put(module + "/libraries", libs);
            } else if (line.startsWith("|") && module != null && table != null) {
                if (row == 0) {
                    keyCells = keyCells(line);
                    keys.put(module + "/" + table, new TreeSet<>());
                } else if (row > 1) {
                    keys.get(module + "/" + table).add(key(line, keyCells));
                }
                row++;
            }
        }
        return keys;
    }
}
