package dev.sessionguard.agent;

import java.nio.charset.StandardCharsets;

/**
 * The few facts the generic JDBC matcher needs from a class file, read straight from its bytes without
 * Byte Buddy: whether it is an interface, its superclass and interface names, and which of commit(),
 * rollback() and close() (no arguments, returning void) it declares with a body. Reading stops at the
 * method table; a malformed class file gives null. See docs/weaving.md, "Finding the classes to weave".
 */
final class ClassHeader {

    static final int COMMIT = 1;
    static final int ROLLBACK = 2;
    static final int CLOSE = 4;

    private static final byte[] COMMIT_NAME = ascii("commit");
    private static final byte[] ROLLBACK_NAME = ascii("rollback");
    private static final byte[] CLOSE_NAME = ascii("close");
    private static final byte[] VOID_NO_ARGS = ascii("()V");
    private static final byte[] CODE_NAME = ascii("Code");

    private static final int ACC_STATIC = 0x0008;
    private static final int ACC_NATIVE = 0x0100;
    private static final int ACC_INTERFACE = 0x0200;
    private static final int ACC_ABSTRACT = 0x0400;

    final boolean isInterface;
    /** Internal name, or null for java/lang/Object and module-info. */
    final String superName;
    final String[] interfaces;
    /** COMMIT | ROLLBACK | CLOSE of the methods declared with a body; 0 when not read. */
    final int declared;

    private ClassHeader(boolean isInterface, String superName, String[] interfaces, int declared) {
        this.isInterface = isInterface;
        this.superName = superName;
        this.interfaces = interfaces;
        this.declared = declared;
    }

    /**
     * Reads {@code b}. With {@code candidatesOnly}, returns null unless the class is not an interface and
     * declares at least one of the three methods: the names are then never turned into strings.
     */
    static ClassHeader read(byte[] b, boolean candidatesOnly) {
        try {
            if (b.length < 10 || u4(b, 0) != 0xCAFEBABE) {
                return null;
            }
            int[] offsets = constants(b);
            if (offsets == null) {
                return null;
            }
            int p = offsets[0];
            int access = u2(b, p);
            boolean isInterface = (access & ACC_INTERFACE) != 0;
            if (candidatesOnly && isInterface) {
                return null;
            }
            int superIndex = u2(b, p + 4);
            int interfaceCount = u2(b, p + 6);
            int interfacesAt = p + 8;
            p = interfacesAt + 2 * interfaceCount;
            int declared = 0;
            if (candidatesOnly) {
                p = skipMembers(b, p); // fields
                int methods = u2(b, p);
                p += 2;
                for (int m = 0; m < methods; m++) {
                    int flags = u2(b, p);
                    if ((flags & (ACC_STATIC | ACC_NATIVE | ACC_ABSTRACT)) == 0
                            && utf8Is(b, offsets, u2(b, p + 4), VOID_NO_ARGS)) {
                        int name = u2(b, p + 2);
                        if (utf8Is(b, offsets, name, CLOSE_NAME)) {
                            declared |= CLOSE;
                        } else if (utf8Is(b, offsets, name, COMMIT_NAME)) {
                            declared |= COMMIT;
                        } else if (utf8Is(b, offsets, name, ROLLBACK_NAME)) {
                            declared |= ROLLBACK;
                        }
                    }
                    p = skipAttributes(b, p + 6);
                }
                if (declared == 0) {
                    return null;
                }
            }
            String superName = superIndex == 0 ? null : className(b, offsets, superIndex);
            String[] interfaces = new String[interfaceCount];
            for (int i = 0; i < interfaceCount; i++) {
                interfaces[i] = className(b, offsets, u2(b, interfacesAt + 2 * i));
            }
            return new ClassHeader(isInterface, superName, interfaces, declared);
        } catch (RuntimeException e) {
            return null; // truncated or malformed: not ours to judge, the JVM will
        }
    }

    /**
     * The offset of each constant pool entry by its index, and at index 0 the offset of the first byte after the
     * pool; null for a tag this reader does not know.
     */
    static int[] constants(byte[] b) {
        int count = u2(b, 8);
        int[] offsets = new int[count];
        int p = 10;
        for (int i = 1; i < count; i++) {
            offsets[i] = p;
            int size = constantSize(b, p);
            if (size < 0) {
                return null;
            }
            if (isWide(b[p])) {
                i++; // Long, Double: two slots
            }
            p += size;
        }
        offsets[0] = p;
        return offsets;
    }

