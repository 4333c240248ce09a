package dev.sessionguard.agent;

import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * Weaves the interrupt shield into {@code Thread.interrupt()} and {@code VirtualThread.interrupt()} with
 * the ASM that Byte Buddy carries, without Byte Buddy itself: these are JDK classes, never in the
 * woven-class cache's reach on a new runtime, and loading Byte Buddy's 800 classes for one method would
 * cost every cold start most of its time. The method gets, in front of its own code, what
 * {@code Guard.deferInterrupt} asks for (in Java, which cannot say {@code invokespecial} of the method's own
 * class on {@code this}: the method's own body, not a subclass's override, which may not be re-entered):
 *
 * <pre>
 *   int a; try { a = Guard.deferInterrupt(this); } catch (Throwable t) { a = INTERRUPT_RUN; }
 *   if (a == INTERRUPT_HELD) return;
 *   if (a == INTERRUPT_DELIVER) {
 *       try { invokespecial this.interrupt(); } finally { Guard.interruptDelivered(); }
 *       return;
 *   }
 *   ... the method's own code
 * </pre>
 *
 * Only the method body changes (two exception handlers, stack map frames whose locals are the method's
 * entry frame, the last one equal to it, so that the frames after it keep their meaning): valid for
 * retransformation. See docs/weaving.md.
 */
final class ThreadWeaver {

    private static final String GUARD = "dev/sessionguard/bootstrap/Guard";

    private ThreadWeaver() {
    }

    /** The woven class file, or null when {@code interrupt()V} is not there (left as it is). */
    static byte[] weave(final String internalName, byte[] bytes) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(reader, 0);
        final boolean[] found = new boolean[1];
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
                if (!name.equals("interrupt") || !descriptor.equals("()V") || (access & (Opcodes.ACC_STATIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0) {
                    return mv;
                }
                found[0] = true;
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    /** No instruction of the method's own visited yet. */
                    private boolean atStart = true;

                    @Override
                    public void visitFrame(int type, int numLocal, Object[] local, int numStack, Object[] stack) {
                        if (atStart) {
                            return; // a frame at the method's first instruction: the entry frame written below stands for it
                        }
                        super.visitFrame(type, numLocal, local, numStack, stack);
                    }

                    @Override
                    public void visitInsn(int opcode) {
                        atStart = false;
                        super.visitInsn(opcode);
                    }

                    @Override
                    public void visitIntInsn(int opcode, int operand) {
                        atStart = false;
                        super.visitIntInsn(opcode, operand);
                    }

                    @Override
                    public void visitVarInsn(int opcode, int var) {
                        atStart = false;
                        super.visitVarInsn(opcode, var);
                    }

                    @Override
                    public void visitTypeInsn(int opcode, String type) {
                        atStart = false;
                        super.visitTypeInsn(opcode, type);
                    }

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
                        atStart = false;
                        super.visitFieldInsn(opcode, owner, name, descriptor);
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
                        atStart = false;
                        super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
                    }

                    @Override
                    public void visitJumpInsn(int opcode, Label label) {
                        atStart = false;
                        super.visitJumpInsn(opcode, label);
                    }

                    @Override
                    public void visitIincInsn(int var, int increment) {
                        atStart = false;
                        super.visitIincInsn(var, increment);
                    }

                    @Override
                    public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
                        atStart = false;
                        super.visitTableSwitchInsn(min, max, dflt, labels);
                    }

                    @Override
                    public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
                        atStart = false;
                        super.visitLookupSwitchInsn(dflt, keys, labels);
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String name, String descriptor, net.bytebuddy.jar.asm.Handle bsm, Object... args) {
                        atStart = false;
                        super.visitInvokeDynamicInsn(name, descriptor, bsm, args);
                    }

                    @Override
                    public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
                        atStart = false;
                        super.visitMultiANewArrayInsn(descriptor, numDimensions);
                    }

                    @Override
                    public void visitLdcInsn(Object value) {
                        atStart = false;
                        super.visitLdcInsn(value);
                    }

                    @Override
                    public void visitCode() {
                        super.visitCode();
                        Label start = new Label();
                        Label end = new Label();
                        Label handler = new Label();
                        Label popGo = new Label();
                        Label go = new Label();
                        Label ret = new Label();
                        Label deliverStart = new Label();
                        Label deliverEnd = new Label();
                        Label deliverHandler = new Label();
                        super.visitTryCatchBlock(start, end, handler, "java/lang/Throwable");
                        super.visitTryCatchBlock(deliverStart, deliverEnd, deliverHandler, "java/lang/Throwable");
                        super.visitLabel(start);
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, "deferInterrupt", "(Ljava/lang/Thread;)I", false);
                        super.visitLabel(end);
                        super.visitInsn(Opcodes.DUP);
                        super.visitJumpInsn(Opcodes.IFEQ, popGo); // INTERRUPT_RUN
                        super.visitInsn(Opcodes.ICONST_1);
                        super.visitJumpInsn(Opcodes.IF_ICMPEQ, ret); // INTERRUPT_HELD
                        // INTERRUPT_DELIVER: this very method once more, invoked non-virtually (invokespecial of the
                        // current class on this), so that a subclass's interrupt() around it is not entered again
                        super.visitLabel(deliverStart);
                        super.visitVarInsn(Opcodes.ALOAD, 0);
                        super.visitMethodInsn(Opcodes.INVOKESPECIAL, internalName, "interrupt", "()V", false);
                        super.visitLabel(deliverEnd);
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, "interruptDelivered", "()V", false);
                        super.visitLabel(ret);
                        super.visitFrame(Opcodes.F_FULL, 1, new Object[] {internalName}, 0, new Object[0]);
                        super.visitInsn(Opcodes.RETURN);
                        super.visitLabel(deliverHandler);
                        super.visitFrame(Opcodes.F_FULL, 1, new Object[] {internalName}, 1, new Object[] {"java/lang/Throwable"});
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, GUARD, "interruptDelivered", "()V", false);
                        super.visitInsn(Opcodes.ATHROW);
                        super.visitLabel(handler);
                        super.visitFrame(Opcodes.F_FULL, 1, new Object[] {internalName}, 1, new Object[] {"java/lang/Throwable"});
                        super.visitInsn(Opcodes.POP);
                        super.visitJumpInsn(Opcodes.GOTO, go);
                        super.visitLabel(popGo);
                        super.visitFrame(Opcodes.F_FULL, 1, new Object[] {internalName}, 1, new Object[] {Opcodes.INTEGER});
                        super.visitInsn(Opcodes.POP);
                        super.visitLabel(go);
                        // the method's entry frame again: the original frames after it are deltas from it
                        super.visitFrame(Opcodes.F_FULL, 1, new Object[] {internalName}, 0, new Object[0]);
                        atStart = true;
                    }

                    @Override
                    public void visitMaxs(int maxStack, int maxLocals) {
                        super.visitMaxs(Math.max(maxStack, 2), Math.max(maxLocals, 1));
                    }
                };
            }
        }, 0);
        return found[0] ? writer.toByteArray() : null;
    }
}
