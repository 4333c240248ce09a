package dev.sessionguard.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sessionguard.testing.Fork;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code scan} on this module's class path: the Hibernate version under test is found and would be woven. */
class ScanHibernateTest {

    @Test
    void hibernateOfThisModuleWouldBeWoven() throws Exception {
        List<String> args = new ArrayList<>();
        args.add("scan");
        for (String e : Fork.classpath().split(File.pathSeparator)) {
            if (e.endsWith(".jar")) {
                args.add(e);
            }
        }
        Fork.Cli scan = Fork.cli(args.toArray(new String[0]));
        String text = scan.out;
        assertEquals(0, scan.exit, text);
        String version = System.getProperty("sg.hibernate", "?");
        // 4.x names itself by its bundle name, and its transactions are AbstractTransactionImpl's
        boolean four = version.startsWith("4.");
        assertTrue(text.contains((four ? "org.hibernate.core " : "hibernate-core ") + version + "."),
                "hibernate-core " + version + " named with its version: " + text);
        assertTrue(text.contains("woven:     org.hibernate.engine.transaction." + (four ? "spi.AbstractTransactionImpl" : "internal.TransactionImpl")
                + "#rollback, #commit"), text);
        assertTrue(text.contains("woven:     org.hibernate.internal.SessionImpl#close, #flush"), text);
        assertTrue(text.contains(" 0 left as they are;"), text);
    }
}
