package dev.sessionguard.instrumentation;

import dev.sessionguard.bootstrap.Guard;
import net.bytebuddy.asm.Advice;

/**
 * The advice for a guarded commit(), rollback() or close() that needs no check before the call: the
 * interrupt shield around it, and the policy applied to what it throws. Which policy is read from the
 * method name in {@code site}, and only when an exception is in hand.
 */
public final class GuardedCallAdvice {

    private GuardedCallAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static int enter() {
        return Guard.enter();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                            @Advice.Enter int flags, @Advice.Thrown(readOnly = false) Throwable thrown) {
        thrown = Guard.exit(flags, self, site, thrown);
    }
}
