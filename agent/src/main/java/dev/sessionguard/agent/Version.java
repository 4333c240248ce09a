package dev.sessionguard.agent;

import java.io.InputStream;
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
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }
}
