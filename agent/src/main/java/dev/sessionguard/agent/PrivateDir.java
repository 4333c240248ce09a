package dev.sessionguard.agent;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The agent's own directory for files it reuses between runs (the bootstrap helper jar, the woven-class
 * cache): {@code <tmpdir>/sessionguard-<user>}, created rwx------. A directory that is a symbolic link,
 * belongs to someone else or that others can write to is refused: what the agent puts on the bootstrap
 * class path or weaves into classes must not come from a file another user could have written.
 */
final class PrivateDir {

    private PrivateDir() {
    }

    /** The default root, created if missing; null (with {@code why[0]} set) when it cannot be used. */
    static File root(String[] why) {
        return use(new File(System.getProperty("java.io.tmpdir"), "sessionguard-" + safe(System.getProperty("user.name", "user"))), why);
    }

    /** {@code dir}, created private if missing; null (with {@code why[0]} set) when it cannot be used. */
    static File use(File dir, String[] why) {
        try {
            Path p = dir.toPath();
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectories(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (UnsupportedOperationException e) {
                    Files.createDirectories(p);
                }
            }
            String refused = refusal(p);
            if (refused != null) {
                why[0] = refused;
                return null;
            }
            return dir;
        } catch (Throwable t) {
            why[0] = t.toString();
            return null;
        }
    }

    /** Why a directory must not be used, or null. */
    static String refusal(Path dir) throws IOException {
        if (Files.isSymbolicLink(dir)) {
            return "it is a symbolic link";
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return "it is not a directory";
        }
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            return null; // not POSIX: the platform's own ACLs apply
        }
        java.nio.file.attribute.PosixFileAttributes attributes = view.readAttributes();
        String owner = attributes.owner().getName();
        String me = me();
        if (!owner.equals(me)) {
            return "it belongs to " + owner + ", not to " + me;
        }
        Set<PosixFilePermission> perms = attributes.permissions();
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            return "others can write to it (" + PosixFilePermissions.toString(perms) + ")";
        }
        return null;
    }

    /**
     * Who this process is, as the file system names owners: the owner of a file it creates (user.name can
     * differ, e.g. in containers run under an arbitrary uid with no passwd entry).
     */
    private static String me() throws IOException {
        String m = me;
        if (m == null) {
            Path self = java.nio.file.Paths.get("/proc/self");
            if (Files.isDirectory(self)) {
                // Linux: /proc/self belongs to the process's effective user; no file to create
                m = Files.getOwner(self).getName();
                me = m;
                return m;
            }
            Path probe = Files.createTempFile("sessionguard-owner", ".tmp");
            try {
                m = Files.getOwner(probe, LinkOption.NOFOLLOW_LINKS).getName();
            } finally {
                Files.deleteIfExists(probe);
            }
            me = m;
        }
        return m;
    }

    /** Found once per JVM: the bootstrap jar and the cache both ask, for two or three directories. */
    private static volatile String me;

    static String safe(String s) {
        // [^A-Za-z0-9._-] to _, without a regex: this runs when the first library class loads
        char[] c = s.toCharArray();
        for (int i = 0; i < c.length; i++) {
            char x = c[i];
            if (!((x >= 'A' && x <= 'Z') || (x >= 'a' && x <= 'z') || (x >= '0' && x <= '9') || x == '.' || x == '_' || x == '-')) {
                c[i] = '_';
            }
        }
        return new String(c);
    }

    /**
     * The agent build, so that a rebuilt agent never reuses older files: the jar's version, the identity of its
     * contents the build wrote ({@link BuildId}) and its size; a jar without that identity (a build from before it,
     * a test's class directory) its version, size and time.
     */
    static String build() throws Exception {
        String known = buildName;
        if (known != null) {
            return known;
        }
        File jar = new File(PrivateDir.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        byte[] id = null;
        try {
            id = AgentJar.bytes(BuildId.RESOURCE);
        } catch (Exception e) {
            // no identity: size and time below
        }
        String contents = id != null && id.length == 16 ? new String(id, java.nio.charset.StandardCharsets.US_ASCII)
                : Long.toHexString(jar.lastModified());
        return buildName = safe(Version.get()) + "-" + safe(contents) + "-" + Long.toHexString(jar.length());
    }

    /** Found once per JVM (the cache and the fallback bootstrap jar both ask): the jar's entry is read once. */
    private static volatile String buildName;
}
