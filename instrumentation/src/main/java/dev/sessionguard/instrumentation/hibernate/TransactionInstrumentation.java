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
            kept = session; // for the exit advice: the session is found once per call (by reflection on 4.x to 5.2)
            state = Guard.enter();
            // another thread inside commit/rollback/close/flush of this session: wait for it, then read the status
            busy = Guard.waitAndMarkBusy(state, session, self, site, Guard.ROLLBACK);
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
            } finally {
                thrown = Guard.exit(state, Guard.ROLLBACK, self, session, site, thrown);
            }
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
                                 @Advice.Local("sgMarked") boolean marked,
                                 @Advice.Local("sgWhy") String why,
                                 @Advice.Local("sgEntities") String entities) {
            kept = session; // for the exit advice: the session is found once per call (by reflection on 5.2)
            state = Guard.enter();
            // a rollback or close of this session in progress on another thread: wait for it
            busy = Guard.waitAndMarkBusy(state, session, self, site, Guard.COMMIT);
            if (Guard.decides(state)) {
                org.hibernate.resource.transaction.spi.TransactionStatus status = ((org.hibernate.Transaction) self).getStatus();
                if (status == org.hibernate.resource.transaction.spi.TransactionStatus.MARKED_ROLLBACK) {
                    marked = true;
                    why = "the transaction was marked rollback-only";
                } else if (status == org.hibernate.resource.transaction.spi.TransactionStatus.ACTIVE && session != null
                        && !((org.hibernate.resource.transaction.spi.TransactionCoordinator) coordinator)
                                .getTransactionCoordinatorBuilder().isJta()
                        && !((org.hibernate.engine.spi.SharedSessionContractImplementor) session)
                                .getJdbcCoordinator().getLogicalConnection().isPhysicallyConnected()) {
                    // a JDBC transaction holds its connection from begin() to the end; without it, commit() commits
                    // nothing (Hibernate released it mid-transaction: the factory closed during a statement)
                    marked = true;
                    why = "the transaction's JDBC connection was released before commit (its session's factory was"
                            + " closed during a statement), so its work was rolled back by the pool";
                }
            }
            if (marked) {
                try {
                    // what the rollback will lose, where Hibernate knows it: the entities of the session
                    java.util.TreeSet<String> names = new java.util.TreeSet<String>();
                    org.hibernate.engine.spi.PersistenceContext context;
                    try {
                        // 5.4 on: the context without the session's open check
                        context = ((org.hibernate.engine.spi.SharedSessionContractImplementor) session).getPersistenceContextInternal();
                    } catch (NoSuchMethodError older) {
                        // 5.2, 5.3: getPersistenceContext() checks the session is open, and the session may be closed
                        context = (org.hibernate.engine.spi.PersistenceContext) Guard.persistenceContext(session);
                    }
                    for (Object key : context.getEntitiesByKey().keySet()) {
                        names.add(((org.hibernate.engine.spi.EntityKey) key).getEntityName());
                    }
                    entities = names.isEmpty() ? null : names.toString();
                } catch (Throwable t) {
                    entities = null;
                }
            }
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Local("sgSession") Object session,
                                @Advice.Local("sgState") CallState state,
                                @Advice.Local("sgBusy") boolean busy,
                                @Advice.Local("sgMarked") boolean marked,
                                @Advice.Local("sgWhy") String why,
                                @Advice.Local("sgEntities") String entities,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            try {
                if (busy) {
                    Guard.unmarkBusy(state, session);
                }
                if (marked && thrown == null && Guard.silentRollback(self, site, why, entities)) {
                    thrown = new org.hibernate.TransactionException("commit() did not commit: " + why
                            + " (reported by SessionGuard, silentRollback=throw)");
                }
            } finally {
                // always: the call ends (interrupt set again, nesting undone) whatever a step above threw
                thrown = Guard.exit(state, Guard.COMMIT, self, session, site, thrown);
            }
        }
    }
}
