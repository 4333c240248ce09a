package dev.sessionguard.agent;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.management.JMX;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The CLI's view of another JVM, through the attach API (by reflection: the jar's bytecode is Java 8, where
 * the API sits in tools.jar) and, for the counters and the mode, the MBean over the JVM's local JMX
 * connector (started on demand, local connections only, as jcmd ManagementAgent.start_local does).
 */
final class Vm implements AutoCloseable {

    /** One line for the user: what failed and why. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    private final String pid;
    private final Object vm;
    private final Class<?> vmClass;
    private JMXConnector connector;

    private Vm(String pid, Object vm, Class<?> vmClass) {
        this.pid = pid;
        this.vm = vm;
        this.vmClass = vmClass;
    }

    private static Class<?> vmClass() throws Failure {
        try {
            return Class.forName("com.sun.tools.attach.VirtualMachine");
        } catch (ClassNotFoundException e) {
            throw new Failure("this needs a JDK (module jdk.attach); the runtime at " + System.getProperty("java.home") + " has none");
        }
    }

    static Vm attach(String pid) throws Failure {
        if (!pid.matches("[0-9]+")) {
            throw new Failure("'" + pid + "' is not a process id");
        }
        String notJvm = notAJvm(pid);
        if (notJvm != null) {
            throw new Failure("process " + pid + " " + notJvm + "; nothing was sent to it");
        }
        return attachListed(pid);
    }

    /** {@link #attach} for a pid that {@link #list} gave: a JVM, no need to ask (and list) again. */
    static Vm attachListed(String pid) throws Failure {
        Class<?> c = vmClass();
        try {
            return new Vm(pid, c.getMethod("attach", String.class).invoke(null, pid), c);
        } catch (InvocationTargetException e) {
            throw new Failure("could not attach to " + pid + ": " + e.getCause()
                    + " (is it a JVM of this user, and still running?)");
        } catch (Exception e) {
            throw new Failure("could not attach to " + pid + ": " + e);
        }
    }

