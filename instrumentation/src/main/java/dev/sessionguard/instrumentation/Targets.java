package dev.sessionguard.instrumentation;

import dev.sessionguard.instrumentation.hibernate.SessionInstrumentation;
import dev.sessionguard.instrumentation.hibernate.TransactionInstrumentation;
import dev.sessionguard.instrumentation.jdbc.ConnectionInstrumentation;
import dev.sessionguard.instrumentation.jdk.ThreadInterruptInstrumentation;

/** Every target the agent knows. */
public final class Targets {

    private Targets() {
    }

    /**
     * The advice parameter bindings of the agent's own ({@code @TransactionSession}): registered with every
     * advice, used by those that declare them.
     */
    public static net.bytebuddy.asm.Advice.OffsetMapping.Factory<?>[] bindings() {
        return new net.bytebuddy.asm.Advice.OffsetMapping.Factory<?>[] {
            dev.sessionguard.instrumentation.hibernate.TransactionSession.BINDING,
            dev.sessionguard.instrumentation.hibernate.TransactionState.BINDING,
        };
    }

    public static Target[] all() {
        return new Target[] {
            new TransactionInstrumentation(),
            new dev.sessionguard.instrumentation.hibernate.Transaction4Instrumentation(),
            new SessionInstrumentation(),
            new dev.sessionguard.instrumentation.hibernate.JtaCoordinatorInstrumentation(),
            ConnectionInstrumentation.connections(),
            ConnectionInstrumentation.closeOverrides(),
            new ThreadInterruptInstrumentation(),
        };
    }
}
