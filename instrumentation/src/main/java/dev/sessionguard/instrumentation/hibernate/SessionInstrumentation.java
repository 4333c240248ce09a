package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.CallState;
import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.Target;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 5.2 to 7.x {@code SessionImpl.close()}: skipped when the session itself is already closed;
 * a failure at shutdown, under an interrupt or on a resource closed under it is swallowed. When the
 * factory was closed first (a shutdown hook, a framework context), Hibernate's close() does nothing and
 * the connection stays checked out with its transaction: it is released to the pool (close.released).
 *
 * <p>close() from one thread while another is inside commit, rollback or flush of the same session waits
 * for that call to end, at most closeWaitMs (close.waited); flush() only marks the session busy.
 *
 * <p>The session's own {@code closed} field is read rather than {@code isClosed()}, which is also true
 * once the factory is closed: that case still holds a connection and is not "already closed".
 */
public final class SessionInstrumentation extends HibernateTarget {

    public SessionInstrumentation() {
        super(HibernateApi.SESSION, "session", HibernateApi.REQUIRED_TYPES, "close", "flush");
    }

    /** Hibernate 5.0 and 5.1: the same classes, other internals. */
    @Override
    public Target older() {
        return new LegacySessionInstrumentation();
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        return builder
                .visit(advices.to(CloseAdvice.class.getName()).on(named("close").and(takesArguments(0))))
                .visit(advices.to(FlushAdvice.class.getName()).on(named("flush").and(takesArguments(0))));
    }

    public static final class CloseAdvice {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                    @Advice.FieldValue("closed") boolean closed,
                                    @Advice.Local("sgState") CallState state,
                                    @Advice.Local("sgBusy") boolean busy,
                                    @Advice.Local("sgRelease") boolean release) {
            state = Guard.enter();
            // another thread inside commit/rollback/flush of this session: let it finish first (close.waited)
            busy = Guard.waitAndMarkBusy(state, self, self, site, Guard.CLOSE);
            boolean factoryClosed = Guard.decides(state) && ((org.hibernate.Session) self).getSessionFactory().isClosed();
            // "closed" is read here, after the wait (inlined advice reads a bound field where it is used, not at
            // entry): a close() this thread waited for has set it. Not isOpen(), which tells the same with the
            // factory open but first pulses the transaction coordinator (a JTA one joins the transaction) and runs
            // any delayed after-completion: the agent calls nothing with an effect on the session's state.
            boolean alreadyClosed = closed;
            // the factory is closed, so Hibernate's close() will do nothing: the connection would stay checked out.
            // Only a session that holds one: a session that never took one, or gave it back after its transaction (or
            // whose connection Hibernate released when the factory closed, 6.x), has nothing to release or roll back
            release = !alreadyClosed && factoryClosed && ((org.hibernate.engine.spi.SharedSessionContractImplementor) self)
                    .getJdbcCoordinator().getLogicalConnection().isPhysicallyConnected();
            return Guard.skipClose(state, alreadyClosed, self, site);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                @Advice.Local("sgState") CallState state,
                                @Advice.Local("sgBusy") boolean busy,
                                @Advice.Local("sgRelease") boolean release,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            try {
                if (busy) {
                    Guard.unmarkBusy(state, self);
                }
                // whether or not close() threw: under JPA compliance (hibernate.jpa.compliance.closed) the close() of a
                // session whose factory is closed throws IllegalStateException and does nothing else either
                if (release && Guard.releaseOrphanedConnection(self, site)) {
                    try {
                        // the part of close() that matters here, and that works with the factory gone (5.6 to 7.4):
                        // the JDBC connection goes back to the pool, which rolls its transaction back
                        ((org.hibernate.engine.spi.SharedSessionContractImplementor) self)
                                .getJdbcCoordinator().getLogicalConnection().close();
                    } catch (Throwable t) {
                        Guard.releaseFailed(self, site, t);
                    }
                }
            } catch (Throwable stepFailed) {
                // dropped here as suppress = Throwable would drop it; a finally block would put Guard.exit
                // twice into the woven method (docs/weaving.md, "Small woven methods")
            }
            // always: the call ends (interrupt set again, nesting undone) whatever a step above threw
            thrown = Guard.exit(state, Guard.CLOSE, self, self, site, thrown);
        }
    }

    /** flush() marks the session busy: a close() or rollback() from another thread waits for it. Nothing else changes. */
    public static final class FlushAdvice {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        public static CallState enter(@Advice.This Object self) {
            return Guard.markFlushing(self);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        public static void exit(@Advice.This Object self, @Advice.Enter CallState marked) {
            if (marked != null) {
                Guard.unmarkBusy(marked, self);
            }
        }
    }
}
