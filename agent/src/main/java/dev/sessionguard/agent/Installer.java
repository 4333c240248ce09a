package dev.sessionguard.agent;

import dev.sessionguard.bootstrap.EventLog;
import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.Target;
import dev.sessionguard.instrumentation.Targets;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;

/** Everything that happens after the helper API is on the bootstrap class path. */
final class Installer {

    /** What one installation put in place, so that it can be inspected (JMX) and taken back (detach). */
    static final class Installation {
        final Instrumentation inst;
        final Options options;
        final boolean attached;
        final LogSink log;
        final GuardTransformer transformer;
        /** report=, or null. */
        final Report report;

        Installation(Instrumentation inst, Options options, boolean attached, LogSink log, GuardTransformer transformer, Report report) {
            this.inst = inst;
            this.options = options;
            this.attached = attached;
            this.log = log;
            this.transformer = transformer;
            this.report = report;
        }
    }

    /** The installation in this JVM, or null. Guarded by Installer.class. */
    private static Installation current;

    private Installer() {
    }

    /** {@code helpers} says how the helper classes got into the bootstrap class loader (start-up line). */
    static void install(Instrumentation inst, Options options, boolean attached, String helpers) {
        List<Target> targets = new ArrayList<>();
        for (Target t : Targets.all()) {
            // the shield's targets (Thread.interrupt) are woven in observe mode too, so that switching to
            // protect at run time (JMX) defers interrupts; in observe mode they pass every interrupt through
            if (("hibernate".equals(t.group()) && options.hibernate) || ("jdbc".equals(t.group()) && options.jdbc)
                    || ("shield".equals(t.group()) && options.shield)) {
                targets.add(t);
            }
        }
        LogSink log = new LogSink(level(options.log));
        Report report = options.report == null ? null : new Report(options);
        GuardTransformer transformer = new GuardTransformer(inst, targets, log);
        transformer.cacheOption(options.cache);
        transformer.shipped(options.shipped);
        Installation installation = new Installation(inst, options, attached, log, transformer, report);
        if (report != null) {
            report.attach(transformer, log);
        }
        int mode = "observe".equals(options.mode) ? Guard.MODE_OBSERVE : Guard.MODE_PROTECT;
        Guard.configure(mode, options.shield, options.shieldMaxMs, options.closeWaitMs, options.silentRollbackThrows, options.hiddenCommitThrows, log);
        synchronized (Installer.class) {
            current = installation;
        }
        if (!attached && options.jmx) {
            // the MBean waits until a library class is woven, and then until it is cheap (Jmx), on a thread of its
            // own, made here: a thread takes its context class loader and access control context from the thread
            // that constructs it, and here that is premain's, not a webapp's that happens to load the first library
            // class (the thread may wait 10 s). No lambdas on the start-up path: each costs a class spun at run time
            final Thread jmx = new Thread(new Runnable() {
                @Override
                public void run() {
                    Jmx.registerWhenCheap(installation);
                }
            }, "sessionguard-jmx");
            jmx.setDaemon(true);
            jmx.setContextClassLoader(null);
            transformer.afterFirstTarget(new Runnable() {
                @Override
                public void run() {
                    jmx.start();
                }
            });
        }
        transformer.register();
        // library classes loaded before us (always so when attached): transform them now
        transformer.retransformLoaded(false);
        if (attached) {
            Jmx.register(installation);
        }
        if (attached) {
            log.applicationStarted();
        }
        log.info("SessionGuard " + Version.get() + " " + (attached ? "attached" : "started") + " (" + options + "); helper classes " + helpers);
    }

    static boolean isCurrent(Installation installation) {
        synchronized (Installer.class) {
            return current == installation;
        }
    }

    /** premain has returned: the application may have chosen its java.util.logging LogManager by the next line. */
    static void premainDone() {
        Installation i;
        synchronized (Installer.class) {
            i = current;
        }
        if (i != null) {
            i.log.applicationStarted();
        }
    }

    /**
     * Takes the agent out of a running JVM: the mode goes to off first (calls that begin now pass through,
     * calls in progress finish as they began), then the transformer is removed and every woven class is
     * retransformed, which gives it back its original bytecode. The helper classes stay on the bootstrap
     * class path, idle; the agent can be attached again.
     */
    static void detach() {
        Installation i;
        synchronized (Installer.class) {
            i = current;
            current = null;
            if (i != null) {
                Guard.setMode(Guard.MODE_OFF); // under the lock the MBean's setMode takes: no switch after it
            }
        }
        if (i == null) {
            return;
        }
        if (i.report != null) {
            try {
                i.report.detach(); // as it stands, before the woven classes are given back
            } catch (Throwable t) {
                // detaching goes on without it
            }
        }
        // giving Thread.interrupt() its own bytecode back ends the shield of calls still in progress: wait for them (calls
        // that begin now pass through, mode off), at most shieldMaxMs (the longest the shield holds an interrupt anyway),
        // and at most 10 s: a detach is not held up by a call stuck for good
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Math.min(i.options.shieldMaxMs, 10_000));
        while (Guard.shieldedCalls() > 0 && System.nanoTime() - deadline < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1));
        }
        i.transformer.unregister();
        int restored = i.transformer.restoreAll();
        Jmx.unregister();
        System.clearProperty(SessionGuardAgent.INSTALLED_PROPERTY);
        i.log.info("SessionGuard " + Version.get() + " detached: " + restored + " classes have their original bytecode back");
    }

    private static int level(String log) {
        switch (log) {
            case "debug":
                return EventLog.DEBUG;
            case "info":
                return EventLog.INFO;
            case "off":
                return EventLog.OFF;
            default:
                return EventLog.WARN;
        }
    }
}
