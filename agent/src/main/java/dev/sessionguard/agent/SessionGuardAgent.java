package dev.sessionguard.agent;

import java.lang.instrument.Instrumentation;

/**
 * Entry points for {@code -javaagent} and attach. Never throws: whatever goes wrong, the application
 * starts as if no agent were there, and one line on stderr says why.
 *
 * <p>This class must not touch {@code dev.sessionguard.bootstrap} before {@link BootstrapClasses} has
 * defined that package in the bootstrap class loader; {@link Installer} does everything after that.
 */
public final class SessionGuardAgent {

    /** Set once installed, so that loading the agent twice (two flags, or flag plus attach) installs it once. */
    static final String INSTALLED_PROPERTY = "dev.sessionguard.installed";

    private SessionGuardAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    /** The agent argument with which the CLI's {@code detach} loads the agent into a JVM that has it. */
    static final String DETACH = "command=detach";

    private static void start(String args, Instrumentation inst, boolean attached) {
        try {
            if (attached && args != null && args.trim().equals(DETACH)) {
                synchronized (SessionGuardAgent.class) {
                    if (System.getProperty(INSTALLED_PROPERTY) != null) {
                        Installer.detach();
                    }
                }
                return;
            }
            Options options;
            try {
                options = Options.parse(args);
            } catch (Options.InvalidOption e) {
                System.err.println("[sessionguard] " + e.getMessage() + "; SessionGuard is off, the application runs without it");
                return;
            }
            if ("off".equals(options.mode)) {
                return;
            }
            // before any JBoss Modules or OSGi class initialises: they read these once (LoaderDelegation)
            String delegation = attached ? null : LoaderDelegation.arrange();
            synchronized (SessionGuardAgent.class) {
                String previous = System.getProperty(INSTALLED_PROPERTY);
                if (previous != null) {
                    System.err.println("[sessionguard] already installed (" + previous + "); this copy does nothing");
                    return;
                }
                String helpers;
                try {
                    helpers = BootstrapClasses.install(inst);
                } catch (BootstrapClasses.Refused r) {
                    System.err.println("[sessionguard] " + r.getMessage());
                    return;
                }
                System.setProperty(INSTALLED_PROPERTY, Version.get() + " " + options);
                Installer.install(inst, options, attached, delegation == null ? helpers : helpers + "; " + delegation);
            }
        } catch (Throwable t) {
            System.err.println("[sessionguard] could not start (" + t + "); the application runs without it");
        } finally {
            if (!attached) {
                try {
                    Installer.premainDone();
                } catch (Throwable ignored) {
                    // the agent is off
                }
            }
        }
    }
}
