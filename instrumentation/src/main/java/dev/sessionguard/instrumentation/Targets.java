package dev.sessionguard.instrumentation;

import dev.sessionguard.instrumentation.hibernate.SessionInstrumentation;
import dev.sessionguard.instrumentation.hibernate.TransactionInstrumentation;
import dev.sessionguard.instrumentation.jdbc.ConnectionInstrumentation;
import dev.sessionguard.instrumentation.jdk.ThreadInterruptInstrumentation;

/** Every target the agent knows. */
public final class Targets {

    private Targets() {
    }

    public static Target[] all() {
        return new Target[] {
            new TransactionInstrumentation(),
            new SessionInstrumentation(),
            ConnectionInstrumentation.connections(),
            ConnectionInstrumentation.closeOverrides(),
            new ThreadInterruptInstrumentation(),
        };
    }
}
