package dev.sessionguard.agent;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * java.lang.reflect.Proxy classes get a new number in every JVM ({@code jdk.proxy3.$Proxy38} in one run,
 * {@code $Proxy19} in the next), so their class files differ only in their name. For the woven-class cache
 * the name is replaced by a fixed token before the key is taken and before the woven bytes are stored, and
 * put back when they are read: a restart finds the proxy it wove before, without Byte Buddy. Only the
 * constant pool's Utf8 entries are rewritten; nothing else in a class file refers to their byte positions.
 */
final class ClassRename {

    /** Stands for a proxy class's own name in the cache. */
    static final String TOKEN = "dev/sessionguard/cache/$Proxy";

    private ClassRename() {
    }

    /**
     * The cache key of a Proxy class: a hash of its class file with its own name replaced by {@link #TOKEN}.
     * Two JVMs make the same proxy class from the same interfaces but for its name and, often, the order of
     * its methods: which static {@code Method} field (m3, m7, ...) each method passes to the handler follows
     * {@code getMethods()}, whose order differs from one JVM to the next. The order must be part of the key:
     * a class retransformed after it was loaded (attach) keeps the fields its static initializer filled, so
     * bytes woven in a JVM with another order would hand {@code rollback()} the Method of another method.
     * Null when the class file cannot be read.
     */
    static String proxyKey(byte[] classFile, String internalName) {
        byte[] renamed = rename(classFile, internalName, TOKEN);
        return renamed == null ? null : WovenCache.key(TOKEN.replace('/', '.'), renamed);
    }

    /** A java.lang.reflect.Proxy class name: {@code <package>/$Proxy<n>}. */
    static boolean isProxy(String internalName) {
        int slash = internalName.lastIndexOf('/');
        String simple = internalName.substring(slash + 1);
        if (!simple.startsWith("$Proxy") || simple.length() == "$Proxy".length()) {
            return false;
        }
        for (int i = "$Proxy".length(); i < simple.length(); i++) {
            if (!Character.isDigit(simple.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code classFile} with every occurrence of the internal name {@code from} (and of its dotted form) in its
     * Utf8 constants replaced by {@code to}; an occurrence followed by a digit is another name and stays.
     * Null when the class file cannot be read.
     */
    static byte[] rename(byte[] classFile, String from, String to) {
        try {
            String fromDotted = from.replace('/', '.');
            String toDotted = to.replace('/', '.');
            ByteArrayOutputStream out = new ByteArrayOutputStream(classFile.length + 256);
            out.write(classFile, 0, 10);
            int count = ClassHeader.u2(classFile, 8);
            int p = 10;
            for (int i = 1; i < count; i++) {
                int tag = classFile[p] & 0xFF;
                int size = ClassHeader.constantSize(classFile, p);
                if (size < 0) {
                    return null;
                }
                if (ClassHeader.isWide(classFile[p])) {
                    i++;
                }
                if (tag == 1) {
                    String s = new String(classFile, p + 3, size - 3, StandardCharsets.UTF_8);
                    String r = replace(replace(s, from, to), fromDotted, toDotted);
                    if (r.equals(s)) {
                        out.write(classFile, p, size);
                    } else {
                        byte[] b = r.getBytes(StandardCharsets.UTF_8);
                        out.write(1);
                        out.write(b.length >>> 8);
                        out.write(b.length);
                        out.write(b, 0, b.length);
                    }
                } else {
                    out.write(classFile, p, size);
                }
                p += size;
            }
            out.write(classFile, p, classFile.length - p);
            return out.toByteArray();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String replace(String s, String from, String to) {
        int at = s.indexOf(from);
        if (at < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        int last = 0;
        while (at >= 0) {
            int end = at + from.length();
            if (end < s.length() && Character.isDigit(s.charAt(end))) {
                at = s.indexOf(from, at + 1);
                continue;
            }
            b.append(s, last, at).append(to);
            last = end;
            at = s.indexOf(from, end);
        }
        return b.append(s, last, s.length()).toString();
    }
}
