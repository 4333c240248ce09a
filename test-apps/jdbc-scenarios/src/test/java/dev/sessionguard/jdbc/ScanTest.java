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
            "woven:     org.postgresql.jdbc.PgConnection#commit, #rollback, #close"}) {
            assertTrue(scan.out.contains(woven), woven + " in\n" + scan);
        }
        assertTrue(scan.out.contains("H2 Database Engine 2."), "the library and its version: " + scan);
        assertTrue(scan.out.contains("com.zaxxer:HikariCP "), scan.toString());
        assertTrue(scan.out.contains("9 classes would be woven, 0 left as they are;"), scan.toString());
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
        assertTrue(scan.out.contains("2 classes would be woven"), scan.toString());
    }

    @Test
    void anOlderHibernateIsLeftAlone() throws Exception {
        File[] old = new File("target/hibernate-unsupported").listFiles((d, n) -> n.startsWith("hibernate-core-5.1."));
        assertTrue(old != null && old.length == 1, "target/hibernate-unsupported holds hibernate-core 5.1");
        Cli scan = cli("scan", old[0].getPath());
        assertEquals(0, scan.exit, scan.toString());
        assertTrue(scan.out.contains("hibernate-core 5.1.17.Final"), scan.toString());
        assertTrue(scan.out.contains("left as is: org.hibernate.internal.SessionImpl: the advice needs "
                + "org.hibernate.engine.spi.SharedSessionContractImplementor, which this version does not have (unsupported library version)"), scan.toString());
        assertTrue(scan.out.contains("left as is: org.hibernate.engine.transaction.internal.TransactionImpl: the advice needs"), scan.toString());
        assertFalse(scan.out.contains("woven:"), scan.toString());
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
