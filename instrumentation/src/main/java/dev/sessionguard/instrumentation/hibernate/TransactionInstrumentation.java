package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.GuardedCallAdvice;
import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 5.2 to 7.x {@code TransactionImpl}: rollback() is skipped when the status cannot be rolled
 * back and its failures on a dead connection, at shutdown or under an interrupt are swallowed; commit()
 * failures are logged and always reach the caller. Both run behind the interrupt shield.
 */
public final class TransactionInstrumentation implements Target {

    @Override
    public String group() {
        return "hibernate";
    }

    @Override
    public String[] typeNames() {
        return new String[] {"org.hibernate.engine.transaction.internal.TransactionImpl"};
    }

    @Override
    public String[] methodNames() {
        return new String[] {"rollback", "commit"};
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        return builder
                .visit(advices.to(RollbackAdvice.class.getName()).on(named("rollback").and(takesArguments(0))))
                .visit(advices.to(GuardedCallAdvice.class.getName()).on(named("commit").and(takesArguments(0))));
    }

    public static final class RollbackAdvice {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                    @Advice.Local("sgFlags") int flags) {
            flags = Guard.enter();
            return Guard.skipRollback(flags, ((org.hibernate.Transaction) self).getStatus(), self, site);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Local("sgFlags") int flags,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            thrown = Guard.exit(flags, self, site, thrown);
        }
    }
}
