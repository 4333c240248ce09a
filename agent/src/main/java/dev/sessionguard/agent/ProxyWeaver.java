package dev.sessionguard.agent;

import java.util.HashMap;
import java.util.Map;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * Weaves java.lang.reflect.Proxy connections (Hikari's closed-connection proxy, Tomcat JDBC pool's
 * connections, Spring's proxies) with the ASM inside Byte Buddy, without Byte Buddy: a proxy class is made
 * at run time, so it is never shipped woven and, on a cold start, would load Byte Buddy's 800 classes. The
 * JDK's ProxyGenerator gives every method the same body, {@code h.invoke(this, mN, args)} with the declared
 * exceptions passed through and anything else wrapped in UndeclaredThrowableException; commit(), rollback()
 * and close() get that body again inside what GuardedCallAdvice does:
 *
 * <pre>
 *   CallState state; try { state = Guard.enter(); } catch (Throwable t) { state = null; }
 *   Throwable thrown = null;
 *   try { h.invoke(this, mN, null); } catch (Throwable t) { thrown = t (wrapped unless RuntimeException, Error, SQLException); }
 *   try { thrown = Guard.exit(state, Guard.COMMIT (ROLLBACK, CLOSE), this, "Class#method", thrown); } catch (Throwable t) { }
 *   if (thrown != null) throw thrown;
 * </pre>
 *
 * A method whose body is not the generator's (another JDK, another proxy maker) is left to Byte Buddy.
 * Only method bodies change: valid for retransformation. See docs/weaving.md.
 */
final class ProxyWeaver {

    private static final String GUARD = "dev/sessionguard/bootstrap/Guard";
    private static final String METHOD = "Ljava/lang/reflect/Method;";

    private ProxyWeaver() {
    }

    /** The woven class file, or null when a method to weave is not the generator's (then Byte Buddy weaves). */
    static byte[] weave(final String internalName, byte[] bytes, String[] methods) {
        final Map<String, String> methodField = new HashMap<>();
        for (String m : methods) {
            methodField.put(m, null);
        }
        ClassReader reader = new ClassReader(bytes);
        // first pass: the Method field each guarded method hands to h.invoke
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, final String name, String descriptor, String signature, String[] exceptions) {
                if (!methodField.containsKey(name) || !descriptor.equals("()V") || (access & Opcodes.ACC_STATIC) != 0) {
                    return null;
                }
                return new MethodVisitor(Opcodes.ASM9) {
                    private String field;
                    private int fields;
                    private boolean handler;
                    private boolean invoke;

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String fieldName, String fieldDescriptor) {
                        if (opcode == Opcodes.GETSTATIC && owner.equals(internalName) && fieldDescriptor.equals(METHOD)) {
                            field = fieldName;
                            fields++;
                        } else if (opcode == Opcodes.GETFIELD && owner.equals("java/lang/reflect/Proxy") && fieldName.equals("h")) {
                            handler = true;
                        }
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String method, String methodDescriptor, boolean isInterface) {
                        if (opcode == Opcodes.INVOKEINTERFACE && owner.equals("java/lang/reflect/InvocationHandler") && method.equals("invoke")) {
                            invoke = true;
                        }
                    }

                    @Override
                    public void visitEnd() {
                        if (fields == 1 && handler && invoke) {
                            methodField.put(name, field);
                        }
                    }
                };
            }
        }, ClassReader.SKIP_FRAMES);
        for (String f : methodField.values()) {
            if (f == null) {
                return null;
            }
        }
        final String dotted = internalName.replace('/', '.');
        ClassWriter writer = new ClassWriter(reader, 0);
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, final String name, String descriptor, String signature, String[] exceptions) {
                final MethodVisitor target = super.visitMethod(access, name, descriptor, signature, exceptions);
                if (!methodField.containsKey(name) || !descriptor.equals("()V") || (access & Opcodes.ACC_STATIC) != 0) {
                    return target;
                }
                // the original body is dropped; the new one is written when the method ends
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitEnd() {
                        // (not "mv": inside a MethodVisitor that names its own, null, delegate)
                        body(target, internalName, methodField.get(name), dotted + "#" + name, operation(name));
                        target.visitEnd();
                    }
                };
            }
        }, 0);
        return writer.toByteArray();
    }

    private static final String STATE = "dev/sessionguard/bootstrap/CallState";

    /** Guard's constant for the method (as GuardedCallAdvice's classes pass it). */
    private static int operation(String method) {
        return "commit".equals(method) ? dev.sessionguard.bootstrap.Guard.COMMIT
                : "rollback".equals(method) ? dev.sessionguard.bootstrap.Guard.ROLLBACK : dev.sessionguard.bootstrap.Guard.CLOSE;
    }

    private static void body(MethodVisitor mv, String owner, String methodField, String site, int op) {
        Object[] self = {owner};
        Object[] withFlags = {owner, STATE};
        Object[] all = {owner, STATE, "java/lang/Throwable"};
        Object[] throwable = {"java/lang/Throwable"};
        Object[] none = {};
        Label e0 = new Label();
        Label e1 = new Label();
        Label eh = new Label();
        Label body = new Label();
        Label t0 = new Label();
        Label t1 = new Label();
        Label th = new Label();
        Label exit = new Label();
        Label x0 = new Label();
        Label x1 = new Label();
        Label xh = new Label();
        Label end = new Label();
        Label ret = new Label();
        mv.visitCode();
        mv.visitTryCatchBlock(e0, e1, eh, "java/lang/Throwable");
        mv.visitTryCatchBlock(t0, t1, th, "java/lang/Throwable");
        mv.visitTryCatchBlock(x0, x1, xh, "java/lang/Throwable");
        // CallState state = Guard.enter(), null if it throws
        mv.visitLabel(e0);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, "enter", "()L" + STATE + ";", false);
        mv.visitVarInsn(Opcodes.ASTORE, 1);
        mv.visitLabel(e1);
        mv.visitJumpInsn(Opcodes.GOTO, body);
        mv.visitLabel(eh);
        mv.visitFrame(Opcodes.F_FULL, 1, self, 1, throwable);
        mv.visitInsn(Opcodes.POP);
        mv.visitInsn(Opcodes.ACONST_NULL);
        mv.visitVarInsn(Opcodes.ASTORE, 1);
        // the generator's call
        mv.visitLabel(body);
        mv.visitFrame(Opcodes.F_FULL, 2, withFlags, 0, none);
        mv.visitInsn(Opcodes.ACONST_NULL);
        mv.visitVarInsn(Opcodes.ASTORE, 2);
        mv.visitLabel(t0);
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitFieldInsn(Opcodes.GETFIELD, "java/lang/reflect/Proxy", "h", "Ljava/lang/reflect/InvocationHandler;");
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitFieldInsn(Opcodes.GETSTATIC, owner, methodField, METHOD);
        mv.visitInsn(Opcodes.ACONST_NULL);
        mv.visitMethodInsn(Opcodes.INVOKEINTERFACE, "java/lang/reflect/InvocationHandler", "invoke",
                "(Ljava/lang/Object;Ljava/lang/reflect/Method;[Ljava/lang/Object;)Ljava/lang/Object;", true);
        mv.visitInsn(Opcodes.POP);
        mv.visitLabel(t1);
        mv.visitJumpInsn(Opcodes.GOTO, exit);
        // what it threw, as the generator passes it on: declared or unchecked as is, else wrapped
        mv.visitLabel(th);
        mv.visitFrame(Opcodes.F_FULL, 3, all, 1, throwable);
        mv.visitVarInsn(Opcodes.ASTORE, 2);
        for (String passed : new String[] {"java/lang/RuntimeException", "java/lang/Error", "java/sql/SQLException"}) {
            mv.visitVarInsn(Opcodes.ALOAD, 2);
            mv.visitTypeInsn(Opcodes.INSTANCEOF, passed);
            mv.visitJumpInsn(Opcodes.IFNE, exit);
        }
        mv.visitTypeInsn(Opcodes.NEW, "java/lang/reflect/UndeclaredThrowableException");
        mv.visitInsn(Opcodes.DUP);
        mv.visitVarInsn(Opcodes.ALOAD, 2);
        mv.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/reflect/UndeclaredThrowableException", "<init>", "(Ljava/lang/Throwable;)V", false);
        mv.visitVarInsn(Opcodes.ASTORE, 2);
        // thrown = Guard.exit(state, OP, this, site, thrown); kept as it was if that throws
        mv.visitLabel(exit);
        mv.visitFrame(Opcodes.F_FULL, 3, all, 0, none);
        mv.visitLabel(x0);
        mv.visitVarInsn(Opcodes.ALOAD, 1);
        mv.visitIntInsn(Opcodes.BIPUSH, op);
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitLdcInsn(site);
        mv.visitVarInsn(Opcodes.ALOAD, 2);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, "exit",
                "(L" + STATE + ";ILjava/lang/Object;Ljava/lang/String;Ljava/lang/Throwable;)Ljava/lang/Throwable;", false);
        mv.visitVarInsn(Opcodes.ASTORE, 2);
        mv.visitLabel(x1);
        mv.visitJumpInsn(Opcodes.GOTO, end);
        mv.visitLabel(xh);
        mv.visitFrame(Opcodes.F_FULL, 3, all, 1, throwable);
        mv.visitInsn(Opcodes.POP);
        mv.visitLabel(end);
        mv.visitFrame(Opcodes.F_FULL, 3, all, 0, none);
        mv.visitVarInsn(Opcodes.ALOAD, 2);
        mv.visitJumpInsn(Opcodes.IFNULL, ret);
        mv.visitVarInsn(Opcodes.ALOAD, 2);
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(ret);
        mv.visitFrame(Opcodes.F_FULL, 3, all, 0, none);
        mv.visitInsn(Opcodes.RETURN);
        mv.visitMaxs(5, 3);
    }
}
