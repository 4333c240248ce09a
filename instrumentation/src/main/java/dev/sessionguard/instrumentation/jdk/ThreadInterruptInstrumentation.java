package dev.sessionguard.instrumentation.jdk;

import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.dynamic.DynamicType;

/**
 * {@code Thread.interrupt()} (and {@code VirtualThread.interrupt()}, which overrides it on JDK 21+): an
 * interrupt sent to a thread that is inside a shielded commit, rollback or close is held back and
 * delivered when the call returns, or after shieldMaxMs at the latest (interrupt.deferred).
 */
public final class ThreadInterruptInstrumentation implements Target {

    @Override
    public String group() {
        return "shield";
    }

    @Override
    public String[] typeNames() {
        return new String[] {"java.lang.Thread", "java.lang.VirtualThread"};
    }

    @Override
    public String[] methodNames() {
        return new String[] {"interrupt"};
    }

    /**
     * Not woven with Byte Buddy: the agent's ThreadWeaver writes the method's prologue with ASM, because a
     * delivery runs the method's own body once more through {@code invokespecial} on {@code this}, which advice
     * cannot express (a virtual call would enter a subclass's interrupt() twice; docs/weaving.md).
     */
    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        throw new UnsupportedOperationException("Thread.interrupt() is woven by the agent's ThreadWeaver, not by advice");
    }
}
