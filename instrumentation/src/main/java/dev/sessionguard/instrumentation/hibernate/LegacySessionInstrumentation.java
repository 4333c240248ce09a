package dev.sessionguard.instrumentation.hibernate;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sessionguard.bootstrap.CallState;
import dev.sessionguard.bootstrap.Guard;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Hibernate 4.3, 5.0 and 5.1 {@code SessionImpl.close()}, tried when {@link SessionInstrumentation} does not fit
 * (the session is a {@code SessionImplementor}; 5.2 made it a SharedSessionContractImplementor; 4.3's close()
 * returns the connection, which the advice leaves as it is). The same policy, two differences of these versions
 * (docs/weaving.md, "Hibernate versions"):
 * <ul>
 * <li>the session's {@code closed} flag is private to its superclass AbstractSessionImpl, and its
 *     {@code isClosed()} is also true once the factory is closed: with the factory open isClosed() tells,
 *     with it closed the flag is read by reflection ({@code Guard.sessionClosed});</li>
 * <li>with the factory closed, close() throws "Session was already closed" and leaves the connection checked
 *     out with its transaction: the connection is released instead of running it (close.released), through
 *     {@code Guard.releaseLogicalConnection} (4.3 reaches its JDBC coordinator through the transaction
 *     coordinator, 5.0 from the session: by name, on a path that runs once per session at most).</li>
 * </ul>
 */
public final class LegacySessionInstrumentation extends HibernateTarget {

    public LegacySessionInstrumentation() {
        super(HibernateApi.SESSION, "session", HibernateApi.REQUIRED_TYPES_LEGACY_SESSION, "close", "flush");
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, Advices advices) {
        return builder
                .visit(advices.to(CloseAdvice.class.getName()).on(named("close").and(takesArguments(0))))
                .visit(advices.to(SessionInstrumentation.FlushAdvice.class.getName()).on(named("flush").and(takesArguments(0))));
    }

    public static final class CloseAdvice {
        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
        public static boolean enter(@Advice.This Object self, @Advice.Origin("#t\\##m") String site,
                                    @Advice.Local("sgState") CallState state,
                                    @Advice.Local("sgBusy") boolean busy,
                                    @Advice.Local("sgRelease") boolean release) {
            state = Guard.enter();
            // another thread inside commit/rollback/flush of this session: let it finish first (close.waited)
            busy = Guard.waitAndMarkBusy(state, self, self, site, Guard.CLOSE);
            if (!Guard.decides(state)) {
                return false;
            }
            boolean factoryClosed = ((org.hibernate.Session) self).getSessionFactory().isClosed();
            boolean alreadyClosed = factoryClosed ? Guard.sessionClosed(self)
                    : ((org.hibernate.engine.spi.SessionImplementor) self).isClosed();
            if (!alreadyClosed && factoryClosed) {
                // close() would throw "Session was already closed" and keep the connection: released instead
                release = Guard.releaseOrphanedConnection(self, site);
                return release;
            }
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
                if (release) {
                    // the JDBC connection goes back to the pool, which rolls its transaction back
                    Guard.releaseLogicalConnection(self, site);
                }
            } catch (Throwable stepFailed) {
                // dropped here as suppress = Throwable would drop it; a finally block would put Guard.exit
                // twice into the woven method (docs/weaving.md, "Small woven methods")
            }
            // always: the call ends (interrupt set again, nesting undone) whatever a step above threw
            thrown = Guard.exit(state, Guard.CLOSE, self, self, site, thrown);
        }
    }
}
