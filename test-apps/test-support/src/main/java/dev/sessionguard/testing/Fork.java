package dev.sessionguard.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one scenario in a JVM of its own, as a user runs a service: the built agent jar on the command
 * line ({@code -javaagent}) or not at all. Output, log and report land under target/scenarios/.
 */
public final class Fork {

    public static final Path AGENT_JAR = Paths.get(System.getProperty("sg.agent.jar", "../../agent/target/sessionguard-agent.jar"))
            .toAbsolutePath().normalize();
    public static final Path OUT = Paths.get("target", "scenarios").toAbsolutePath();
    /**
     * The runtime the scenario JVMs run on: {@code sg.java.home} when set (a module of the version matrix
     * that runs on another JDK), else the test JVM's own.
     */
    public static final String JAVA_HOME = System.getProperty("sg.java.home", "").trim().isEmpty()
            ? System.getProperty("java.home") : System.getProperty("sg.java.home").trim();

    /** The major version of {@link #JAVA_HOME}, from its release file ("17", "25"), or "?". */
    public static String javaVersion() {
        try {
            for (String line : Files.readAllLines(Paths.get(JAVA_HOME, "release"), StandardCharsets.UTF_8)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring(line.indexOf('"') + 1);
                    return v.replaceAll("^1\\.", "").split("[.\"]")[0];
                }
            }
        } catch (IOException e) {
            // below
        }
        return "?";
    }

    /** What one run of the agent's command line ({@code java -jar sessionguard-agent.jar ...}) printed. */
    public static final class Cli {
        public final int exit;
        /** Standard output and error, together. */
        public final String out;

        Cli(int exit, String out) {
            this.exit = exit;
            this.out = out;
        }

        @Override
        public String toString() {
            return "exit " + exit + ":\n" + out;
        }
    }

    /** Runs the built agent jar's command line with the test JVM's java, as a user runs it. */
    public static Cli cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(AGENT_JAR.toString());
        java.util.Collections.addAll(cmd, args);
        File out = File.createTempFile("sg-cli", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out).start();
            if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("CLI " + cmd + " did not end within 120 s");
            }
            return new Cli(p.exitValue(), read(out));
        } finally {
            out.delete();
        }
    }

    /** A matrix label: the library version and, when the forks run on another JDK than 17, that JDK. */
    public static String label(String libraryVersion) {
        String jdk = javaVersion();
        return "17".equals(jdk) ? libraryVersion : libraryVersion + " (JDK " + jdk + ")";
    }

    /** What one run printed and reported. */
    public static final class Outcome {
        public final String name;
        public final Map<String, String> result = new LinkedHashMap<>();
        public final Map<String, Long> events = new LinkedHashMap<>();
        public final String stdout;
        public final String stderr;
        public final int exitCode;
        /** The agent's report as written (JSON), or "" when it wrote none. */
        public final String report;

        Outcome(String name, String stdout, String stderr, int exitCode, String report) {
            this.name = name;
            this.stdout = stdout;
            this.stderr = stderr;
            this.exitCode = exitCode;
            this.report = report == null ? "" : report;
            for (String line : stdout.split("\n")) {
                if (line.startsWith("RESULT ")) {
                    int eq = line.indexOf('=');
                    result.put(line.substring(7, eq), line.substring(eq + 1));
                }
            }
            if (report != null) {
                Matcher m = Pattern.compile("\"([a-zA-Z.]+)\": (\\d+)").matcher(report);
                while (m.find()) {
                    events.put(m.group(1), Long.parseLong(m.group(2)));
                }
            }
        }

        public String get(String key) {
            String v = result.get(key);
            if (v == null) {
                throw new AssertionError(name + ": no RESULT " + key + " (exit " + exitCode + ")\nstdout:\n" + stdout
                        + "\nstderr (tail):\n" + tail(stderr));
            }
            return v;
        }

        public long event(String kind) {
            return events.getOrDefault(kind, 0L);
        }

        /**
         * Broken or duplicate classes (VerifyError, LinkageError and kin), and any class SessionGuard left
         * uninstrumented, in the run's output: beside another agent, the list must be empty.
         */
        public List<String> brokenOrUninstrumented() {
            List<String> lines = new ArrayList<>();
            for (String line : (stdout + "\n" + stderr).split("\n")) {
                if (line.contains("VerifyError") || line.contains("LinkageError") || line.contains("ClassFormatError")
                        || line.contains("IncompatibleClassChangeError") || line.contains("uninstrumented")) {
                    lines.add(line);
                }
            }
            return lines;
        }

        /**
         * Log lines the agent wrote at WARN or above (JUL prints "WARNING:", SLF4J simple prints "WARN sessionguard",
         * the agent's own lines during premain go to stderr as "[sessionguard] WARN").
         */
        public List<String> agentWarnings() {
            List<String> lines = new ArrayList<>();
            for (String line : stderr.split("\n")) {
                if ((line.startsWith("WARNING: [sessionguard]") || line.startsWith("SEVERE: [sessionguard]")
                        || line.startsWith("[sessionguard] WARN ") || line.startsWith("[sessionguard] ERROR ")
                        || line.contains("WARN sessionguard") || line.contains("ERROR sessionguard"))) {
                    lines.add(line);
                }
            }
            return lines;
        }

        @Override
        public String toString() {
            return name + " " + result + (events.isEmpty() ? "" : " events=" + nonZero(events));
        }
    }

    private static Map<String, Long> nonZero(Map<String, Long> m) {
        Map<String, Long> r = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (v > 0) {
                r.put(k, v);
            }
        });
        return r;
    }

    public static String tail(String s) {
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    /** Runs {@code mainClass scenario db} on this module's class path with the test JVM's java. */
    public static Outcome run(String mainClass, String scenario, String db, boolean agent, String agentOptions)
            throws IOException, InterruptedException {
        return run(JAVA_HOME, classpath(), mainClass, new String[] {scenario, db}, agent, agentOptions);
    }

    /** Runs {@code mainClass args...} on {@code classpath} with the java of {@code javaHome}. */
    public static Outcome run(String javaHome, String classpath, String mainClass, String[] args, boolean agent,
                              String agentOptions) throws IOException, InterruptedException {
        return run(javaHome, classpath, mainClass, args, agent, agentOptions, java.util.Collections.<String>emptyList(),
                java.util.Collections.<String>emptyList());
    }

    /**
     * Runs {@code mainClass args...} with JVM options before and after SessionGuard's {@code -javaagent}
     * (another agent first or last on the command line, as its users put it).
     */
    public static Outcome run(String javaHome, String classpath, String mainClass, String[] args, boolean agent,
                              String agentOptions, List<String> jvmBefore, List<String> jvmAfter)
            throws IOException, InterruptedException {
        String extra = jvmBefore.isEmpty() && jvmAfter.isEmpty() ? ""
                : "-" + Integer.toHexString((jvmBefore + "|" + jvmAfter).hashCode());
        String name = String.join("-", args) + "-" + Paths.get(javaHome).getFileName() + "-" + Integer.toHexString(classpath.hashCode()) + "-" + (agent ? "agent" + agentOptions.replaceAll("[^a-z]", "-") : "plain") + extra;
        Path dir = OUT.resolve(name);
        deleteRecursively(dir);
        Files.createDirectories(dir);
        Path report = dir.resolve("report.json");
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(javaHome, "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(jvmBefore);
        if (agent) {
            String opts = "report=" + report + (agentOptions.isEmpty() ? "" : "," + agentOptions);
            cmd.add("-javaagent:" + AGENT_JAR + "=" + opts);
        }
        cmd.addAll(jvmAfter);
        cmd.add("-Dsg.dir=" + dir.resolve("h2"));
        cmd.add("-Dsg.pg.url=" + Databases.postgresUrl());
        cmd.add("-Dsg.pg.user=" + Databases.postgresUser());
        cmd.add("-Dsg.pg.password=" + Databases.postgresPassword());
        cmd.add("-Dsg.mariadb.url=" + Databases.mariadbUrl());
        cmd.add("-Dsg.mariadb.user=" + Databases.mariadbUser());
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        java.util.Collections.addAll(cmd, args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        File out = dir.resolve("stdout.txt").toFile();
        File err = dir.resolve("stderr.txt").toFile();
        pb.redirectOutput(out);
        pb.redirectError(err);
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(name + " did not finish in 180 s; see " + dir);
        }
        String reportText = Files.exists(report) ? new String(Files.readAllBytes(report), StandardCharsets.UTF_8) : null;
        Outcome o = new Outcome(name, read(out), read(err), p.exitValue(), reportText);
        if (agent && reportText == null && !agentOptions.contains("mode=off")) {
            throw new AssertionError(name + ": the agent wrote no report\n" + tail(o.stderr));
        }
        return o;
    }

    /** target/classes and the runtime class path the build wrote to target/classpath.txt. */
    public static String classpath() throws IOException {
        String deps = new String(Files.readAllBytes(Paths.get("target", "classpath.txt")), StandardCharsets.UTF_8).trim();
        return Paths.get("target", "classes").toAbsolutePath() + File.pathSeparator + deps;
    }

    private static String read(File f) throws IOException {
        return new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8);
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        }
    }
}
