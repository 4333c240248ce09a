package dev.sessionguard.agent;

import java.util.Map;

/**
 * The agent over JMX, as {@code dev.sessionguard:type=Guard}: what it instrumented, what it did, and its
 * mode, which can be switched while the application runs. Counters are totals since the JVM started.
 */
public interface SessionGuardMXBean {

    String OBJECT_NAME = "dev.sessionguard:type=Guard";

    String getVersion();

    /** protect, observe or off. */
    String getMode();

    /**
     * protect, observe or off, effective for the next call (a call in progress finishes in the mode it began
     * in). off leaves the woven code in place doing nothing; {@code detach} removes it.
     */
    void setMode(String mode);

    /** The options the agent was started with. */
    String getOptions();

    /** "started" (-javaagent) or "attached". */
    String getStartedAs();

    /** Every event kind with its count, all reasons together. */
    Map<String, Long> getEvents();

    /** "kind/reason" with its count, for the pairs that happened. */
    Map<String, Long> getEventsByReason();

    /** "Class#method" of every method woven so far. */
    String[] getInstrumented();

    /** Entries the agent keeps (rate-limit sites): bounded by instrumented sites, not by traffic. */
    int getStateSize();

    /** Threads inside a shielded commit, rollback or close right now. */
    int getShieldedCalls();

    /** Sessions with a commit, rollback or flush in progress right now. */
    int getBusySessions();
}
