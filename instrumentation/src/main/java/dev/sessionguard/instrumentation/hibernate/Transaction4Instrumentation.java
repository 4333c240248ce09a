package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.CallState;
import dev.sessionguard.bootstrap.Guard;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 4.x {@code AbstractTransactionImpl}, the superclass of its JdbcTransaction, JtaTransaction and
 * CMTTransaction, where commit() and rollback() are (4.x has no TransactionImpl; the two play the same part of
 * the library, Target.part()). rollback() is TransactionInstrumentation's advice, its status bound to the field
 * {@code localStatus} ({@link TransactionState}): skipped when it cannot be rolled back (4.x throws "Transaction
 * not successfully started" for NOT_ACTIVE, COMMITTED and ROLLED_BACK) and its failures on a dead connection, at
 * shutdown or under an interrupt swallowed; commit() failures are logged
 * and always reach the caller; both run behind the interrupt shield and wait for another thread's call on the
 * same session (its session: the coordinator's transactionContext, {@link TransactionSession}). 4.x has no
 * rollback-only status to read: commit.silentRollback is not detected on 4.x. docs/weaving.md, "Hibernate versions".
 */
public final class Transaction4Instrumentation extends HibernateTarget {

    public Transaction4Instrumentation() {
        super(HibernateApi.ABSTRACT_TRANSACTION, "transaction", HibernateApi.REQUIRED_TYPES_4, "rollback", "commit");
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        return builder
                .visit(advices.to(TransactionInstrumentation.RollbackAdvice.class.getName()).on(named("rollback").and(takesArguments(0))))
                .visit(advices.to(CommitAdvice.class.getName()).on(named("commit").and(takesArguments(0))));
    }

    public static final class CommitAdvice {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                 @TransactionSession Object session,
                                 @Advice.Local("sgSession") Object kept,
                                 @Advice.Local("sgState") CallState state,
                                 @Advice.Local("sgBusy") boolean busy) {
            kept = session;
            state = Guard.enter();
            busy = Guard.waitAndMarkBusy(state, kept, self, site, Guard.COMMIT);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Local("sgSession") Object session,
                                @Advice.Local("sgState") CallState state,
                                @Advice.Local("sgBusy") boolean busy,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            try {
                if (busy) {
                    Guard.unmarkBusy(state, session);
                }
            } catch (Throwable stepFailed) {
                // dropped here as suppress = Throwable would drop it; a finally block would put Guard.exit
                // twice into the woven method (docs/weaving.md, "Small woven methods")
            }
            // always: the call ends (interrupt set again, nesting undone) whatever a step above threw
            thrown = Guard.exit(state, Guard.COMMIT, self, session, site, thrown);
        }
    }
}
