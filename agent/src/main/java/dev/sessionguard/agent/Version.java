package dev.sessionguard.agent;

import java.io.ByteArrayInputStream;
import java.util.Properties;

final class Version {

    private Version() {
    }

    /** Read once: start-up asks for it several times (marker property, bootstrap jar name, log, report). */
    private static final String VERSION = read();

    static String get() {
        return VERSION;
    }

    private static String read() {
        try {
            byte[] b = AgentJar.bytes("dev/sessionguard/agent/version.properties");
            Properties p = new Properties();
            if (b != null) {
                p.load(new ByteArrayInputStream(b));
            }
            return p.getProperty("version", "unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }
}
