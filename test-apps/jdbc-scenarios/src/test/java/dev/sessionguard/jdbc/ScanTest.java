package dev.sessionguard.jdbc;

import static dev.sessionguard.jdbc.RuntimeControlTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork.Cli;
import dev.sessionguard.testing.Fork;
import java.io.File;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;

/** {@code scan}: what the agent would weave, read from the real driver, pool and Hibernate jars. */
class ScanTest {

    private static List<String> classpathJars() throws Exception {
        List<String> jars = new ArrayList<>();
        for (String e : Fork.classpath().split(File.pathSeparator)) {
            if (e.endsWith(".jar")) {
                jars.add(e);
            }
        }
        return jars;
    }

    private static String jar(List<String> jars, String namePart) {
        return jars.stream().filter(j -> new File(j).getName().startsWith(namePart)).findFirst()
                .orElseThrow(() -> new AssertionError(namePart + " not on the class path: " + jars));
    }

    @Test
    void theDriversAndPoolsOfTheClassPath() throws Exception {
        List<String> args = new ArrayList<>(Arrays.asList("scan"));
        args.addAll(classpathJars());
        Cli scan = cli(args.toArray(new String[0]));
        assertEquals(0, scan.exit, scan.toString());
        for (String woven : new String[] {
            "woven:     org.h2.jdbc.JdbcConnection#commit, #rollback, #close",
            "woven:     org.mariadb.jdbc.Connection#commit, #rollback, #close",
            "woven:     com.mysql.cj.jdbc.ConnectionImpl#commit, #rollback, #close",
            "woven:     org.apache.commons.dbcp2.DelegatingConnection#commit, #rollback, #close",
            "woven:     org.apache.commons.dbcp2.PoolableConnection#close",
            "woven:     org.apache.commons.dbcp2.PoolingDataSource$PoolGuardConnectionWrapper#close",
            "woven:     com.mchange.v2.c3p0.impl.NewProxyConnection#commit, #rollback, #close",
            "woven:     com.zaxxer.hikari.pool.ProxyConnection#commit, #rollback, #close",
            "woven:     org.postgresql.jdbc.PgConnection#commit, #rollback, #close",
            // not in the agent's list of names: found by their class files
            "woven:     com.zaxxer.hikari.pool.HikariProxyConnection#commit, #rollback",
            "woven:     com.mysql.cj.jdbc.ConnectionWrapper#commit, #rollback, #close",
            "woven:     org.apache.commons.dbcp2.managed.ManagedConnection#commit, #rollback, #close",
            "woven:     org.h2.jdbcx.JdbcXAConnection$PooledJdbcConnection#close",
            "woven:     org.apache.tomcat.dbcp.dbcp2.DelegatingConnection#commit, #rollback, #close",
            "woven:     org.apache.commons.dbcp.DelegatingConnection#commit, #rollback, #close",
            "woven:     org.apache.commons.dbcp.PoolingDataSource$PoolGuardConnectionWrapper#commit, #rollback, #close",
            "woven:     com.alibaba.druid.pool.DruidPooledConnection#commit, #rollback, #close",
            "woven:     io.agroal.pool.wrapper.ConnectionWrapper#commit, #rollback, #close",
            "woven:     com.p6spy.engine.wrapper.ConnectionWrapper#commit, #rollback, #close",
            "woven:     org.hsqldb.jdbc.JDBCConnection#commit, #rollback, #close",
            "woven:     org.apache.derby.impl.jdbc.EmbedConnection#commit, #rollback, #close",
            "woven:     org.sqlite.SQLiteConnection#commit, #rollback, #close"}) {
            assertTrue(scan.out.contains(woven), woven + " in\n" + scan);
        }
        assertTrue(scan.out.contains("H2 Database Engine 2."), "the library and its version: " + scan);
        assertTrue(scan.out.contains("com.zaxxer:HikariCP "), scan.toString());
        assertTrue(scan.out.contains("46 classes would be woven, 0 left as they are;"), scan.toString());
    }

