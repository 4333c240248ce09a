package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.CallState;
import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 5.2 to 7.x {@code TransactionImpl} (its session bound by {@link TransactionSession}, whatever the
 * version keeps of it): rollback() is skipped when the status cannot be rolled
 * back and its failures on a dead connection, at shutdown or under an interrupt are swallowed; commit()
 * failures are logged and always reach the caller. Both run behind the interrupt shield; both wait
 * while another thread is inside commit, rollback, close or flush of the same session, then mark it busy
 * themselves, so calls from two threads on one session run one after the other (bounded by closeWaitMs). A commit() that begins on a transaction marked
 * rollback-only and returns normally rolled the work back silently: commit.silentRollback. markRollbackOnly() on
 * a JTA transaction is remembered for {@link JtaCoordinatorInstrumentation}.
 */
public final class TransactionInstrumentation extends HibernateTarget {

    public TransactionInstrumentation() {
        super(HibernateApi.TRANSACTION, "transaction", HibernateApi.REQUIRED_TYPES, "rollback", "commit");
    }

    /** Hibernate 5.0 and 5.1: the same classes, other internals. */
    @Override
    public Target older() {
        return new Transaction50Instrumentation();
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        return builder
                .visit(advices.to(RollbackAdvice.class.getName()).on(named("rollback").and(takesArguments(0))))
                .visit(advices.to(CommitAdvice.class.getName()).on(named("commit").and(takesArguments(0))))
                .visit(advices.to(MarkAdvice.class.getName()).on(named("markRollbackOnly").and(takesArguments(0))));
    }

    /**
     * markRollbackOnly(), which Hibernate calls itself when a call on the session fails: on an active JTA
     * transaction the mark is remembered, and reported if the transaction then ends without committing
     * ({@link JtaCoordinatorInstrumentation}).
     */
    public static final class MarkAdvice {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object self, @Advice.FieldValue("transactionCoordinator") Object coordinator) {
            if (((org.hibernate.resource.transaction.spi.TransactionCoordinator) coordinator).getTransactionCoordinatorBuilder().isJta()
                    && ((org.hibernate.Transaction) self).getStatus() == org.hibernate.resource.transaction.spi.TransactionStatus.ACTIVE) {
                Guard.jtaMarked(coordinator);
            }
        }
    }

    public static final class RollbackAdvice {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                    @TransactionSession Object session,
                                    @TransactionState Object status,
                                    @Advice.Local("sgSession") Object kept,
                                    @Advice.Local("sgState") CallState state,
                                    @Advice.Local("sgBusy") boolean busy) {
            kept = session; // found once per call (by reflection on 4.x to 5.2): the rest of the advice uses kept
            state = Guard.enter();
            // another thread inside commit/rollback/close/flush of this session: wait for it, then read the status
            busy = Guard.waitAndMarkBusy(state, kept, self, site, Guard.ROLLBACK);
            return Guard.skipRollback(state, status, self, site);
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
            thrown = Guard.exit(state, Guard.ROLLBACK, self, session, site, thrown);
        }
    }

    public static final class CommitAdvice {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                 @TransactionSession Object session,
                                 @Advice.FieldValue("transactionCoordinator") Object coordinator,
                                 @Advice.Local("sgSession") Object kept,
                                 @Advice.Local("sgState") CallState state,
                                 @Advice.Local("sgBusy") boolean busy,
                                 @Advice.Local("sgWhy") String why,
                                 @Advice.Local("sgEntities") String entities) {
            kept = session; // found once per call (by reflection on 5.2): the rest of the advice uses kept
            state = Guard.enter();
            // a rollback or close of this session in progress on another thread: wait for it
            busy = Guard.waitAndMarkBusy(state, kept, self, site, Guard.COMMIT);
            if (Guard.decides(state)) {
                org.hibernate.resource.transaction.spi.TransactionStatus status = ((org.hibernate.Transaction) self).getStatus();
                if (status == org.hibernate.resource.transaction.spi.TransactionStatus.MARKED_ROLLBACK) {
                    why = "the transaction was marked rollback-only";
                } else if (status == org.hibernate.resource.transaction.spi.TransactionStatus.ACTIVE && kept != null
                        && !((org.hibernate.resource.transaction.spi.TransactionCoordinator) coordinator)
                                .getTransactionCoordinatorBuilder().isJta()
                        && ((org.hibernate.engine.spi.SharedSessionContractImplementor) kept).getFactory().isClosed()) {
                    // the factory closed under the transaction: Hibernate released its connection mid-transaction, or
                    // its commit() will skip the flush (a session of a closed factory counts as closed); read out of line
                    why = Guard.commitAfterFactoryClosed(kept, ((org.hibernate.engine.spi.SharedSessionContractImplementor) kept)
                            .getJdbcCoordinator().getLogicalConnection().isPhysicallyConnected());
                }
            }
            if (why != null) {
                // what the rollback will lose, where Hibernate knows it: the entities of the session (read out of line)
                entities = Guard.entityNames(kept);
            }
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Local("sgSession") Object session,
                                @Advice.Local("sgState") CallState state,
                                @Advice.Local("sgBusy") boolean busy,
                                @Advice.Local("sgWhy") String why,
                                @Advice.Local("sgEntities") String entities,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            try {
                if (busy) {
                    Guard.unmarkBusy(state, session);
                }
                String raise = why != null && thrown == null ? Guard.silentRollback(self, site, why, entities) : null;
                if (raise != null) {
                    thrown = new org.hibernate.TransactionException(raise);
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
