package dev.sessionguard.instrumentation;

import dev.sessionguard.bootstrap.CallState;
import dev.sessionguard.bootstrap.Guard;
import net.bytebuddy.asm.Advice;

/**
 * The advice for a guarded commit(), rollback() or close() that needs no check before the call: the
 * interrupt shield around it, and the policy applied to what it throws. One advice class per operation,
 * so that the operation is a constant in the woven code; the thread's state goes from enter to exit as
 * the enter advice's value (no second lookup).
 */
public final class GuardedCallAdvice {

    private GuardedCallAdvice() {
    }

    public static final class Commit {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static CallState enter() {
            return Guard.enter();
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Enter CallState state, @Advice.Thrown(readOnly = false) Throwable thrown) {
            thrown = Guard.exit(state, Guard.COMMIT, self, site, thrown);
        }
    }

    public static final class Rollback {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static CallState enter() {
            return Guard.enter();
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Enter CallState state, @Advice.Thrown(readOnly = false) Throwable thrown) {
            thrown = Guard.exit(state, Guard.ROLLBACK, self, site, thrown);
        }
    }

    public static final class Close {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static CallState enter() {
            return Guard.enter();
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Enter CallState state, @Advice.Thrown(readOnly = false) Throwable thrown) {
            thrown = Guard.exit(state, Guard.CLOSE, self, site, thrown);
        }
    }

    /** The advice class for a method name (commit, rollback, close); anything else gets none. */
    public static String forMethod(String method) {
        if ("commit".equals(method)) {
            return Commit.class.getName();
        }
        if ("rollback".equals(method)) {
            return Rollback.class.getName();
        }
        return "close".equals(method) ? Close.class.getName() : null;
    }
}