    @Test
    void jarsNestedInASpringBootJar(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        List<String> jars = classpathJars();
        File boot = dir.resolve("service.jar").toFile();
        try (JarOutputStream out = new JarOutputStream(new FileOutputStream(boot))) {
            for (String lib : new String[] {jar(jars, "h2-"), jar(jars, "HikariCP-"), jar(jars, "slf4j-api-")}) {
                out.putNextEntry(new JarEntry("BOOT-INF/lib/" + new File(lib).getName()));
                out.write(Files.readAllBytes(new File(lib).toPath()));
                out.closeEntry();
            }
        }
        Cli scan = cli("scan", boot.getPath());
        assertEquals(0, scan.exit, scan.toString());
        assertTrue(scan.out.contains("service.jar!/BOOT-INF/lib/h2-"), scan.toString());
        assertTrue(scan.out.contains("woven:     org.h2.jdbc.JdbcConnection#commit, #rollback, #close"), scan.toString());
        assertTrue(scan.out.contains("woven:     com.zaxxer.hikari.pool.ProxyConnection#commit, #rollback, #close"), scan.toString());
        assertTrue(scan.out.contains("woven:     com.zaxxer.hikari.pool.HikariProxyConnection#commit, #rollback"), scan.toString());
        assertTrue(scan.out.contains("4 classes would be woven"), scan.toString());
    }

    /**
     * Drivers of servers this machine does not have (Oracle, SQL Server, jTDS, DB2): their real jars are
     * woven by scan --write, each woven class passes ASM's CheckClassAdapter (structure and data flow) and
     * is defined by a class loader over its jar.
     */
    @Test
    void driversOfServersThisMachineDoesNotHave(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        File[] drivers = new File("target/server-drivers").listFiles((d, n) -> n.endsWith(".jar"));
        assertTrue(drivers != null && drivers.length == 4, "target/server-drivers holds ojdbc8, mssql-jdbc, jtds, jcc");
        weaveAndCheck(dir, drivers, 15,
            "oracle.jdbc.driver.PhysicalConnection#commit, #rollback, #close",
            "oracle.jdbc.driver.T4CConnection#close",
            "com.microsoft.sqlserver.jdbc.SQLServerConnection#commit, #rollback, #close",
            "com.microsoft.sqlserver.jdbc.SQLServerConnectionPoolProxy#commit, #rollback, #close",
            "net.sourceforge.jtds.jdbc.JtdsConnection#commit, #rollback, #close",
            "com.ibm.db2.jcc.am.Connection#commit, #rollback, #close");
    }

    /** Oracle's driver for Java 11+ (ojdbc11, the same class names as ojdbc8, so scanned on its own). */
    @Test
    void oracleForJava11(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        File[] drivers = new File("target/server-drivers-11").listFiles((d, n) -> n.endsWith(".jar"));
        assertTrue(drivers != null && drivers.length == 1, "target/server-drivers-11 holds ojdbc11");
        weaveAndCheck(dir, drivers, 3,
            "oracle.jdbc.driver.PhysicalConnection#commit, #rollback, #close",
            "oracle.jdbc.driver.T4CConnection#close");
    }

