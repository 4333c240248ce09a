package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 5.2 to 7.x {@code JtaTransactionCoordinatorImpl}, told by the JTA transaction manager (through
 * Hibernate's synchronization) that its transaction is completing and has completed. A JTA transaction that
 * Hibernate marked rollback-only after a failed call (TransactionInstrumentation's MarkAdvice) and that then
 * completes without committing lost its work; a container-managed one is rolled back without its caller being
 * told when the application caught the failure: commit.silentRollback at ERROR (docs/wildfly.md, "JPA and
 * container-managed JTA transactions"). Marks made inside beforeCompletion() (a flush failing in the
 * transaction manager's commit) are not remembered: that commit's caller is told. Stands alone (not part of
 * Hibernate's gated library): without it nothing is reported.
 */
public final class JtaCoordinatorInstrumentation implements Target {

    static final String TYPE = "org.hibernate.resource.transaction.backend.jta.internal.JtaTransactionCoordinatorImpl";

    @Override
    public String group() {
        return "hibernate";
    }

    @Override
    public String[] typeNames() {
        return new String[] {TYPE};
    }

    @Override
    public String[] methodNames() {
        return new String[] {"beforeCompletion"};
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        return builder
                .visit(advices.to(BeforeCompletionAdvice.class.getName()).on(named("beforeCompletion").and(takesArguments(0))))
                .visit(advices.to(AfterCompletionAdvice.class.getName()).on(named("afterCompletion").and(takesArguments(boolean.class, boolean.class))));
    }

    public static final class BeforeCompletionAdvice {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter() {
            Guard.jtaCompleting(true);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit() {
            Guard.jtaCompleting(false);
        }
    }

    public static final class AfterCompletionAdvice {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object self, @Advice.Argument(0) boolean successful,
                                 @Advice.Origin("#t\\##m") String site) {
            Guard.jtaCompleted(self, successful, site);
        }
    }
}
