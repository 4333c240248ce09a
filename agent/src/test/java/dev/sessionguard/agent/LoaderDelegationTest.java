package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What premain adds to the properties that class loaders which do not delegate read: JBoss Modules' always, an
 * OSGi framework's only when it is set (a launcher copies the system properties over its own configuration file).
 */
class LoaderDelegationTest {

    private String jboss;
    private String osgi;

    @BeforeEach
    void save() {
        jboss = System.getProperty(LoaderDelegation.JBOSS_MODULES);
        osgi = System.getProperty(LoaderDelegation.OSGI);
        System.clearProperty(LoaderDelegation.JBOSS_MODULES);
        System.clearProperty(LoaderDelegation.OSGI);
    }

    @AfterEach
    void restore() {
        set(LoaderDelegation.JBOSS_MODULES, jboss);
        set(LoaderDelegation.OSGI, osgi);
    }

    private static void set(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    /** Felix's launcher: config.properties says sun.*,com.sun.*; a system property made here would replace it. */
    @Test
    void anOsgiPropertyNobodySetIsNotMade() {
        LoaderDelegation.arrange();
        assertNull(System.getProperty(LoaderDelegation.OSGI));
        assertEquals(LoaderDelegation.HELPER_PACKAGE, System.getProperty(LoaderDelegation.JBOSS_MODULES));
    }

    @Test
    void setPropertiesAreKeptAndExtended() {
        System.setProperty(LoaderDelegation.OSGI, "sun.*,com.sun.*");
        System.setProperty(LoaderDelegation.JBOSS_MODULES, "org.jboss.byteman");
        LoaderDelegation.arrange();
        assertEquals("sun.*,com.sun.*," + LoaderDelegation.HELPER_PACKAGE, System.getProperty(LoaderDelegation.OSGI));
        assertEquals("org.jboss.byteman," + LoaderDelegation.HELPER_PACKAGE, System.getProperty(LoaderDelegation.JBOSS_MODULES));
    }
}
