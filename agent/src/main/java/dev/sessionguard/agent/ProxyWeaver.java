package dev.sessionguard.agent;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Weaves java.lang.reflect.Proxy connections (Hikari's closed-connection proxy, Tomcat JDBC pool's
 * connections, Spring's proxies) straight in the class file, without Byte Buddy and without ASM: a proxy class is
 * made at run time, so it is never shipped woven, its method order (and with it its cache key) changes between
 * JVMs, and loading ASM for it cost a start about 12 ms. The JDK's ProxyGenerator (JDK 8 to 25) gives every
 * method without arguments the same 16 bytes, {@code aload_0; getfield Proxy.h; aload_0; getstatic mN;
 * aconst_null; invokeinterface InvocationHandler.invoke; pop; return}, then {@code athrow} as the handler of
 * the exceptions it passes on (Error, RuntimeException, the declared ones) and a handler that wraps anything
 * else in UndeclaredThrowableException (a method that declares Throwable has neither handler: left to Byte Buddy).
 * commit(), rollback() and close() get that call again inside what
 * GuardedCallAdvice does:
 *
 * <pre>
 *   CallState state; try { state = Guard.enter(); } catch (Throwable t) { state = null; }
 *   Throwable thrown = null;
 *   try { h.invoke(this, mN, null); } catch (Throwable t) { thrown = t, wrapped unless one the generator passes on; }
 *   try { thrown = Guard.exit(state, Guard.COMMIT (ROLLBACK, CLOSE), this, "Class#method", thrown); } catch (Throwable t) { }
 *   if (thrown != null) throw thrown;
 * </pre>
 *
 * Only the three methods' Code attributes change; the constants they need are appended to the constant pool, so
 * every other byte of the class file, and every index in it, stays as it was: valid for retransformation. A
 * method whose body is not exactly the generator's (another JDK, another proxy maker) makes this give null, and
 * Byte Buddy weaves the class. See docs/weaving.md, "Finding the classes to weave".
 */
final class ProxyWeaver {

    private static final String GUARD = "dev/sessionguard/bootstrap/Guard";
    private static final String STATE = "dev/sessionguard/bootstrap/CallState";
    private static final String THROWABLE = "java/lang/Throwable";
    private static final String WRAPPER = "java/lang/reflect/UndeclaredThrowableException";

    private static final byte[] VOID_NO_ARGS = ascii("()V");
    private static final byte[] CODE = ascii("Code");
    private static final byte[] PROXY = ascii("java/lang/reflect/Proxy");
    private static final byte[] HANDLER_FIELD = ascii("h");
    private static final byte[] HANDLER = ascii("java/lang/reflect/InvocationHandler");
    private static final byte[] INVOKE = ascii("invoke");
    private static final byte[] METHOD = ascii("Ljava/lang/reflect/Method;");

    private static final int ACC_STATIC = 0x0008;

    private static final int ALOAD_0 = 0x2A;
    private static final int ALOAD_1 = 0x2B;
    private static final int ALOAD_2 = 0x2C;
    private static final int ASTORE_1 = 0x4C;
    private static final int ASTORE_2 = 0x4D;
    private static final int ACONST_NULL = 0x01;
    private static final int BIPUSH = 0x10;
    private static final int LDC_W = 0x13;
    private static final int POP = 0x57;
    private static final int DUP = 0x59;
    private static final int IFNE = 0x9A;
    private static final int GOTO = 0xA7;
    private static final int RETURN = 0xB1;
    private static final int GETSTATIC = 0xB2;
    private static final int GETFIELD = 0xB4;
    private static final int INVOKESPECIAL = 0xB7;
    private static final int INVOKESTATIC = 0xB8;
    private static final int INVOKEINTERFACE = 0xB9;
    private static final int NEW = 0xBB;
    private static final int ATHROW = 0xBF;
    private static final int INSTANCEOF = 0xC1;
    private static final int IFNULL = 0xC6;

    private ProxyWeaver() {
    }

    /**
     * The woven class file, or null when one of {@code methods} (no arguments, returning void) is missing or its
     * body is not the generator's, or the class file cannot be read.
     */
    static byte[] weave(String internalName, byte[] b, String[] methods) {
        try {
            return weaveOrNull(internalName, b, methods);
        } catch (RuntimeException e) {
            return null; // malformed or not a generator's proxy: Byte Buddy, or the JVM, will judge it
        }
    }

    private static byte[] weaveOrNull(String internalName, byte[] b, String[] methods) {
        int[] cp = ClassHeader.constants(b);
        if (cp == null) {
            return null;
        }
        int major = ClassHeader.u2(b, 6);
        int thisClass = ClassHeader.u2(b, cp[0] + 2);
        byte[] self = internalName.getBytes(StandardCharsets.UTF_8);
        if (!ClassHeader.utf8Is(b, cp, ClassHeader.u2(b, cp[thisClass] + 1), self)) {
            return null;
        }
        byte[][] names = new byte[methods.length][];
        for (int i = 0; i < methods.length; i++) {
            names[i] = ascii(methods[i]);
        }
        // the class's methods: which are ours, and where their Code attribute is
        int p = cp[0] + 6;
        p = ClassHeader.skipMembers(b, p + 2 + 2 * ClassHeader.u2(b, p)); // interfaces, fields
        int methodsAt = p;
        int count = ClassHeader.u2(b, p);
        p += 2;
        int[] codeAt = new int[methods.length]; // offset of the method's Code attribute
        int[] which = new int[count]; // per method of the class: 1 + the index into methods, or 0
        for (int m = 0; m < count; m++) {
            int access = ClassHeader.u2(b, p);
            int name = ClassHeader.u2(b, p + 2);
            if ((access & ACC_STATIC) == 0 && ClassHeader.utf8Is(b, cp, ClassHeader.u2(b, p + 4), VOID_NO_ARGS)) {
                for (int i = 0; i < names.length; i++) {
                    if (codeAt[i] == 0 && ClassHeader.utf8Is(b, cp, name, names[i])) {
                        codeAt[i] = code(b, cp, p);
                        which[m] = i + 1;
                    }
                }
            }
            p = ClassHeader.skipAttributes(b, p + 6);
        }
        for (int i = 0; i < methods.length; i++) {
            if (codeAt[i] == 0 || !generators(b, cp, codeAt[i], self)) {
                return null;
            }
        }

        // the constants the new bodies use, appended to the pool
        Pool pool = new Pool(ClassHeader.u2(b, 8));
        int guard = pool.classRef(GUARD);
        int enter = pool.methodRef(guard, "enter", "()L" + STATE + ";");
        int exit = pool.methodRef(guard, "exit", "(L" + STATE + ";ILjava/lang/Object;Ljava/lang/String;Ljava/lang/Throwable;)Ljava/lang/Throwable;");
        int state = pool.classRef(STATE);
        int throwable = pool.classRef(THROWABLE);
        int wrapper = pool.classRef(WRAPPER);
        int wrap = pool.methodRef(wrapper, "<init>", "(Ljava/lang/Throwable;)V");
        int frames = major >= 50 ? pool.utf8("StackMapTable") : 0; // class files before 50 have no stack map
        byte[][] codes = new byte[methods.length][];
        String dotted = internalName.replace('/', '.');
        for (int i = 0; i < methods.length; i++) {
            int site = pool.string(dotted + "#" + methods[i]);
            codes[i] = body(b, codeAt[i], operation(methods[i]), thisClass, enter, exit, state, throwable, wrapper, wrap, site, frames);
            if (codes[i] == null) {
                return null;
            }
        }
        if (pool.next > 0xFFFF) {
            return null;
        }

        Code out = new Code(b.length + pool.bytes.size() + 600);
        out.write(b, 0, 8);
        out.u2(pool.next);
        out.write(b, 10, cp[0] - 10);
        out.write(pool.bytes.toByteArray(), 0, pool.bytes.size());
        out.write(b, cp[0], methodsAt + 2 - cp[0]); // access flags to the method count
        p = methodsAt + 2;
        for (int m = 0; m < count; m++) {
            int end = ClassHeader.skipAttributes(b, p + 6);
            if (which[m] == 0) {
                out.write(b, p, end - p);
            } else {
                int at = codeAt[which[m] - 1];
                int codeEnd = at + 6 + ClassHeader.u4(b, at + 2);
                out.write(b, p, at - p); // access, name, descriptor, attribute count, attributes before Code
                byte[] code = codes[which[m] - 1];
                out.write(b, at, 2); // the Code attribute's name
                out.u4(code.length);
                out.write(code, 0, code.length);
                out.write(b, codeEnd, end - codeEnd); // attributes after Code (Exceptions, ...)
            }
            p = end;
        }
        out.write(b, p, b.length - p); // the class's attributes
        return out.toByteArray();
    }

    /** The offset of the Code attribute of the method at {@code p}, or 0. */
    private static int code(byte[] b, int[] cp, int p) {
        int attributes = ClassHeader.u2(b, p + 6);
        p += 8;
        for (int a = 0; a < attributes; a++) {
            if (ClassHeader.utf8Is(b, cp, ClassHeader.u2(b, p), CODE)) {
                return p;
            }
            p += 6 + ClassHeader.u4(b, p + 2);
        }
        return 0;
    }

    /** Whether the Code attribute at {@code at} starts with the generator's 16 bytes and their athrow handler. */
    private static boolean generators(byte[] b, int[] cp, int at, byte[] self) {
        int length = ClassHeader.u4(b, at + 10);
        int c = at + 14;
        return length >= 17
                && (b[c] & 0xFF) == ALOAD_0
                && (b[c + 1] & 0xFF) == GETFIELD && refIs(b, cp, ClassHeader.u2(b, c + 2), 9, PROXY, HANDLER_FIELD, null)
                && (b[c + 4] & 0xFF) == ALOAD_0
                && (b[c + 5] & 0xFF) == GETSTATIC && refIs(b, cp, ClassHeader.u2(b, c + 6), 9, self, null, METHOD)
                && (b[c + 8] & 0xFF) == ACONST_NULL
                && (b[c + 9] & 0xFF) == INVOKEINTERFACE && refIs(b, cp, ClassHeader.u2(b, c + 10), 11, HANDLER, INVOKE, null)
                && (b[c + 12] & 0xFF) == 4 && b[c + 13] == 0
                && (b[c + 14] & 0xFF) == POP
                && (b[c + 15] & 0xFF) == RETURN
                && (b[c + 16] & 0xFF) == ATHROW;
    }

    /** Whether constant {@code index} is a Fieldref (9) or InterfaceMethodref (11) of that class, name and type. */
    private static boolean refIs(byte[] b, int[] cp, int index, int tag, byte[] owner, byte[] name, byte[] descriptor) {
        int at = cp[index];
        if ((b[at] & 0xFF) != tag) {
            return false;
        }
        int nameAndType = cp[ClassHeader.u2(b, at + 3)];
        return ClassHeader.utf8Is(b, cp, ClassHeader.u2(b, cp[ClassHeader.u2(b, at + 1)] + 1), owner)
                && (name == null || ClassHeader.utf8Is(b, cp, ClassHeader.u2(b, nameAndType + 1), name))
                && (descriptor == null || ClassHeader.utf8Is(b, cp, ClassHeader.u2(b, nameAndType + 3), descriptor));
    }

    /** Guard's constant for the method (as GuardedCallAdvice's classes pass it). */
    private static int operation(String method) {
        return "commit".equals(method) ? dev.sessionguard.bootstrap.Guard.COMMIT
                : "rollback".equals(method) ? dev.sessionguard.bootstrap.Guard.ROLLBACK : dev.sessionguard.bootstrap.Guard.CLOSE;
    }

    /**
     * The new Code attribute's content (after its name and length), for the generator's method whose Code attribute
     * is at {@code at}: its getfield, getstatic and invokeinterface constants are used again, and the exceptions it
     * passes on are those its exception table sends to the athrow at offset 16, in the same order. Null when the
     * table sends nothing to the wrapping at 17 (a method declaring Throwable).
     */
    private static byte[] body(byte[] b, int at, int op, int thisClass, int enter, int exit, int state, int throwable,
                               int wrapper, int wrap, int site, int frames) {
        int c = at + 14;
        int handler = ClassHeader.u2(b, c + 2);
        int field = ClassHeader.u2(b, c + 6);
        int invoke = ClassHeader.u2(b, c + 10);
        int table = c + ClassHeader.u4(b, at + 10);
        int entries = ClassHeader.u2(b, table);
        int[] passed = new int[entries];
        int passes = 0;
        boolean wraps = false;
        for (int e = 0; e < entries; e++) {
            int entry = table + 2 + 8 * e;
            int type = ClassHeader.u2(b, entry + 6);
            if (ClassHeader.u2(b, entry) == 0 && ClassHeader.u2(b, entry + 2) == 16) {
                if (ClassHeader.u2(b, entry + 4) == 16 && type != 0) {
                    passed[passes++] = type;
                } else if (ClassHeader.u2(b, entry + 4) == 17) {
                    wraps = true; // Throwable (or any) to the wrapping at 17
                }
            }
        }
        if (!wraps) {
            // a method that declares Throwable passes everything on: the generator writes no handler for it (JDK 15 to
            // 23 still write the athrow at 16, and the wrapping as nops); not this weaver's shape, Byte Buddy's
            return null;
        }

        Code code = new Code();
        int e0 = code.at();
        code.op(INVOKESTATIC).u2(enter).op(ASTORE_1);
        int e1 = code.at();
        int toBody = code.jump(GOTO);
        int eh = code.at(); // Guard.enter() threw: no state
        code.op(POP).op(ACONST_NULL).op(ASTORE_1);
        int bodyAt = code.at();
        code.land(toBody, bodyAt);
        code.op(ACONST_NULL).op(ASTORE_2);
        int t0 = code.at();
        code.op(ALOAD_0).op(GETFIELD).u2(handler).op(ALOAD_0).op(GETSTATIC).u2(field).op(ACONST_NULL)
                .op(INVOKEINTERFACE).u2(invoke).op(4).op(0).op(POP);
        int t1 = code.at();
        int[] toExit = new int[passes + 1];
        toExit[0] = code.jump(GOTO);
        int th = code.at(); // what the handler threw, as the generator passes it on
        code.op(ASTORE_2);
        for (int i = 0; i < passes; i++) {
            code.op(ALOAD_2).op(INSTANCEOF).u2(passed[i]);
            toExit[i + 1] = code.jump(IFNE);
        }
        code.op(NEW).u2(wrapper).op(DUP).op(ALOAD_2).op(INVOKESPECIAL).u2(wrap).op(ASTORE_2);
        int exitAt = code.at(); // thrown = Guard.exit(state, op, this, site, thrown), kept as it was if that throws
        for (int j : toExit) {
            code.land(j, exitAt);
        }
        code.op(ALOAD_1).op(BIPUSH).op(op).op(ALOAD_0).op(LDC_W).u2(site).op(ALOAD_2).op(INVOKESTATIC).u2(exit).op(ASTORE_2);
        int x1 = code.at();
        int toEnd = code.jump(GOTO);
        int xh = code.at();
        code.op(POP);
        int end = code.at();
        code.land(toEnd, end);
        code.op(ALOAD_2);
        int toReturn = code.jump(IFNULL);
        code.op(ALOAD_2).op(ATHROW);
        int ret = code.at();
        code.land(toReturn, ret);
        code.op(RETURN);

        Code attribute = new Code();
        attribute.u2(5).u2(3).u4(code.at()); // max stack, max locals, code length
        attribute.bytes(code);
        attribute.u2(3);
        attribute.u2(e0).u2(e1).u2(eh).u2(throwable);
        attribute.u2(t0).u2(t1).u2(th).u2(throwable);
        attribute.u2(exitAt).u2(x1).u2(xh).u2(throwable);
        if (frames == 0) {
            attribute.u2(0);
        } else {
            // full frames: locals {this}, {this, state}, {this, state, thrown}; a Throwable on the stack at handlers
            Code map = new Code();
            map.u2(7);
            int last = -1;
            int[][] at7 = {
                {eh, 1, 1}, {bodyAt, 2, 0}, {th, 3, 1}, {exitAt, 3, 0}, {xh, 3, 1}, {end, 3, 0}, {ret, 3, 0}};
            for (int[] f : at7) {
                map.op(255).u2(last < 0 ? f[0] : f[0] - last - 1).u2(f[1]);
                int[] locals = {thisClass, state, throwable};
                for (int l = 0; l < f[1]; l++) {
                    map.op(7).u2(locals[l]);
                }
                map.u2(f[2]);
                if (f[2] == 1) {
                    map.op(7).u2(throwable);
                }
                last = f[0];
            }
            attribute.u2(1).u2(frames).u4(map.at());
            attribute.bytes(map);
        }
        return attribute.toByteArray();
    }

    /** Bytes written in order; a forward jump's offset filled in when its target is known. */
    private static final class Code extends ByteArrayOutputStream {
        Code() {
        }

        Code(int size) {
            super(size);
        }

        int at() {
            return count;
        }

        Code op(int v) {
            write(v);
            return this;
        }

        Code u2(int v) {
            write(v >>> 8);
            write(v);
            return this;
        }

        Code u4(int v) {
            return u2(v >>> 16).u2(v & 0xFFFF);
        }

        Code bytes(Code other) {
            write(other.buf, 0, other.count);
            return this;
        }

        /** Writes a jump instruction with a blank offset; returns where it starts. */
        int jump(int opcode) {
            int from = count;
            op(opcode).u2(0);
            return from;
        }

        void land(int jump, int target) {
            int offset = target - jump;
            if (offset != (short) offset) {
                // a branch offset is 16 bits, signed: past it (a method declaring thousands of exception types, 7 bytes
                // of code each) this shape does not fit; weave() gives null and Byte Buddy weaves the class
                throw new IllegalStateException("branch offset " + offset);
            }
            buf[jump + 1] = (byte) (offset >>> 8);
            buf[jump + 2] = (byte) offset;
        }
    }

    /** Constants appended after a pool of {@code next - 1} entries. */
    private static final class Pool {
        final Code bytes = new Code();
        int next;

        Pool(int count) {
            this.next = count;
        }

        int utf8(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8); // the names here hold no NUL and no supplementary character
            bytes.op(1).u2(u.length).write(u, 0, u.length);
            return next++;
        }

        int classRef(String internalName) {
            int name = utf8(internalName);
            bytes.op(7).u2(name);
            return next++;
        }

        int string(String s) {
            int utf = utf8(s);
            bytes.op(8).u2(utf);
            return next++;
        }

        int methodRef(int owner, String name, String descriptor) {
            int n = utf8(name);
            int d = utf8(descriptor);
            bytes.op(12).u2(n).u2(d);
            int nameAndType = next++;
            bytes.op(10).u2(owner).u2(nameAndType);
            return next++;
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
