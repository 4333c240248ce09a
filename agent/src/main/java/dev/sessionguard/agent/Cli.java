package dev.sessionguard.agent;

import java.io.PrintStream;

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
                if (args.length != 2) {
                    err.println("usage: detach <pid>");
                    return 2;
                }
                return detach(args[1], out, err);
            case "status":
                if (args.length != 2) {
                    err.println("usage: status <pid>");
                    return 2;
                }
                return status(args[1], out, err);
            case "mode":
                if (args.length != 3) {
                    err.println("usage: mode <pid> protect|observe|off");
                    return 2;
                }
                return mode(args[1], args[2], out, err);
            case "list":
                return list(out, err);
            case "scan":
                if (args.length < 2) {
                    err.println("usage: scan <jar|war|dir>...");
                    return 2;
                }
                return Scan.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
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
                + "  hiddenCommit=log|throw        a commit() that returned normally although a commit it ran failed (a\n"
                + "                                wrapper or pool that hides it): logged at ERROR (log), or also thrown (throw)\n"
                + "  shieldMaxMs=N                 the longest an interrupt is held back during a shielded call (2000)\n"
                + "  targets=hibernate,jdbc        what to instrument (both)\n"
                + "  log=warn|info|debug|off       event log threshold, logger 'sessionguard' (warn)\n"
                + "  report=FILE                   write the event counters as JSON when the JVM exits (%p: the process id)\n"
                + "  jmx=on|off                    register the MBean " + SessionGuardMXBean.OBJECT_NAME + " (on)\n"
                + "  cache=off|DIR                 keep woven classes between runs so restarts skip Byte Buddy\n"
                + "                                (<tmpdir>/sessionguard-<user>, private to the user)\n"
                + "  shipped=on|off                use the woven classes shipped in the jar for tested library versions (on)\n"
                + "\n"
                + "Commands:\n"
                + "  attach <pid> [options]        load the agent into a running JVM\n"
                + "  status <pid>                  mode, woven methods and event counters of a running JVM\n"
                + "  mode <pid> protect|observe|off  switch the mode of a running agent (JMX)\n"
                + "  detach <pid>                  take the agent out: the woven classes get their original bytecode back\n"
                + "  list                          the JVMs on this machine and whether SessionGuard runs in them\n"
                + "  scan <jar|war|dir>...         which classes and methods would be woven, and the library versions found\n"
                + "                                (--write DIR first: also write the woven class files there)\n"
                + "  --version                     print the version\n"
                + "  --help                        this text\n";
    }

    private static int attach(String pid, String options, PrintStream out, PrintStream err) {
        // the argument is checked here too (its syntax and values; the file system and system properties are the
        // target's): a bad one is said here, in one line, and nothing is loaded
        try {
            if ("off".equals(Options.parseArgument(options).mode)) {
                out.println("mode=off: nothing to attach");
                return 0;
            }
        } catch (Options.InvalidOption e) {
            err.println(e.getMessage());
            return 2;
        }
        return onVm(pid, err, vm -> {
            String before = vm.installed();
            if (before != null) {
                // loading it again would change nothing but add the CLI's jar to that JVM's class path (and, on JDK 21+,
                // a dynamic-agent warning to its log)
                out.println("SessionGuard was already running in " + pid + " (" + before + "); nothing changed");
                return 0;
            }
            String note = vm.dynamicLoadingNote();
            if (note != null) {
                out.println(note);
            }
            // a JVM keeps the agent classes it loaded first: after a detach, another build's jar runs those again
            String there = vm.systemProperty(BootstrapClasses.BUILD_PROPERTY);
            String mine = ownDigest();
            if (there != null && mine != null && !there.equals(mine)) {
                out.println("note: " + pid + " keeps the SessionGuard build it loaded first (helpers " + there + "); this jar (helpers "
                        + mine + ") cannot replace it without a restart of that JVM: attaching runs that earlier build again");
            }
            vm.loadAgent(options);
            String after = vm.installed();
            if (after == null) {
                err.println("SessionGuard did not start in " + pid + ": see that JVM's standard error for the reason");
                return 1;
            }
            out.println("SessionGuard attached to " + pid + " (" + after + ")");
            return 0;
        });
    }

    private static String ownDigest() {
        try {
            return BootstrapClasses.ownDigest();
        } catch (Throwable t) {
            return null;
        }
    }

    private static int detach(String pid, PrintStream out, PrintStream err) {
        return onVm(pid, err, vm -> {
            if (vm.installed() == null) {
                out.println("SessionGuard is not running in " + pid + "; nothing to detach");
                return 1;
            }
            vm.loadAgent(SessionGuardAgent.DETACH);
            if (vm.installed() != null) {
                err.println("SessionGuard could not detach from " + pid + ": see that JVM's standard error");
                return 1;
            }
            out.println("SessionGuard detached from " + pid + ": the woven classes have their original bytecode back");
            return 0;
        });
    }

    private static int status(String pid, PrintStream out, PrintStream err) {
        return onVm(pid, err, vm -> {
            String installed = vm.installed();
            if (installed == null) {
                out.println("SessionGuard is not running in " + pid);
                return 1;
            }
            SessionGuardMXBean bean = vm.guard();
            if (bean == null) {
                out.println("SessionGuard " + installed + " runs in " + pid + (installed.contains("jmx=off")
                        ? "; it was started with jmx=off, so there are no counters to show"
                        : "; its MBean is not registered: no Hibernate or JDBC class has been woven yet (or see that JVM's log)"));
                return 0;
            }
            out.println("SessionGuard " + bean.getVersion() + " " + bean.getStartedAs() + " in " + pid);
            out.println("mode:          " + bean.getMode());
            out.println("options:       " + bean.getOptions());
            String[] woven = bean.getInstrumented();
            out.println("instrumented:  " + woven.length + " methods");
            for (String m : woven) {
                out.println("  " + m);
            }
            out.println("events:");
            java.util.Map<String, Long> byReason = bean.getEventsByReason();
            for (java.util.Map.Entry<String, Long> e : bean.getEvents().entrySet()) {
                StringBuilder reasons = new StringBuilder();
                for (java.util.Map.Entry<String, Long> r : byReason.entrySet()) {
                    if (r.getKey().startsWith(e.getKey() + "/")) {
                        reasons.append(reasons.length() == 0 ? "  (" : ", ")
                                .append(r.getKey().substring(e.getKey().length() + 1)).append(' ').append(r.getValue());
                    }
                }
                out.println(String.format("  %-22s %d%s", e.getKey(), e.getValue(), reasons.length() == 0 ? "" : reasons + ")"));
            }
            out.println("in progress:   " + bean.getShieldedCalls() + " shielded calls, " + bean.getBusySessions() + " busy sessions");
            out.println("agent state:   " + bean.getStateSize() + " entries");
            return 0;
        });
    }

    private static int mode(String pid, String mode, PrintStream out, PrintStream err) {
        return onVm(pid, err, vm -> {
            if (vm.installed() == null) {
                err.println("SessionGuard is not running in " + pid + "; attach it first");
                return 1;
            }
            SessionGuardMXBean bean = vm.guard();
            if (bean == null) {
                err.println("SessionGuard runs in " + pid + " but its MBean is not registered (jmx=off, or no Hibernate or JDBC class woven yet)");
                return 1;
            }
            String before = bean.getMode();
            try {
                bean.setMode(mode);
            } catch (RuntimeException e) {
                Throwable cause = e;
                while (cause.getCause() != null) {
                    cause = cause.getCause();
                }
                err.println("mode not changed: " + cause.getMessage());
                return 2;
            }
            out.println("SessionGuard in " + pid + ": mode " + before + " -> " + bean.getMode());
            return 0;
        });
    }

    /** A command run on one JVM, attached to it for the command. */
    private interface OnVm {
        int run(Vm vm) throws Vm.Failure;
    }

    /** Attaches to {@code pid}, runs the command, detaches; a JVM that cannot be reached is one line on err and exit 1. */
    private static int onVm(String pid, PrintStream err, OnVm command) {
        try (Vm vm = Vm.attach(pid)) {
            return command.run(vm);
        } catch (Vm.Failure e) {
            err.println(e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            // the MBean's calls go over JMX: the JVM exiting, or a detach meanwhile (its MBean unregistered), fails
            // them with an unchecked exception; one line, not a stack trace
            Throwable cause = e;
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            err.println("the JVM " + pid + " stopped answering: " + cause + " (has it exited, or was SessionGuard detached meanwhile?)");
            return 1;
        }
    }

    private static int list(PrintStream out, PrintStream err) {
        try {
            String self = java.lang.management.ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
            for (String[] jvm : Vm.list()) {
                if (jvm[0].equals(self)) {
                    continue;
                }
                String state;
                try (Vm vm = Vm.attachListed(jvm[0])) {
                    String installed = vm.installed();
                    state = installed == null ? "-" : "SessionGuard " + installed;
                } catch (Vm.Failure e) {
                    state = "? (" + e.getMessage() + ")";
                }
                out.println(String.format("%-8s %-50s %s", jvm[0], jvm[1].isEmpty() ? "?" : abbreviate(jvm[1], 50), state));
            }
            return 0;
        } catch (Vm.Failure e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }
}
