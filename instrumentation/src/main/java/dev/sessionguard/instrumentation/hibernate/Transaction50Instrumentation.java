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
                                 @Advice.Local("sgWhy") String why,
                                 @Advice.Local("sgEntities") String entities) {
            kept = session; // found once per call (by reflection): the rest of the advice uses kept
            state = Guard.enter();
            busy = Guard.waitAndMarkBusy(state, kept, self, site, Guard.COMMIT);
            if (Guard.decides(state)) {
                org.hibernate.resource.transaction.spi.TransactionStatus status = ((org.hibernate.Transaction) self).getStatus();
                if (status == org.hibernate.resource.transaction.spi.TransactionStatus.MARKED_ROLLBACK) {
                    why = "the transaction was marked rollback-only";
                } else if (status == org.hibernate.resource.transaction.spi.TransactionStatus.ACTIVE && kept != null
                        && Guard.jdbcResourceLocal(coordinator)
                        && ((org.hibernate.engine.spi.SessionImplementor) kept).getFactory().isClosed()) {
                    why = Guard.commitAfterFactoryClosed(kept, ((org.hibernate.engine.spi.SessionImplementor) kept)
                            .getJdbcCoordinator().getLogicalConnection().isPhysicallyConnected());
                }
            }
            if (why != null) {
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
            // as TransactionInstrumentation.CommitAdvice's exit (advice is inlined: it cannot call another's)
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
