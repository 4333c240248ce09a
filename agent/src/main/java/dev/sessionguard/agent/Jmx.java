package dev.sessionguard.agent;

import dev.sessionguard.bootstrap.Events;
import dev.sessionguard.bootstrap.Guard;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Registers {@link SessionGuardMXBean} in the platform MBean server. When attached, at once. With
 * {@code -javaagent}, never during premain (it would initialise java.util.logging before the application
 * chose its log manager), and not at start-up either unless someone has created the platform MBean server:
 * creating it loads about 350 JDK classes and costs about 100 ms of CPU, a third of the agent's whole
 * start-up cost on a small service. So, on the agent's own thread once the first library class is woven: as
 * soon as the platform MBean server exists (the application's, or the one the JVM's local JMX agent creates
 * when the CLI's {@code status} or {@code mode}, or JConsole, connects), looked for every {@link #POLL_MS},
 * and at the latest {@link #DELAY_MS} later (as Datadog's agent delays its JMX work). docs/design.md, "JMX".
 */
final class Jmx {

    private Jmx() {
    }

    /**
     * How long after the first woven library class the MBean waits for the application to settle; the system
     * property {@code sessionguard.jmxDelayMs} sets another (the tests make it longer than they run).
     */
    static final long DELAY_MS = 10_000;
    /** How often the waiting thread looks for a platform MBean server someone else created. */
    static final long POLL_MS = 200;

    /** The installation whose MBean is registered, or null. Guarded by Jmx.class. */
    private static Installer.Installation registered;

    /**
     * Runs on the agent's own thread (made in premain, see Installer) once the first library class is woven:
     * registers the MBean once an MBean server exists, at the latest after {@link #DELAY_MS}, unless the agent
     * was detached meanwhile.
     */
    static void registerWhenCheap(Installer.Installation installation) {
        if (!installation.options.jmx) {
            return;
        }
        long deadline = System.nanoTime() + delayMs() * 1_000_000L;
        while (!serverExists()) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !Installer.isCurrent(installation)) {
                break;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.min(left, POLL_MS * 1_000_000L));
        }
        if (Installer.isCurrent(installation)) {
            register(installation);
        }
    }

    private static long delayMs() {
        try {
            Long ms = Long.getLong("sessionguard.jmxDelayMs");
            return ms == null || ms < 0 ? DELAY_MS : ms;
        } catch (SecurityException e) {
            return DELAY_MS;
        }
    }

    /**
     * Has anyone created an MBean server? The platform one is made through MBeanServerFactory, which lists
     * what it made; asking costs a class or two of javax.management, not the server's 350.
     */
    private static boolean serverExists() {
        try {
            return !javax.management.MBeanServerFactory.findMBeanServer(null).isEmpty();
        } catch (Throwable t) {
            return true; // cannot tell (a security manager): register it now, as the agent did before
        }
    }

    static void register(Installer.Installation installation) {
        if (!installation.options.jmx) {
            return;
        }
        synchronized (Jmx.class) {
            if (registered == installation) {
                return;
            }
        }
        try {
            Bean bean = new Bean(installation);
            // the check and the registration at once (Installer.class is taken inside Jmx.class, never the other way):
            // a detach, or a detach and a new attach, between them would leave a stale MBean or take the new one out
            synchronized (Jmx.class) {
                if (!Installer.isCurrent(installation)) {
                    return;
                }
                replace(bean);
                registered = installation;
            }
        } catch (Throwable t) {
            installation.log.warn("the MBean " + SessionGuardMXBean.OBJECT_NAME + " could not be registered (" + t
                    + "); the agent works on without it", t);
        }
    }

    static void unregister() {
        synchronized (Jmx.class) {
            registered = null;
        }
        try {
            replace(null);
        } catch (Throwable t) {
            // detaching goes on without it
        }
    }

    /** Unregisters the MBean if there is one (an earlier attach), then registers {@code bean} unless null. */
    private static void replace(Bean bean) throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName(SessionGuardMXBean.OBJECT_NAME);
        synchronized (Jmx.class) {
            if (server.isRegistered(name)) {
                server.unregisterMBean(name);
            }
            if (bean != null) {
                server.registerMBean(bean, name);
            }
        }
    }

    static String modeName(int mode) {
        return mode == Guard.MODE_PROTECT ? "protect" : mode == Guard.MODE_OBSERVE ? "observe" : "off";
    }

    static final class Bean implements SessionGuardMXBean {
        private final Installer.Installation installation;

        Bean(Installer.Installation installation) {
            this.installation = installation;
        }

        @Override
        public String getVersion() {
            return Version.get();
        }

        @Override
        public String getMode() {
            return modeName(Guard.mode());
        }

        @Override
        public void setMode(String mode) {
            String m = mode == null ? "" : mode.trim().toLowerCase(Locale.ROOT);
            int next;
            switch (m) {
                case "protect":
                    next = Guard.MODE_PROTECT;
                    break;
                case "observe":
                    next = Guard.MODE_OBSERVE;
                    break;
                case "off":
                    next = Guard.MODE_OFF;
                    break;
                default:
                    throw new IllegalArgumentException("mode must be one of protect, observe, off (was '" + mode + "')");
            }
            String before;
            // under detach's lock: a switch that raced a detach would leave the detached agent's mode protect
            synchronized (Installer.class) {
                if (!Installer.isCurrent(installation)) {
                    throw new IllegalStateException("SessionGuard was detached from this JVM; attach it again to set its mode");
                }
                before = getMode();
                Guard.setMode(next);
            }
            installation.log.warn("mode " + before + " -> " + m + " (set over JMX)", null);
        }

        @Override
        public String getOptions() {
            return installation.options.toString();
        }

        @Override
        public String getStartedAs() {
            return installation.attached ? "attached" : "started";
        }

        @Override
        public Map<String, Long> getEvents() {
            Map<String, Long> m = new LinkedHashMap<>();
            for (int k = 0; k < Events.KINDS.length; k++) {
                m.put(Events.KINDS[k], Guard.count(k));
            }
            return m;
        }

        @Override
        public Map<String, Long> getEventsByReason() {
            Map<String, Long> m = new LinkedHashMap<>();
            for (int k = 0; k < Events.KINDS.length; k++) {
                for (int r = 0; r < Events.REASONS.length; r++) {
                    long n = Guard.count(k, r);
                    if (n > 0) {
                        m.put(Events.KINDS[k] + "/" + Events.REASONS[r], n);
                    }
                }
            }
            return m;
        }

        @Override
        public String[] getInstrumented() {
            List<String> names = new ArrayList<>(installation.transformer.instrumented());
            Collections.sort(names);
            return names.toArray(new String[0]);
        }

        @Override
        public int getStateSize() {
            return Guard.stateSize();
        }

        @Override
        public int getShieldedCalls() {
            return Guard.shieldedCalls();
        }

        @Override
        public int getBusySessions() {
            return Guard.busySessions();
        }
    }
}
