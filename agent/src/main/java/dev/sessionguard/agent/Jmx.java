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
 * Registers {@link SessionGuardMXBean} in the platform MBean server. With {@code -javaagent} this happens
 * once the first library class is woven, on a thread of its own: the platform MBean server is not created
 * during premain, where it would slow start-up and initialise java.util.logging before the application
 * chose its log manager. When attached, at once.
 */
final class Jmx {

    private Jmx() {
    }

    static void register(Installer.Installation installation) {
        if (!installation.options.jmx) {
            return;
        }
        try {
            replace(new Bean(installation));
        } catch (Throwable t) {
            installation.log.warn("the MBean " + SessionGuardMXBean.OBJECT_NAME + " could not be registered (" + t
                    + "); the agent works on without it", t);
        }
    }

    static void unregister() {
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
            String before = getMode();
            Guard.setMode(next);
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
