package dev.sessionguard.agent;

import dev.sessionguard.bootstrap.Events;
import dev.sessionguard.bootstrap.Guard;
import java.io.File;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@code report=FILE}: the counters as JSON, written when the JVM exits. Events that other shutdown hooks
 * cause after ours ran (a factory closed by the application's hook, say) rewrite the file, so the
 * report holds everything that happened before the JVM halted.
 */
final class Report {

    private final Options options;
    private final File file;
    GuardTransformer transformer; // package-private: tests
    private volatile boolean exiting;

    Report(Options options) {
        this.options = options;
        this.file = new File(expand(options.report));
    }

    /** {@code %p} in the file name is this JVM's process id: one report per JVM when many share the options. */
    static String expand(String path) {
        return path.contains("%p") ? path.replace("%p", pid()) : path;
    }

    private static String pid() {
        try {
            Class<?> handle = Class.forName("java.lang.ProcessHandle"); // JDK 9 and later
            return String.valueOf(handle.getMethod("pid").invoke(handle.getMethod("current").invoke(null)));
        } catch (Throwable jdk8) {
            String name = java.lang.management.ManagementFactory.getRuntimeMXBean().getName(); // "pid@host"
            int at = name.indexOf('@');
            return at > 0 ? name.substring(0, at) : name;
        }
    }

    void attach(GuardTransformer t, LogSink log) {
        this.transformer = t;
        log.afterEvent(() -> {
            if (exiting) {
                write();
            }
        });
        Thread h = new Thread(() -> {
            exiting = true;
            write();
        }, "sessionguard-report");
        Runtime.getRuntime().addShutdownHook(h);
        hook = h;
    }

    /** The shutdown hook of {@link #attach}, until {@link #detach}. */
    private volatile Thread hook;

    /**
     * The agent is detached: the report is written now, as it stands (what was woven, the counters), and not again
     * at exit. Its hook would otherwise write it at exit with nothing woven, racing the hook of an agent attached
     * again with the same report, and keep this installation (its transformer, its weaver) for the life of the JVM.
     */
    void detach() {
        write();
        Thread h = hook;
        hook = null;
        if (h != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(h);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting: the hook runs, and writes what was written here
            }
        }
        transformer = null;
    }

    /** True while the report will be written at exit (for tests). */
    boolean hooked() {
        return hook != null;
    }

    /**
     * Writes the report: into a new file of a name nobody can foresee in the report's directory (a link planted at a
     * predictable name, in a directory others can write, is never followed), then moved over the report. Whatever
     * fails, nothing but that new file is ever removed (the path may have become a directory meanwhile).
     */
    synchronized void write() {
        java.nio.file.Path tmp = null;
        try {
            if (file.isDirectory()) {
                throw new java.io.IOException("it is a directory");
            }
            File dir = file.getAbsoluteFile().getParentFile();
            dir.mkdirs();
            tmp = java.nio.file.Files.createTempFile(dir.toPath(), "." + file.getName() + ".", ".tmp");
            tmp.toFile().setReadable(true, false); // a report, as a file the JVM writes is with the usual umask
            try (Writer w = new OutputStreamWriter(java.nio.file.Files.newOutputStream(tmp), StandardCharsets.UTF_8)) {
                w.write(json());
            }
            try {
                java.nio.file.Files.move(tmp, file.toPath(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                java.nio.file.Files.move(tmp, file.toPath(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (Throwable e) {
            System.err.println("[sessionguard] could not write report " + file + ": " + e);
        } finally {
            if (tmp != null) {
                try {
                    java.nio.file.Files.deleteIfExists(tmp);
                } catch (Throwable ignored) {
                    // left as it is: a file of ours, in the report's directory
                }
            }
        }
    }

    String json() {
        StringBuilder b = new StringBuilder(512);
        b.append("{\n  \"version\": \"").append(Version.get()).append("\",\n");
        b.append("  \"mode\": \"").append(Jmx.modeName(Guard.mode())).append("\",\n");
        b.append("  \"events\": {");
        for (int k = 0; k < Events.KINDS.length; k++) {
            b.append(k == 0 ? "\n    " : ",\n    ").append('"').append(Events.KINDS[k]).append("\": ").append(Guard.count(k));
        }
        b.append("\n  },\n  \"reasons\": {");
        boolean first = true;
        for (int k = 0; k < Events.KINDS.length; k++) {
            for (int r = 0; r < Events.REASONS.length; r++) {
                long n = Guard.count(k, r);
                if (n > 0) {
                    b.append(first ? "\n    " : ",\n    ").append('"').append(Events.KINDS[k]).append('/')
                            .append(Events.REASONS[r]).append("\": ").append(n);
                    first = false;
                }
            }
        }
        b.append(first ? "},\n" : "\n  },\n");
        b.append("  \"stateSize\": ").append(Guard.stateSize()).append(",\n");
        GuardTransformer t = transformer;
        List<String> names = t == null ? new ArrayList<String>() : new ArrayList<>(t.instrumented());
        Collections.sort(names);
        b.append("  \"instrumented\": [");
        for (int i = 0; i < names.size(); i++) {
            b.append(i == 0 ? "\n    " : ",\n    ").append('"').append(names.get(i)).append('"');
        }
        b.append(names.isEmpty() ? "]\n}\n" : "\n  ]\n}\n");
        return b.toString();
    }
}
