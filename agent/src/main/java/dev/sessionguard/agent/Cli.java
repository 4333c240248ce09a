package dev.sessionguard.agent;

import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;

/** {@code java -jar sessionguard-agent.jar ...}: the agent jar is its own command-line tool. */
public final class Cli {

    private Cli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.print(help());
            return args.length == 0 ? 2 : 0;
        }
        switch (args[0]) {
            case "--version":
            case "version":
                out.println("SessionGuard " + Version.get());
                return 0;
            case "attach":
                if (args.length < 2) {
                    err.println("usage: attach <pid> [key=value,...]");
                    return 2;
                }
                return attach(args[1], args.length > 2 ? args[2] : "", out, err);
            case "detach":
            case "status":
            case "list":
            case "scan":
                err.println("'" + args[0] + "' is not available in SessionGuard " + Version.get() + " yet");
                return 2;
            default:
                err.println("unknown command '" + args[0] + "'; try --help");
                return 2;
        }
    }

    static String help() {
        return "SessionGuard " + Version.get() + " - makes Hibernate and JDBC close/rollback/commit safe at shutdown and under interrupts\n"
                + "\n"
                + "As an agent:   java -javaagent:sessionguard-agent.jar[=key=value,...] ...\n"
                + "               or JAVA_TOOL_OPTIONS=-javaagent:/path/sessionguard-agent.jar\n"
                + "Options (agent argument, or -Dsessionguard.<key>=value; the argument wins):\n"
                + "  mode=protect|observe|off      protect (default) changes what the policy says; observe only logs and counts\n"
                + "  shield=on|off                 clear the interrupt flag for commit/rollback/close and set it again after (on)\n"
                + "  closeWaitMs=N                 how long a close/rollback from another thread waits for a commit,\n"
                + "                                rollback or flush in progress on the same session (5000)\n"
                + "  silentRollback=log|throw      a commit that silently rolled back: logged at ERROR (log), or\n"
                + "                                also thrown to the caller as TransactionException (throw)\n"
                + "  shieldMaxMs=N                 the longest an interrupt is held back during a shielded call (2000)\n"
                + "  targets=hibernate,jdbc        what to instrument (both)\n"
                + "  log=warn|info|debug|off       event log threshold, logger 'sessionguard' (warn)\n"
                + "  report=FILE                   write the event counters as JSON when the JVM exits\n"
                + "\n"
                + "Commands:\n"
                + "  attach <pid> [options]        load the agent into a running JVM\n"
                + "  --version                     print the version\n"
                + "  --help                        this text\n";
    }

    private static int attach(String pid, String options, PrintStream out, PrintStream err) {
        try {
            File jar = new File(Cli.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Class<?> vmClass = Class.forName("com.sun.tools.attach.VirtualMachine");
            Object vm = vmClass.getMethod("attach", String.class).invoke(null, pid);
            try {
                Method load = vmClass.getMethod("loadAgent", String.class, String.class);
                load.invoke(vm, jar.getAbsolutePath(), options);
            } finally {
                vmClass.getMethod("detach").invoke(vm);
            }
            out.println("SessionGuard attached to " + pid);
            return 0;
        } catch (ClassNotFoundException e) {
            err.println("attach needs a JDK (module jdk.attach); this runtime has none");
            return 1;
        } catch (java.lang.reflect.InvocationTargetException e) {
            err.println("could not attach to " + pid + ": " + e.getCause());
            return 1;
        } catch (Exception e) {
            err.println("could not attach to " + pid + ": " + e);
            return 1;
        }
    }
}
