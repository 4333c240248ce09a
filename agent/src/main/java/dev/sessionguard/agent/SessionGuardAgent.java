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

    /** Said, alone, by an agent in a JVM that writes a class-data archive (an AOT cache's training or assembly). */
    static final String ARCHIVE_LINE = "[sessionguard] off in this JVM: it writes a class-data archive (AOT cache training or"
            + " assembly, -XX:AOTCacheOutput or -XX:AOTMode=record|create), which cannot hold woven classes; a JVM started from"
            + " the archive with -javaagent runs SessionGuard as usual";

    /** True, and said in one line, when a copy of the agent is installed in this JVM already. */
    private static boolean alreadyInstalled() {
        String running = System.getProperty(INSTALLED_PROPERTY);
        if (running != null) {
            System.err.println("[sessionguard] already installed (" + running + "); this copy does nothing");
        }
        return running != null;
    }

    private static void start(String args, Instrumentation inst, boolean attached) {
        boolean installed = false;
        try {
            if (attached && args != null && args.trim().equals(DETACH)) {
                synchronized (SessionGuardAgent.class) {
                    if (System.getProperty(INSTALLED_PROPERTY) != null) {
                        Installer.detach();
                    }
                }
                return;
            }
            if (alreadyInstalled()) {
                // loaded again (jcmd JVMTI.agent_load, a second -javaagent): its options are not read, so a bad one cannot
                // make this JVM say that SessionGuard is off while it runs
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
            if (BootstrapClasses.writesArchive(inst)) {
                // an archive cannot hold woven classes, and JDK 25.0.3 crashes writing an AOT cache after a class the
                // VM knows (java.lang.Thread) was retransformed (docs/weaving.md, "AOT caches and CDS dumps")
                System.err.println(ARCHIVE_LINE);
                return;
            }
            // before any JBoss Modules or OSGi class initialises: they read these once (LoaderDelegation)
            String delegation = attached ? null : LoaderDelegation.arrange();
            synchronized (SessionGuardAgent.class) {
                if (alreadyInstalled()) {
                    return; // installed by another copy since the check above (two loads at once)
                }
                String helpers;
                try {
                    helpers = BootstrapClasses.install(inst);
                } catch (BootstrapClasses.Refused r) {
                    System.err.println("[sessionguard] " + r.getMessage());
                    return;
                }
                System.setProperty(INSTALLED_PROPERTY, Version.get() + " " + options);
                installed = true;
                Installer.install(inst, options, attached, delegation == null ? helpers : helpers + "; " + delegation);
            }
        } catch (Throwable t) {
            System.err.println("[sessionguard] could not start (" + t + "); the application runs without it");
        } finally {
            try {
                BootstrapClasses.dropInternals();
            } catch (Throwable ignored) {
                // nothing to drop
            }
            // not when it stayed off: Installer would load the logging classes, and the helper API's from this jar
            // (no copy is in the bootstrap loader then), for nothing
            if (installed && !attached) {
                try {
                    Installer.premainDone();
                } catch (Throwable ignored) {
                    // the agent is off
                }
            }
        }
    }
}
