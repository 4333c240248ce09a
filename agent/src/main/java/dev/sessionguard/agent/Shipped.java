package dev.sessionguard.agent;

/**
 * Woven class files shipped inside the agent jar for the library versions the build weaves
 * ({@code META-INF/sessionguard/woven/<key>}, written by {@code scan --prewoven} at build time, see
 * agent/pom.xml), keyed like the woven-class cache by the original class file ({@link WovenCache#key}):
 * a known version is never woven at run time, so a cold start (an empty cache, a new container) does not
 * load Byte Buddy. An unknown version, or bytes another agent changed first, miss and are woven as before.
 * See docs/weaving.md.
 */
final class Shipped {

    static final String DIR = "META-INF/sessionguard/woven/";

    private Shipped() {
    }

    /** Whether a woven class is shipped for {@code key} (its entry is not read). */
    static boolean has(String key) {
        if (key == null) {
            return false;
        }
        try {
            return AgentJar.has(DIR + key);
        } catch (Throwable t) {
            return false;
        }
    }

    /** The shipped woven bytes for {@code key}, or null. */
    static byte[] get(String key) {
        if (key == null) {
            return null;
        }
        try {
            return AgentJar.bytes(DIR + key);
        } catch (Throwable t) {
            return null;
        }
    }
}
