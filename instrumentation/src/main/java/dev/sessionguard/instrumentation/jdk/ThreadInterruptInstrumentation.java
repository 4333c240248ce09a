package dev.sessionguard.instrumentation.jdk;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.asm.Advice;
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

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        return builder.visit(advices.to(InterruptAdvice.class.getName()).on(named("interrupt").and(takesArguments(0))));
    }

    public static final class InterruptAdvice {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Thread self) {
            return Guard.deferInterrupt(self);
        }
    }
}
