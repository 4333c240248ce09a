package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code scan} on this module's class path: the Hibernate version under test is found and would be woven. */
class ScanHibernateTest {

    @Test
    void hibernateOfThisModuleWouldBeWoven() throws Exception {
        List<String> cmd = new ArrayList<>(Arrays.asList(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", Fork.AGENT_JAR.toString(), "scan"));
        for (String e : Fork.classpath().split(File.pathSeparator)) {
            if (e.endsWith(".jar")) {
                cmd.add(e);
            }
        }
        File out = File.createTempFile("sg-scan", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out).start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            String text = new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), text);
            String version = System.getProperty("sg.hibernate", "?");
            assertTrue(text.contains("hibernate-core " + version + "."), "hibernate-core " + version + " named with its version: " + text);
            assertTrue(text.contains("woven:     org.hibernate.engine.transaction.internal.TransactionImpl#rollback, #commit"), text);
            assertTrue(text.contains("woven:     org.hibernate.internal.SessionImpl#close, #flush"), text);
            assertTrue(text.contains(" 0 left as they are;"), text);
        } finally {
            out.delete();
        }
    }
}
