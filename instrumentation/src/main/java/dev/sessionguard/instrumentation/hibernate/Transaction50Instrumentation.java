package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.CallState;
import dev.sessionguard.bootstrap.Guard;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 5.0 and 5.1 {@code TransactionImpl}, tried when {@link TransactionInstrumentation} does not fit: the
 * same classes and policy, rollback() by the same advice; commit()'s checks use what these versions have
 * (the session is a {@code SessionImplementor}; the coordinator's type,
 * {@code org.hibernate.resource.transaction.TransactionCoordinator}, moved to {@code .spi} in 5.2, so JDBC
 * rather than JTA is told by the coordinator's class, Hibernate's own resource-local one). The session is the coordinator's owner's
 * ({@link TransactionSession}, as on 5.2). docs/weaving.md, "Hibernate versions".
 */
public final class Transaction50Instrumentation extends HibernateTarget {

    public Transaction50Instrumentation() {
        super(HibernateApi.TRANSACTION, "transaction", HibernateApi.REQUIRED_TYPES_50, "rollback", "commit");
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
                                 @Advice.FieldValue("transactionCoordinator") Object coordinator,
                                 @Advice.Local("sgSession") Object kept,
                                 @Advice.Local("sgState") CallState state,
                                 @Advice.Local("sgBusy") boolean busy,
                                 @Advice.Local("sgMarked") boolean marked,
                                 @Advice.Local("sgWhy") String why,
                                 @Advice.Local("sgEntities") String entities) {
            kept = session; // for the exit advice: the session is found once per call (by reflection)
            state = Guard.enter();
            busy = Guard.waitAndMarkBusy(state, session, self, site, Guard.COMMIT);
            if (Guard.decides(state)) {
                org.hibernate.resource.transaction.spi.TransactionStatus status = ((org.hibernate.Transaction) self).getStatus();
                if (status == org.hibernate.resource.transaction.spi.TransactionStatus.MARKED_ROLLBACK) {
                    marked = true;
                    why = "the transaction was marked rollback-only";
                } else if (status == org.hibernate.resource.transaction.spi.TransactionStatus.ACTIVE && session != null
                        && Guard.jdbcResourceLocal(coordinator)
                        && !((org.hibernate.engine.spi.SessionImplementor) session)
                                .getJdbcCoordinator().getLogicalConnection().isPhysicallyConnected()) {
                    marked = true;
                    why = "the transaction's JDBC connection was released before commit (its session's factory was"
                            + " closed during a statement), so its work was rolled back by the pool";
                }
            }
            if (marked) {
                try {
                    java.util.TreeSet<String> names = new java.util.TreeSet<String>();
                    // getPersistenceContext() checks the session is open, and the session may be closed
                    org.hibernate.engine.spi.PersistenceContext context =
                            (org.hibernate.engine.spi.PersistenceContext) Guard.persistenceContext(session);
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
            // as TransactionInstrumentation.CommitAdvice's exit (advice is inlined: it cannot call another's)
            try {
                if (busy) {
                    Guard.unmarkBusy(state, session);
                }
                if (marked && thrown == null && Guard.silentRollback(self, site, why, entities)) {
                    thrown = new org.hibernate.TransactionException("commit() did not commit: " + why
                            + " (reported by SessionGuard, silentRollback=throw)");
                }
            } finally {
                thrown = Guard.exit(state, Guard.COMMIT, self, session, site, thrown);
            }
        }
    }
}
