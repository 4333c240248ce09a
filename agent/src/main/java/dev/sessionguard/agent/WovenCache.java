package dev.sessionguard.agent;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Woven class files kept on disk between runs, so that a service restarted with the same libraries never
 * loads Byte Buddy: the weaving of a class depends on its bytes, the advice and Byte Buddy, so an entry is
 * keyed by a hash of the original class file ({@link #key}), in a directory named after the agent build. The first
 * start with a library version weaves and stores; the next ones read.
 *
 * <p>Safety: the directory must belong to this user and be closed to everyone else (created with rwx------;
 * an existing one that is not is not used). An entry carries a CRC32 of its content; a damaged or
 * unreadable one is ignored and the class woven again. Nothing here throws into the application.
 */
final class WovenCache {

    /** Marks a class the advice does not fit; the rest of the file is the reason. */
    private static final byte[] UNSUPPORTED = "SGUNSUPPORTED\n".getBytes(StandardCharsets.UTF_8);

    private final File dir;

    private WovenCache(File dir) {
        this.dir = dir;
    }

    /** The cache for option {@code cache} ("off", or a directory; null: the default), or null when it cannot be used. */
    static WovenCache open(String option, LogSink log) {
        if ("off".equals(option)) {
            return null;
        }
        try {
            String[] why = new String[1];
            File root = option != null ? PrivateDir.use(new File(option), why) : PrivateDir.root(why);
            File dir = root == null ? null : PrivateDir.use(new File(root, option != null ? PrivateDir.build() : "cache-" + PrivateDir.build()), why);
            if (dir == null) {
                log.warn("the woven-class cache " + (option != null ? option : "directory") + " is not used: " + why[0]
                        + " (option cache=DIR or cache=off)", null);
                return null;
            }
            mark(dir);
            removeStale(root, dir, option == null);
            return new WovenCache(dir);
        } catch (Throwable t) {
            log.info("no woven-class cache (" + t + "); classes are woven at every start");
            return null;
        }
    }

    /** The file that says a directory is an agent build's cache, which a later build may remove when stale. */
    static final String MARK = ".sessionguard-cache";
    /** The name of an agent build's directory ({@link PrivateDir#build}: version, build id or jar time, jar length). */
    private static final String BUILD = ".*-[0-9a-f]+-[0-9a-f]+";

    private static void mark(File dir) {
        try {
            new File(dir, MARK).createNewFile();
        } catch (Throwable t) {
            // without it, this directory is never removed as stale: only a few woven classes left on disk
        }
    }

    /**
     * Other agent builds' caches nobody added to for two days: a new build is in use. In the agent's own directory
     * ({@code ownRoot}: the default, {@code <tmpdir>/sessionguard-<user>}) every directory of an agent build; in a
     * directory the user named (option {@code cache=DIR}, a home directory or a volume that holds other things too)
     * only those that carry the mark of a cache (its name alone could be anybody's: {@code backup-2024-05}). Symbolic
     * links are not followed, and only the files in such a directory are removed, then the directory if empty.
     */
    static void removeStale(File root, File current, boolean ownRoot) {
        File[] builds = root.listFiles();
        if (builds == null) {
            return;
        }
        long old = System.currentTimeMillis() - 2L * 24 * 3600 * 1000;
        for (File b : builds) {
            String n = b.getName();
            if (!b.equals(current) && java.nio.file.Files.isDirectory(b.toPath(), java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && b.lastModified() < old && (ownRoot ? n.startsWith("cache-") || n.matches(BUILD)
                            : n.matches(BUILD) && new File(b, MARK).isFile())) {
                File[] entries = b.listFiles();
                if (entries != null) {
                    for (File e : entries) {
                        if (java.nio.file.Files.isRegularFile(e.toPath(), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                            e.delete();
                        }
                    }
                }
                b.delete();
            }
        }
    }

    /**
     * The key of a class file: its name, its length and two independent 64-bit hashes of its bytes. Not a
     * cryptographic digest, on purpose: the JDK's MessageDigest costs tens of milliseconds of start-up (its security
     * providers), and none is needed: only this user can write the directory, and whoever can choose a class file the
     * application loads needs no collision.
     */
    static String key(String className, byte[] original) {
        return className + "-" + Integer.toHexString(original.length) + "-" + hash(original);
    }

    /**
     * 32 hex digits over {@code bytes}: two lanes over its 8-byte words, each step a bijection of the lane for a
     * given word (so one changed word always changes both lanes), then the last bytes one by one, then a final mix.
     * A word at a time because this runs on the first classes of a start, before the JIT compiled it: the words
     * come out of the array in one bulk copy, and the loop runs an eighth of the steps of a byte loop (SessionImpl,
     * 100 KB: 2.6 to 6.5 ms byte by byte before the JIT compiled it, 0.7 to 0.8 ms a word at a time, on this machine; docs/weaving.md, "Shipped woven classes").
     */
    static String hash(byte[] bytes) {
        int words = bytes.length >>> 3;
        long[] w = new long[words];
        java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(w);
        long a = 0xcbf29ce484222325L;
        long b = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < words; i++) {
            long x = w[i];
            a = (a ^ x) * 0x100000001b3L;
            a = (a << 31 | a >>> 33) * 0x9E3779B97F4A7C15L;
            b = (b + x) * 0xbf58476d1ce4e5b9L;
            b ^= b >>> 31;
        }
        for (int i = words << 3; i < bytes.length; i++) {
            a = (a ^ (bytes[i] & 0xff)) * 0x100000001b3L;
            b = (b + (bytes[i] & 0xff)) * 0xbf58476d1ce4e5b9L;
            b ^= b >>> 31;
        }
        return hex(finish(a)) + hex(finish(b));
    }

    /** SplitMix64's finaliser: every bit of the lane reaches every bit of the result. */
    private static long finish(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static String hex(long v) {
        String h = Long.toHexString(v);
        return "0000000000000000".substring(h.length()) + h;
    }

    /** What was stored for this key: woven bytes, a {@link Weaver.Unsupported} (thrown), or null when nothing. */
    byte[] get(String key) throws Weaver.Unsupported {
        if (key == null) {
            return null;
        }
        try {
            File f = new File(dir, key);
            if (!f.isFile()) {
                return null;
            }
            // java.io, loaded by every JVM: NIO's Files.readAllBytes loads its channel classes (5 ms of a start)
            byte[] all = BootstrapClasses.readAll(new FileInputStream(f));
            if (all.length < 8) {
                return null;
            }
            int n = all.length - 8;
            CRC32 crc = new CRC32();
            crc.update(all, 0, n);
            long stored = 0;
            for (int i = 0; i < 8; i++) {
                stored = (stored << 8) | (all[n + i] & 0xff);
            }
            if (stored != crc.getValue()) {
                return null;
            }
            if (startsWith(all, UNSUPPORTED)) {
                throw new Weaver.Unsupported(new String(all, UNSUPPORTED.length, n - UNSUPPORTED.length, StandardCharsets.UTF_8));
            }
            byte[] woven = new byte[n];
            System.arraycopy(all, 0, woven, 0, n);
            return woven;
        } catch (Weaver.Unsupported u) {
            throw u;
        } catch (Throwable t) {
            return null;
        }
    }

    void put(String key, byte[] woven) {
        write(key, woven);
    }

    void putUnsupported(String key, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[UNSUPPORTED.length + r.length];
        System.arraycopy(UNSUPPORTED, 0, all, 0, UNSUPPORTED.length);
        System.arraycopy(r, 0, all, UNSUPPORTED.length, r.length);
        write(key, all);
    }

    private void write(String key, byte[] content) {
        if (key == null) {
            return;
        }
        File tmp = null;
        try {
            CRC32 crc = new CRC32();
            crc.update(content, 0, content.length);
            long v = crc.getValue();
            byte[] tail = new byte[8];
            for (int i = 7; i >= 0; i--) {
                tail[i] = (byte) v;
                v >>>= 8;
            }
            tmp = File.createTempFile("entry", ".tmp", dir);
            try (FileOutputStream out = new FileOutputStream(tmp)) {
                out.write(content);
                out.write(tail);
            }
            File target = new File(dir, key);
            if (!tmp.renameTo(target)) {
                tmp.delete();
            }
        } catch (Throwable t) {
            if (tmp != null) {
                tmp.delete();
            }
        }
    }

    private static boolean startsWith(byte[] all, byte[] prefix) {
        if (all.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (all[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
