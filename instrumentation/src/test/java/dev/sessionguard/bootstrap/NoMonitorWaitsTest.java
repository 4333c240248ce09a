package dev.sessionguard.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;

/**
 * Hole 3c: a guarded call that waits (for the shield to be armed, for another thread's call on the same
 * session) must not wait in a monitor: Object.wait inside synchronized pins a virtual thread's carrier on
 * JDK 21 to 23. Read from the helper classes' bytecode: no Object.wait anywhere in them.
 */
class NoMonitorWaitsTest {

    @Test
    void noHelperClassCallsObjectWait() throws Exception {
        List<String> calls = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {Guard.class, CallState.class, InterruptShield.class, SessionBusy.class,
                Policy.class, Failures.class, Counters.class, Config.class, EventLog.class, Events.class}) {
            String name = c.getName().replace('.', '/') + ".class";
            try (InputStream in = c.getClassLoader().getResourceAsStream(name)) {
                new ClassReader(in).accept(new ClassVisitor(Opcodes.ASM9) {
                    @Override
                    public MethodVisitor visitMethod(int access, String method, String d, String s, String[] e) {
                        return new MethodVisitor(Opcodes.ASM9) {
                            @Override
                            public void visitMethodInsn(int op, String owner, String m, String desc, boolean itf) {
                                if (m.equals("wait") && (owner.equals("java/lang/Object") || desc.startsWith("(J"))
                                        || owner.equals("java/util/concurrent/TimeUnit") && m.equals("timedWait")) {
                                    calls.add(c.getSimpleName() + "#" + method + " calls " + owner + "." + m);
                                }
                            }
                        };
                    }
                }, 0);
            }
        }
        assertEquals(new ArrayList<String>(), calls);
    }
}