    /**
     * Why {@code pid} is not a JVM to attach to, or null when it may be one. Asked before attaching because the attach
     * API, finding no attach socket, signals the process with SIGQUIT to start one (JDK 8 to 19 whatever the process
     * is; later JDKs when it catches SIGQUIT): a mistyped pid could stop a PostgreSQL or nginx master. A JVM is one
     * the attach API lists, or, on Linux, a process that has libjvm mapped (a JVM started without perf data or with
     * another temporary directory is not listed). Elsewhere an unlisted pid is attached to as before.
     */
    static String notAJvm(String pid) {
        try {
            for (String[] jvm : list()) {
                if (jvm[0].equals(pid)) {
                    return null;
                }
            }
        } catch (Failure e) {
            // no list: /proc decides below
        }
        File proc = new File("/proc");
        if (!proc.isDirectory() || !System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
            return null; // /proc/<pid>/maps is Linux's (FreeBSD, Solaris, AIX have /proc without it)
        }
        File maps = new File(proc, pid + "/maps");
        if (!new File(proc, pid).exists()) {
            return "is not running";
        }
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                new java.io.FileInputStream(maps), java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.contains("/libjvm.")) {
                    return null;
                }
            }
            return "is not a JVM (no libjvm in /proc/" + pid + "/maps)";
        } catch (java.io.IOException e) {
            return "is not a JVM this user can attach to (" + maps + " cannot be read: another user's process?)";
        }
    }

    /** pid and display name of every JVM of this user on this machine. */
    static List<String[]> list() throws Failure {
        Class<?> c = vmClass();
        try {
            List<String[]> jvms = new ArrayList<>();
            for (Object d : (List<?>) c.getMethod("list").invoke(null)) {
                Method id = d.getClass().getMethod("id");
                Method name = d.getClass().getMethod("displayName");
                id.setAccessible(true);
                name.setAccessible(true);
                jvms.add(new String[] {(String) id.invoke(d), String.valueOf(name.invoke(d))});
            }
            return jvms;
        } catch (Exception e) {
            throw new Failure("could not list the JVMs: " + e);
        }
    }

    private Object call(String method, Class<?>[] types, Object... args) throws Failure {
        try {
            return vmClass.getMethod(method, types).invoke(vm, args);
        } catch (InvocationTargetException e) {
            throw new Failure(method + " on " + pid + " failed: " + e.getCause());
        } catch (Exception e) {
            throw new Failure(method + " on " + pid + " failed: " + e);
        }
    }

    /** Loads this agent jar into the JVM with the given agent argument; returns when agentmain returned. */
    void loadAgent(String options) throws Failure {
        File jar;
        try {
            jar = new File(Cli.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            throw new Failure("cannot locate the agent jar: " + e);
        }
        call("loadAgent", new Class<?>[] {String.class, String.class}, jar.getAbsolutePath(), options);
    }

    /**
     * JDK 21 and later print a warning in the target's log when an agent is loaded into it at run time
     * (JEP 451) unless it was started with -XX:+EnableDynamicAgentLoading. The line to print before
     * attaching, or null when that JVM will not warn.
     */
    String dynamicLoadingNote() throws Failure {
        String spec = systemProperty("java.specification.version");
        spec = spec == null ? "1.8" : spec;
        int feature;
        try {
            feature = spec.startsWith("1.") ? 8 : Integer.parseInt(spec.replaceAll("[^0-9].*", ""));
        } catch (NumberFormatException e) {
            return null;
        }
        if (feature < 21) {
            return null;
        }
        Properties agent = (Properties) call("getAgentProperties", new Class<?>[0]);
        String flags = agent.getProperty("sun.jvm.args", "") + " " + agent.getProperty("sun.jvm.flags", "");
        if (flags.contains("-XX:+EnableDynamicAgentLoading") || flags.contains("EnableDynamicAgentLoading=true")) {
            return null;
        }
        return "note: " + pid + " runs Java " + feature + ", which logs \"WARNING: A Java agent has been loaded dynamically\" when an"
                + " agent is attached; harmless, and to avoid it start that JVM with -XX:+EnableDynamicAgentLoading, or use"
                + " -javaagent instead of attach";
    }

    /** A system property of that JVM, or null. */
    String systemProperty(String key) throws Failure {
        return ((Properties) call("getSystemProperties", new Class<?>[0])).getProperty(key);
    }

    /** What the agent in that JVM says of itself ("version options"), or null when it is not running there. */
    String installed() throws Failure {
        return systemProperty(SessionGuardAgent.INSTALLED_PROPERTY);
    }

    /** The agent's MBean in that JVM, or null when it is not registered. */
    SessionGuardMXBean guard() throws Failure {
        try {
            if (connector == null) {
                String address = (String) call("startLocalManagementAgent", new Class<?>[0]);
                connector = JMXConnectorFactory.connect(new JMXServiceURL(address));
            }
            MBeanServerConnection c = connector.getMBeanServerConnection();
            ObjectName name = new ObjectName(SessionGuardMXBean.OBJECT_NAME);
            if (!c.isRegistered(name)) {
                String installed = installed();
                if (installed == null || installed.contains("jmx=off")) {
                    return null;
                }
                // an agent started with -javaagent registers its MBean once an MBean server exists (Jmx), which
                // connecting has just made: it looks every 200 ms
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (!c.isRegistered(name)) {
                    if (System.nanoTime() - deadline > 0) {
                        return null;
                    }
                    Thread.sleep(50);
                }
            }
            return JMX.newMXBeanProxy(c, name, SessionGuardMXBean.class);
        } catch (Failure e) {
            throw e;
        } catch (Exception e) {
            throw new Failure("could not reach the JMX agent of " + pid + ": " + e);
        }
    }

    @Override
    public void close() {
        try {
            if (connector != null) {
                connector.close();
            }
        } catch (Exception e) {
            // the JVM may be gone
        }
        try {
            vmClass.getMethod("detach").invoke(vm);
        } catch (Exception e) {
            // the same
        }
    }
}
