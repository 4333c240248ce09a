package dev.sessionguard.agent;

import java.lang.instrument.Instrumentation;

/** An agent whose premain does nothing: what any -javaagent costs (AgentJarIT). */
public final class NoopAgent {

    private NoopAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        // nothing
    }
}