    /**
     * A digest of a class's shape: its name, superclass and interfaces, each field's name and descriptor, and each
     * method's name, descriptor and code (its bytecode, which names constants by their index in the constant pool);
     * -1 for a malformed class file. Members count in any order: a class file the JVM rebuilds from a loaded class for
     * a retransformation (one that had no class file hook when it loaded: a JDK 24+ AOT cache loads and links classes
     * before premain) has the original's constant pool and code, but its methods and attributes not always in the
     * same order. Any change to a method's code changes it: another agent's, a debugger's hot swap.
     * See docs/weaving.md, "AOT caches and CDS dumps".
     */
    static long shape(byte[] b) {
        try {
            if (b.length < 10 || u4(b, 0) != 0xCAFEBABE) {
                return -1;
            }
            int[] offsets = constants(b);
            if (offsets == null) {
                return -1;
            }
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            int p = offsets[0] + 2; // access flags: left out
            for (int i = 0; i < 2; i++, p += 2) { // this class, superclass (0 for java/lang/Object)
                int index = u2(b, p);
                utf8(crc, b, index == 0 ? 0 : offsets[u2(b, offsets[index] + 1)]);
            }
            int interfaces = u2(b, p);
            p += 2;
            for (int i = 0; i < interfaces; i++, p += 2) {
                utf8(crc, b, offsets[u2(b, offsets[u2(b, p)] + 1)]);
            }
            long members = 0;
            java.util.zip.CRC32 member = new java.util.zip.CRC32();
            for (int kind = 0; kind < 2; kind++) { // fields, then methods
                int count = u2(b, p);
                p += 2;
                for (int m = 0; m < count; m++) {
                    member.reset();
                    member.update(kind);
                    utf8(member, b, offsets[u2(b, p + 2)]);
                    utf8(member, b, offsets[u2(b, p + 4)]);
                    int attributes = u2(b, p + 6);
                    p += 8;
                    for (int a = 0; a < attributes; a++) {
                        if (kind == 1 && utf8Is(b, offsets, u2(b, p), CODE_NAME)) {
                            member.update(b, p + 6, 8 + u4(b, p + 10)); // max_stack, max_locals, code_length, code
                        }
                        p += 6 + u4(b, p + 2);
                    }
                    members += mix(member.getValue()); // a sum: the same in any order
                }
            }
            return (crc.getValue() ^ members) & Long.MAX_VALUE;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Spreads a member's CRC over 64 bits before it is summed (the finalizer of SplitMix64). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Adds the Utf8 entry at offset {@code at} (0: none) and a separator to {@code crc}. */
    private static void utf8(java.util.zip.CRC32 crc, byte[] b, int at) {
        if (at != 0) {
            if ((b[at] & 0xFF) != 1) {
                throw new IllegalArgumentException("not a Utf8 entry");
            }
            crc.update(b, at + 3, u2(b, at + 1));
        }
        crc.update(0);
    }

    /** The size in bytes of the constant pool entry at {@code p}, or -1 for a tag this reader does not know. */
    static int constantSize(byte[] b, int p) {
        switch (b[p] & 0xFF) {
            case 1: // Utf8
                return 3 + u2(b, p + 1);
            case 7: case 8: case 16: case 19: case 20: // Class, String, MethodType, Module, Package
                return 3;
            case 15: // MethodHandle
                return 4;
            case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18:
                return 5;
            case 5: case 6: // Long, Double
                return 9;
            default:
                return -1;
        }
    }

    /** A Long or Double entry: it takes two slots of the constant pool. */
    static boolean isWide(byte tag) {
        return tag == 5 || tag == 6;
    }

    static int skipMembers(byte[] b, int p) {
        int n = u2(b, p);
        p += 2;
        for (int i = 0; i < n; i++) {
            p = skipAttributes(b, p + 6);
        }
        return p;
    }

    static int skipAttributes(byte[] b, int p) {
        int n = u2(b, p);
        p += 2;
        for (int i = 0; i < n; i++) {
            p += 6 + u4(b, p + 2);
        }
        return p;
    }

    private static String className(byte[] b, int[] offsets, int classIndex) {
        int utf8 = offsets[u2(b, offsets[classIndex] + 1)];
        return new String(b, utf8 + 3, u2(b, utf8 + 1), StandardCharsets.UTF_8);
    }

    static boolean utf8Is(byte[] b, int[] offsets, int index, byte[] expected) {
        int at = offsets[index];
        if ((b[at] & 0xFF) != 1 || u2(b, at + 1) != expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (b[at + 3 + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    static int u2(byte[] b, int p) {
        return ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
    }

    static int u4(byte[] b, int p) {
        return (u2(b, p) << 16) | u2(b, p + 2);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
