package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 5.2 to 7.x {@code TransactionImpl}: rollback() is skipped when the status cannot be rolled
 * back and its failures on a dead connection, at shutdown or under an interrupt are swallowed; commit()
 * failures are logged and always reach the caller. Both run behind the interrupt shield, mark their
 * session busy (a close() or rollback() from another thread waits for them), and a rollback() from
 * another thread waits for the one in progress. A commit() that begins on a transaction marked
 * rollback-only and returns normally rolled the work back silently: commit.silentRollback.
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
                .visit(advices.to(CommitAdvice.class.getName()).on(named("commit").and(takesArguments(0))));
    }

    public static final class RollbackAdvice {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                    @Advice.FieldValue("session") Object session,
                                    @Advice.Local("sgFlags") int flags,
                                    @Advice.Local("sgBusy") boolean busy) {
            flags = Guard.enter();
            // another thread inside commit/rollback/flush of this session: wait for it, then read the status
            Guard.awaitOthers(flags, session, self, site);
            busy = Guard.busy(session);
            return Guard.skipRollback(flags, ((org.hibernate.Transaction) self).getStatus(), self, site);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.FieldValue("session") Object session,
                                @Advice.Local("sgFlags") int flags,
                                @Advice.Local("sgBusy") boolean busy,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            if (busy) {
                Guard.notBusy(session);
            }
            thrown = Guard.exit(flags, self, site, thrown);
        }
    }

    public static final class CommitAdvice {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static void enter(@Advice.This Object self,
                                 @Advice.FieldValue("session") Object session,
                                 @Advice.Local("sgFlags") int flags,
                                 @Advice.Local("sgBusy") boolean busy,
                                 @Advice.Local("sgMarked") boolean marked,
                                 @Advice.Local("sgEntities") String entities) {
            flags = Guard.enter();
            busy = Guard.busy(session);
            marked = Guard.decides(flags)
                    && ((org.hibernate.Transaction) self).getStatus() == org.hibernate.resource.transaction.spi.TransactionStatus.MARKED_ROLLBACK;
            if (marked) {
                try {
                    // what the rollback will lose, where Hibernate knows it: the entities of the session
                    java.util.TreeSet<String> names = new java.util.TreeSet<String>();
                    for (Object key : ((org.hibernate.engine.spi.SharedSessionContractImplementor) session)
                            .getPersistenceContextInternal().getEntitiesByKey().keySet()) {
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
                                @Advice.FieldValue("session") Object session,
                                @Advice.Local("sgFlags") int flags,
                                @Advice.Local("sgBusy") boolean busy,
                                @Advice.Local("sgMarked") boolean marked,
                                @Advice.Local("sgEntities") String entities,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            if (busy) {
                Guard.notBusy(session);
            }
            if (marked && thrown == null && Guard.silentRollback(self, site, entities)) {
                thrown = new org.hibernate.TransactionException("Transaction was marked for rollback only and was rolled back,"
                        + " not committed (reported by SessionGuard, silentRollback=throw)");
            }
            thrown = Guard.exit(flags, self, site, thrown);
        }
    }
}