    /**
     * scan --write over the jars: the named classes woven, at least {@code atLeast} woven class files written, each
     * passing ASM's CheckClassAdapter with nothing the original lacks and defined by a class loader over the jars.
     */
    private static void weaveAndCheck(Path dir, File[] drivers, int atLeast, String... expected) throws Exception {
        Path woven = dir.resolve("woven");
        List<String> args = new ArrayList<>(Arrays.asList("scan", "--write", woven.toString()));
        for (File d : drivers) {
            args.add(d.getPath());
        }
        Cli scan = cli(args.toArray(new String[0]));
        assertEquals(0, scan.exit, scan.toString());
        for (String main : expected) {
            assertTrue(scan.out.contains("woven:     " + main), main + " in\n" + scan);
        }
        java.util.Map<String, byte[]> classes = new java.util.TreeMap<>();
        try (java.util.stream.Stream<Path> files = Files.walk(woven)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = woven.relativize(f).toString().replace(File.separatorChar, '.').replaceAll("\\.class$", "");
                classes.put(name, Files.readAllBytes(f));
            }
        }
        assertTrue(classes.size() >= atLeast, "woven class files written: " + classes.keySet());
        java.net.URL[] urls = new java.net.URL[drivers.length + 1];
        for (int i = 0; i < drivers.length; i++) {
            urls[i] = drivers[i].toURI().toURL();
        }
        urls[drivers.length] = Fork.AGENT_JAR.toUri().toURL(); // the helper classes the advice calls
        java.util.Map<String, Original> originals = new java.util.HashMap<>();
        for (String name : classes.keySet()) {
            originals.put(name, original(drivers, name));
        }
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(urls, ClassLoader.getPlatformClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                byte[] b = classes.get(name);
                if (b == null) {
                    return super.findClass(name);
                }
                // as the JVM defines a transformed class: with its jar's code source (signed jars keep their signers)
                return defineClass(name, b, 0, b.length, originals.get(name).source);
            }
        }) {
            List<String> problems = new ArrayList<>();
            for (java.util.Map.Entry<String, byte[]> e : classes.entrySet()) {
                // a type the driver refers to that is in an optional jar (Oracle's xdb) fails the data-flow check
                // of the original class as well: only what weaving added counts
                java.util.Set<String> added = verify(e.getValue(), loader);
                added.removeAll(verify(originals.get(e.getKey()).bytes, loader));
                if (!added.isEmpty()) {
                    problems.add(e.getKey() + ": " + added);
                }
                Class<?> c = Class.forName(e.getKey(), false, loader);
                assertEquals(loader, c.getClassLoader(), e.getKey());
                assertTrue(java.sql.Connection.class.isAssignableFrom(c), e.getKey() + " is a java.sql.Connection");
            }
            assertTrue(problems.isEmpty(), String.join("\n", problems));
        }
    }

    /** ASM's CheckClassAdapter report of a class file, one entry per problem, without instruction offsets. */
    private static java.util.Set<String> verify(byte[] classFile, ClassLoader loader) {
        java.io.StringWriter report = new java.io.StringWriter();
        org.objectweb.asm.util.CheckClassAdapter.verify(new org.objectweb.asm.ClassReader(classFile), loader, false,
                new java.io.PrintWriter(report));
        java.util.Set<String> problems = new java.util.TreeSet<>();
        for (String line : report.toString().split("\n")) {
            if (line.contains("Exception") && !line.trim().startsWith("at ") && !line.trim().startsWith("...")) {
                problems.add(line.replaceAll("instruction [0-9]+", "instruction N").trim());
            }
        }
        return problems;
    }

    /** A class file as its jar has it, with the jar's code source (its signers, for a signed jar). */
    private static final class Original {
        final byte[] bytes;
        final java.security.CodeSource source;

        Original(byte[] bytes, java.security.CodeSource source) {
            this.bytes = bytes;
            this.source = source;
        }
    }

    private static Original original(File[] jars, String className) throws java.io.IOException {
        String entry = className.replace('.', '/') + ".class";
        for (File jar : jars) {
            try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar)) {
                JarEntry e = j.getJarEntry(entry);
                if (e != null) {
                    byte[] bytes;
                    try (java.io.InputStream in = j.getInputStream(e)) {
                        bytes = in.readAllBytes(); // the signers are known once the entry was read
                    }
                    return new Original(bytes, new java.security.CodeSource(jar.toURI().toURL(), e.getCodeSigners()));
                }
            }
        }
        throw new AssertionError(className + " is in none of " + Arrays.toString(jars));
    }

    @Test
    void nothingToWeaveAndBadInput(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Cli none = cli("scan", dir.toString());
        assertEquals(3, none.exit, none.toString());
        assertTrue(none.out.contains("No Hibernate, JDBC driver or pool class SessionGuard instruments was found"), none.toString());
        Cli missing = cli("scan", dir.resolve("nope.jar").toString());
        assertEquals(1, missing.exit, missing.toString());
        assertTrue(missing.out.contains("nope.jar does not exist"), missing.toString());
        Cli usage = cli("scan");
        assertEquals(2, usage.exit, usage.toString());
        assertTrue(usage.out.contains("usage: scan"), usage.toString());
    }
}
