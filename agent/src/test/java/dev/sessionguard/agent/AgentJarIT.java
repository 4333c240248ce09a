package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.File;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;
import org.junit.jupiter.api.Test;

/** The built jar, as a user gets it: its manifest, its contents, and a JVM started with it. */
class AgentJarIT {

    /** The classes compiled for JDK 9 (agent/src/main/java9, java9-internal), used there only. */
    private static final java.util.Set<String> JDK9_CLASSES = new java.util.TreeSet<>(java.util.Arrays.asList(
            "dev/sessionguard/agent/ModuleReads.class", "dev/sessionguard/agent/ModuleSupport9.class",
            "dev/sessionguard/agent/BootDefiner9.class", "dev/sessionguard/agent/ArchiveDump9.class"));


    static final Path JAR = Paths.get("target", "sessionguard-agent.jar").toAbsolutePath();

    @Test
    void manifestNamesEveryEntryPoint() throws Exception {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            Attributes a = jar.getManifest().getMainAttributes();
            assertEquals("dev.sessionguard.agent.SessionGuardAgent", a.getValue("Premain-Class"));
            assertEquals("dev.sessionguard.agent.SessionGuardAgent", a.getValue("Agent-Class"));
            assertEquals("dev.sessionguard.agent.Cli", a.getValue("Main-Class"));
            assertEquals("true", a.getValue("Can-Retransform-Classes"));
        }
    }

    @Test
    void everyClassIsJava8AndNothingClashesWithTheApplication() throws Exception {
        List<String> foreign = new ArrayList<>();
        List<String> tooNew = new ArrayList<>();
        int classes = 0;
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (JarEntry e : Collections.list(jar.entries())) {
                String n = e.getName();
                if (n.endsWith(".class") || n.startsWith("net/") || n.startsWith("org/")) {
                    if (!n.startsWith("dev/sessionguard/") && !n.startsWith("META-INF/")) {
                        foreign.add(n);
                    }
                }
                if (n.endsWith(".class")) {
                    classes++;
                    try (InputStream in = jar.getInputStream(e); DataInputStream d = new DataInputStream(in)) {
                        d.readInt();
                        d.readUnsignedShort();
                        int major = d.readUnsignedShort();
                        // the JDK 9+ classes (java.lang.Module, jdk.internal.misc.Unsafe): Java 9 bytecode, loaded on JDK 9+
                        // only, by name (ModuleSupport#get, BootstrapClasses#define) or from ModuleSupport9
                        if (major > 52 && !(JDK9_CLASSES.contains(n) && major == 53)) {
                            tooNew.add(n + " (" + major + ")");
                        }
                    }
                }
            }
        }
        assertTrue(classes > 1000, "Byte Buddy is inside, relocated: " + classes + " classes");
        assertEquals(Collections.emptyList(), foreign, "only dev/sessionguard/** classes");
        assertEquals(Collections.emptyList(), tooNew, "Java 8 bytecode (major 52) only, but for the JDK 9+ classes " + JDK9_CLASSES);
    }

    @Test
    void helpAndVersion() throws Exception {
        Result help = java("-jar", JAR.toString(), "--help");
        assertEquals(0, help.exit);
        assertTrue(help.out.contains("mode=protect|observe|off"), help.out);
        for (String command : new String[] {"attach <pid>", "status <pid>", "mode <pid>", "detach <pid>", "list", "scan <jar|war|dir>", "jmx=on|off", "cache=off|DIR",
            "hiddenCommit=log|throw", "shipped=on|off", "silentRollback=log|throw", "report=FILE"}) {
            assertTrue(help.out.contains("  " + command), command + " in --help: " + help.out);
        }
        Result usage = java("-jar", JAR.toString(), "status");
        assertEquals(2, usage.exit, usage.err);
        assertTrue(usage.err.contains("usage: status <pid>"), usage.err);
        Result notAPid = java("-jar", JAR.toString(), "status", "nope");
        assertEquals(1, notAPid.exit, notAPid.err);
        assertTrue(notAPid.err.contains("'nope' is not a process id"), notAPid.err);
        Result version = java("-jar", JAR.toString(), "--version");
        assertEquals(0, version.exit);
        assertTrue(version.out.startsWith("SessionGuard "), version.out);
    }

    @Test
    void aBadOptionIsOneLineAndTheApplicationStillStarts() throws Exception {
        Result r = java("-javaagent:" + JAR + "=mode=bogus", "-version");
        assertEquals(0, r.exit);
        List<String> lines = agentLines(r.err);
        assertEquals(1, lines.size(), r.err);
        assertTrue(lines.get(0).contains("mode=bogus") && lines.get(0).contains("protect, observe, off"), lines.get(0));
        assertTrue(r.err.contains("version \""), "the JVM ran: " + r.err);

        Result unknown = java("-javaagent:" + JAR + "=colour=blue", "-version");
        assertEquals(0, unknown.exit);
        assertTrue(agentLines(unknown.err).get(0).contains("unknown option 'colour'"), unknown.err);

        Result jmx = java("-javaagent:" + JAR + "=jmx=maybe", "-version");
        assertEquals(0, jmx.exit);
        assertTrue(agentLines(jmx.err).get(0).contains("jmx=maybe: jmx must be one of on, off"), jmx.err);

        Result property = java("-Dsessionguard.shield=maybe", "-javaagent:" + JAR, "-version");
        assertEquals(0, property.exit);
        assertTrue(agentLines(property.err).get(0).contains("shield=maybe: shield must be one of on, off"), property.err);
    }

    @Test
    void loadedTwiceInstallsOnce() throws Exception {
        Path report = Files.createTempFile("sessionguard-twice", ".json");
        Result r = java("-javaagent:" + JAR + "=log=info,report=" + report, "-javaagent:" + JAR + "=log=info", "-version");
        assertEquals(0, r.exit);
        long started = r.err.lines().filter(l -> l.contains("[sessionguard] SessionGuard") && l.contains("started")).count();
        assertEquals(1, started, r.err);
        assertTrue(r.err.contains("already installed"), r.err);
    }

    @Test
    void reportPerProcessWithPercentP() throws Exception {
        Path dir = Files.createTempDirectory("sg-reports");
        for (int i = 0; i < 2; i++) {
            Result r = java("-javaagent:" + JAR + "=report=" + dir.resolve("sg-%p.json"), "-version");
            assertEquals(0, r.exit, r.err);
        }
        List<String> names = new ArrayList<>();
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> names.add(f.getFileName().toString()));
        }
        assertEquals(2, names.size(), "one report per JVM: " + names);
        for (String n : names) {
            assertTrue(n.matches("sg-[0-9]+\\.json"), n);
        }
    }

    @Test
    void attachesToARunningJvm() throws Exception {
        File err = File.createTempFile("sg-target", ".txt");
        Process target = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", Paths.get("target", "test-classes").toAbsolutePath().toString(), WaitingApp.class.getName())
                .redirectError(err).start();
        try {
            String pid = new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Result attach = java("-jar", JAR.toString(), "attach", pid, "log=info");
            assertEquals(0, attach.exit, attach.err);
            assertTrue(attach.out.contains("SessionGuard attached to " + pid), attach.out);
            Result again = java("-jar", JAR.toString(), "attach", pid, "log=info");
            assertEquals(0, again.exit, again.err);
            assertTrue(again.out.contains("already running"), again.out);
            Result badAgain = java("-jar", JAR.toString(), "attach", pid, "colour=red");
            assertEquals(2, badAgain.exit, badAgain.out + badAgain.err);
            assertTrue(badAgain.err.contains("unknown option 'colour'"), "refused by the CLI, not sent: " + badAgain.err);
            // the CLI loads nothing into a JVM that runs the agent; loaded again by other means (jcmd, its option bad), it
            // installs once and says nothing of the option
            Process jcmd = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "jcmd").toString(), pid,
                    "JVMTI.agent_load", JAR.toAbsolutePath().toString(), "colour").redirectErrorStream(true).start();
            assertTrue(jcmd.waitFor(60, TimeUnit.SECONDS), "jcmd");
            target.getOutputStream().write('\n');
            target.getOutputStream().flush();
            assertTrue(target.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, target.exitValue());
            String log = new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8);
            assertTrue(log.contains("[sessionguard] SessionGuard ") && log.contains(" attached ("), log);
            assertTrue(log.contains("already installed"), "loaded twice, installed once: " + log);
            assertEquals(1, log.split("already installed", -1).length - 1, "the CLI's second attach loaded nothing: " + log);
            assertTrue(!log.contains("is off"), "a copy loaded again with a bad option does not say the agent is off: " + log);
        } finally {
            target.destroyForcibly();
            err.delete();
        }
    }

    /**
     * A JVM keeps the agent classes (and helper classes) it loaded first: after a detach, attaching a jar of
     * another build runs the first build again, since the agent class is found through the system class
     * loader, where the first jar comes first. attach says so instead of letting the user believe the new
     * build runs; the helper classes and the agent stay of one build.
     */
    @Test
    void attachingAnotherBuildAfterDetachSaysTheFirstBuildRuns(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // another build: the same jar with one helper class changed (the name of its source file), still a valid class
        Path other = dir.resolve("other-build.jar");
        try (JarFile in = new JarFile(JAR.toFile());
             java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(other), in.getManifest())) {
            for (JarEntry e : Collections.list(in.entries())) {
                if (e.getName().equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                byte[] b;
                try (InputStream is = in.getInputStream(e)) {
                    b = is.readAllBytes();
                }
                if (e.getName().equals("dev/sessionguard/bootstrap/Events.class")) {
                    String text = new String(b, StandardCharsets.ISO_8859_1);
                    assertTrue(text.contains("Events.java"), "the class names its source file");
                    b = text.replace("Events.java", "Eventz.java").getBytes(StandardCharsets.ISO_8859_1);
                }
                out.putNextEntry(new JarEntry(e.getName()));
                out.write(b);
                out.closeEntry();
            }
        }
        File err = File.createTempFile("sg-target", ".txt");
        Process target = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + other + "=log=info", "-cp", Paths.get("target", "test-classes").toAbsolutePath().toString(), WaitingApp.class.getName())
                .redirectError(err).start();
        try {
            String pid = new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Result detach = java("-jar", JAR.toString(), "detach", pid);
            assertEquals(0, detach.exit, detach.out + detach.err);
            Result attach = java("-jar", JAR.toString(), "attach", pid, "log=info");
            assertEquals(0, attach.exit, attach.out + attach.err);
            assertTrue(attach.out.contains("keeps the SessionGuard build it loaded first"), attach.out);
            target.getOutputStream().write('\n');
            target.getOutputStream().flush();
            assertTrue(target.waitFor(30, TimeUnit.SECONDS));
            String log = new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8);
            assertTrue(log.contains("helper classes already in this JVM"), "the first build runs again, with its own helpers: " + log);
            assertFalse(log.contains("helper classes of another SessionGuard build"), log);
        } finally {
            target.destroyForcibly();
            err.delete();
        }
    }

    /**
     * JDK 21+ logs a warning for an agent loaded at run time unless the JVM was started with
     * -XX:+EnableDynamicAgentLoading: attach says so, in one line, before it attaches; with the flag it
     * says nothing and the JVM prints no warning.
     */
    @Test
    void attachToJdk25SaysItWillWarn() throws Exception {
        Path jdk25 = Paths.get(System.getProperty("sg.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(jdk25), "no JDK 25 at " + jdk25);
        for (boolean flag : new boolean[] {false, true}) {
            File err = File.createTempFile("sg-target", ".txt");
            List<String> cmd = new ArrayList<>();
            cmd.add(jdk25.toString());
            if (flag) {
                cmd.add("-XX:+EnableDynamicAgentLoading");
            }
            cmd.addAll(java.util.Arrays.asList("-cp", Paths.get("target", "test-classes").toAbsolutePath().toString(), WaitingApp.class.getName()));
            Process target = new ProcessBuilder(cmd).redirectError(err).start();
            try {
                String pid = new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8)).readLine();
                Result attach = java("-jar", JAR.toString(), "attach", pid);
                assertEquals(0, attach.exit, attach.err);
                assertTrue(attach.out.contains("SessionGuard attached to " + pid), attach.out);
                boolean noted = attach.out.contains("-XX:+EnableDynamicAgentLoading");
                target.getOutputStream().write('\n');
                target.getOutputStream().flush();
                assertTrue(target.waitFor(30, TimeUnit.SECONDS));
                String log = new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8);
                boolean warned = log.contains("A Java agent has been loaded dynamically");
                assertEquals(!flag, warned, "the JVM warns without the flag only: " + log);
                assertEquals(!flag, noted, "attach says so exactly when the JVM will warn: " + attach.out);
                assertEquals(1, attach.out.lines().filter(l -> l.contains("EnableDynamicAgentLoading")).count() + (flag ? 1 : 0), attach.out);
            } finally {
                target.destroyForcibly();
                err.delete();
            }
        }
    }

    /**
     * The helper classes are defined in the bootstrap loader, not appended to its search path: HotSpot
     * prints no warning, and every class an AppCDS archive gives the application without the agent (its
     * own classes included) it gives with the agent too. With the appended jar the application's classes
     * were no longer shared and every JVM printed "Sharing is only supported for boot loader classes".
     */
    @Test
    void noJvmWarningAndAppCdsKeepsItsClasses() throws Exception {
        Path dir = Files.createTempDirectory("sg-cds");
        Path archive = dir.resolve("app.jsa");
        // AppCDS archives classes from jars only
        Path appJar = dir.resolve("app.jar");
        jarOfTestClasses(appJar, new java.util.jar.Manifest(), CdsApp.class.getName(), CdsApp.class.getName() + "$Part");
        String cp = appJar.toString();
        Result dump = java("-XX:ArchiveClassesAtExit=" + archive, "-cp", cp, CdsApp.class.getName());
        assertEquals(0, dump.exit, dump.err);
        assertTrue(Files.isRegularFile(archive), "archive written: " + dump.err + dump.out);
        Result plain = java("-XX:SharedArchiveFile=" + archive, "-Xlog:class+load=info", "-cp", cp, CdsApp.class.getName());
        Result agent = java("-javaagent:" + JAR, "-XX:SharedArchiveFile=" + archive, "-Xlog:class+load=info", "-cp", cp, CdsApp.class.getName());
        assertEquals(0, plain.exit, plain.err);
        assertEquals(0, agent.exit, agent.err);
        java.util.Set<String> sharedWithout = shared(plain.out);
        java.util.Set<String> sharedWith = shared(agent.out);
        assertTrue(sharedWithout.contains(CdsApp.class.getName() + "$Part"), "the app's classes come from the archive: " + sharedWithout.size());
        java.util.Set<String> lost = new java.util.TreeSet<>(sharedWithout);
        lost.removeAll(sharedWith);
        assertEquals(Collections.emptySet(), lost, "classes shared without the agent and not with it");
        assertFalse(agent.err.toLowerCase(java.util.Locale.ROOT).contains("warning") || agent.out.contains("VM warning"), agent.err);

        for (String home : new String[] {System.getProperty("java.home"), "/usr/lib/jvm/temurin-25-jdk-amd64"}) {
            if (!Files.isDirectory(Paths.get(home))) {
                continue;
            }
            Result r = javaOf(home, "-javaagent:" + JAR + "=log=info", "-version");
            assertEquals(0, r.exit, r.err);
            assertFalse(r.err.contains("VM warning"), home + ": " + r.err);
            assertTrue(r.err.contains("helper classes defined in the bootstrap class loader"), home + ": " + r.err);
        }
    }

    /**
     * #14: premain makes no reflective call on JDK 9 and later. From JDK 18 on, Method.invoke runs through method
     * handles, and each new shape of call spins LambdaForm and Species classes at run time (about 30 of them and
     * 50 ms on JDK 25 before ModuleSupport9 and BootDefiner9). Counted from the class loading log of
     * {@code java -version}, against an agent whose premain does nothing: the JDK's own start of any agent spins
     * some; SessionGuard's premain may add the few of redefineModule's own lambdas, not one per call.
     */
    @Test
    void premainSpinsNoMethodHandleClassesForReflection(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path noop = dir.resolve("noop-agent.jar");
        java.util.jar.Manifest mf = new java.util.jar.Manifest();
        mf.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Premain-Class", NoopAgent.class.getName());
        jarOfTestClasses(noop, mf, NoopAgent.class.getName());
        for (String home : new String[] {System.getProperty("java.home"), "/usr/lib/jvm/temurin-25-jdk-amd64"}) {
            if (!Files.isDirectory(Paths.get(home))) {
                continue;
            }
            Result with = javaOf(home, "-javaagent:" + JAR, "-Xlog:class+load=info", "-version");
            Result without = javaOf(home, "-javaagent:" + noop, "-Xlog:class+load=info", "-version");
            assertEquals(0, with.exit, with.err);
            assertEquals(0, without.exit, without.err);
            List<String> spunWith = spun(with.out);
            List<String> spunWithout = spun(without.out);
            assertTrue(spunWith.size() <= spunWithout.size() + 3, home + ": " + spunWith.size() + " classes spun with the agent, "
                    + spunWithout.size() + " with a no-op agent: " + spunWith);
        }
    }

    /**
     * #14: a JVM that never loads Hibernate or a JDBC class pays for premain only. The interrupt shield's deadline
     * thread (a ScheduledThreadPoolExecutor, about 35 classes of java.util.concurrent and a thread) starts when the
     * shield is armed, after the first library class; premain started it before (3 ms of `java -version` here).
     */
    @Test
    void premainStartsNoDeadlineThread() throws Exception {
        Result r = java("-javaagent:" + JAR, "-Xlog:class+load=info", "-version");
        assertEquals(0, r.exit, r.err);
        assertTrue(r.out.contains("dev.sessionguard.bootstrap.InterruptShield "), "the agent did not start: " + r.err);
        assertFalse(r.out.contains("java.util.concurrent.ScheduledThreadPoolExecutor "),
                "premain created the deadline executor in a JVM without a library class");
    }

    /**
     * #14: a JDK 24+ AOT cache (JEP 483/514) trained with the agent on the command line, as a service's start script
     * has it. The agent stays off in the training run and in the assembly, with one line, and the cache is written;
     * a JVM started from the cache with the agent runs guarded (H2's rollback after close is swallowed) with the
     * application's classes from the cache, and without Byte Buddy (the shipped woven class for the H2 version). Before, the training JVM crashed writing the cache (SIGSEGV in
     * SystemDictionaryShared::serialize_vm_classes, after java.lang.Thread was retransformed for the interrupt shield).
     */
    @Test
    void aotCacheTrainedWithTheAgent(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String jdk25 = System.getProperty("sg.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Paths.get(jdk25, "bin", "java")), "no JDK 25 at " + jdk25);
        Path app = dir.resolve("app.jar");
        jarOfTestClasses(app, new java.util.jar.Manifest(), AotApp.class.getName());
        Path h2 = h2Jar();
        String cp = app + File.pathSeparator + h2;
        Path cache = dir.resolve("app.aot");
        String errorFile = "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log");
        Result train = javaOf(jdk25, errorFile, "-XX:AOTCacheOutput=" + cache, "-javaagent:" + JAR, "-cp", cp, AotApp.class.getName());
        assertEquals(0, train.exit, "the training run ends normally: " + train.out + train.err);
        assertTrue(Files.isRegularFile(cache), "cache written: " + train.out + train.err);
        assertEquals(1, train.err.split(java.util.regex.Pattern.quote(SessionGuardAgent.ARCHIVE_LINE), -1).length - 1,
                "one line, from the training run: " + train.err);
        assertTrue(train.out.contains("rollback after close: org.h2"), "the training run is not guarded: " + train.out);

        Result run = javaOf(jdk25, errorFile, "-XX:AOTCache=" + cache, "-Xlog:class+load=info", "-javaagent:" + JAR, "-cp", cp, AotApp.class.getName());
        assertEquals(0, run.exit, run.err);
        assertTrue(run.out.contains("rollback after close: returned"), "guarded: " + run.err);
        assertTrue(run.out.contains(AotApp.class.getName() + " source: shared objects file"), "the cache is used: " + run.err);
        // the cache loaded and linked H2's JdbcConnection before premain, and the agent retransformed it: with the
        // woven class the build shipped for this H2 version, found by the class's own class file, not by Byte Buddy
        assertTrue(run.out.contains("org.h2.jdbc.JdbcConnection source: __VM_RedefineClasses__"), "retransformed");
        assertFalse(run.out.contains("dev.sessionguard.shaded.bytebuddy.asm.Advice "), "woven by Byte Buddy at run time");
        assertFalse(run.err.contains(SessionGuardAgent.ARCHIVE_LINE), run.err);
    }

    /**
     * A class loaded before an attach is retransformed, and the JVM hands the agent a class file it rebuilt from the
     * loaded class, not the jar's: the agent finds the woven class the build shipped for that version by the class's
     * own class file (same shape), and Byte Buddy does not weave at run time. Before d8380d2 every such class missed
     * the shipped lookup and Byte Buddy wove it.
     */
    @Test
    void attachUsesTheShippedWovenClassForAClassLoadedBefore(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path h2 = h2Jar();
        Path classLog = dir.resolve("class-load.log");
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(java.util.Arrays.asList("-Xlog:class+load=info:file=" + classLog, "-cp",
                Paths.get("target", "test-classes").toAbsolutePath() + File.pathSeparator + h2, AttachH2App.class.getName()));
        File err = dir.resolve("err.txt").toFile();
        Process target = new ProcessBuilder(cmd).redirectError(err).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
            String pid = out.readLine();
            Result attach = java("-jar", JAR.toString(), "attach", pid);
            assertEquals(0, attach.exit, attach.err);
            target.getOutputStream().write('\n');
            target.getOutputStream().flush();
            String result = out.readLine();
            assertTrue(target.waitFor(30, TimeUnit.SECONDS));
            String log = new String(Files.readAllBytes(classLog), StandardCharsets.UTF_8);
            assertEquals("rollback after close: returned", result, "guarded after the attach");
            assertTrue(log.contains("org.h2.jdbc.JdbcConnection source: __VM_RedefineClasses__"), "retransformed");
            assertFalse(log.contains("dev.sessionguard.shaded.bytebuddy.asm.Advice "), "woven by Byte Buddy at run time");
        } finally {
            target.destroyForcibly();
        }
    }

    /** The H2 jar the build copied to target/test-libs (agent/pom.xml, execution test-libs). */
    private static Path h2Jar() throws Exception {
        try (java.util.stream.Stream<Path> libs = Files.list(Paths.get("target", "test-libs"))) {
            return libs.filter(p -> p.getFileName().toString().startsWith("h2-")).findFirst().get().toAbsolutePath();
        }
    }

    /** Writes {@code jar} with {@code manifest} and the named classes of this module's target/test-classes. */
    private static void jarOfTestClasses(Path jar, java.util.jar.Manifest manifest, String... classNames) throws Exception {
        try (java.util.jar.JarOutputStream o = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (String c : classNames) {
                String entry = c.replace('.', '/') + ".class";
                o.putNextEntry(new JarEntry(entry));
                o.write(Files.readAllBytes(Paths.get("target", "test-classes").resolve(entry)));
                o.closeEntry();
            }
        }
    }

    /** The method-handle classes a class loading log shows spun at run time. */
    private static List<String> spun(String classLoadLog) {
        List<String> names = new ArrayList<>();
        for (String line : classLoadLog.split("\n")) {
            if (line.contains("__JVM_LookupDefineClass__") && (line.contains("LambdaForm$") || line.contains("$Species_"))) {
                names.add(line.substring(line.indexOf("] ") + 2, line.indexOf(" source:")));
            }
        }
        return names;
    }

    /**
     * #12 hole 5: a class loader that loaded a woven library and SLF4J (a webapp) is collected after it is
     * dropped, with the agent as without it, after the agent logged an event through that SLF4J.
     */
    @Test
    void aDroppedClassLoaderIsCollected() throws Exception {
        String cp = Paths.get("target", "test-classes").toString();
        String libs = Paths.get("target", "test-libs").toAbsolutePath().toString();
        Result plain = java("-cp", cp, LeakApp.class.getName(), libs);
        Result agent = java("-javaagent:" + JAR, "-cp", cp, LeakApp.class.getName(), libs);
        assertEquals(0, plain.exit, plain.err);
        assertEquals(0, agent.exit, agent.err);
        assertTrue(plain.out.contains("collected=true"), "without the agent: " + plain.out + plain.err);
        assertTrue(agent.out.contains("rollback after close: returned"), agent.out + agent.err);
        assertTrue(agent.err.contains("WARN sessionguard - rollback.swallowed"), "logged through the loader's SLF4J: " + agent.err);
        assertTrue(agent.out.contains("collected=true"), "with the agent: " + agent.out + agent.err);
    }

    /**
     * #12 hole 5, after a switch from observe to protect (JMX's setMode): the interrupt shield's deadline thread is
     * not made by the first thread whose interrupt is held back, which would hand it that thread's inheritable
     * thread-locals (a logging MDC holding a webapp's class loader) for the life of the JVM. On 2a2a60a's jar the
     * request thread made it, and the dropped webapp's class loader was never collected.
     */
    @Test
    void aModeSwitchDoesNotLetARequestThreadMakeTheDeadlineThread() throws Exception {
        webappCollectedAfterAHeldBackInterrupt("mode=observe,log=info");
    }

    /** {@link ModeSwitchLeakApp} with the agent's {@code options} and the app's {@code mode}: the webapp is collected. */
    private void webappCollectedAfterAHeldBackInterrupt(String options, String... mode) throws Exception {
        // shieldMaxMs long: the held-back interrupt is delivered when commit() returns, not by the deadline on a slow machine
        List<String> command = new ArrayList<>(Arrays.asList("-javaagent:" + JAR + "=" + options + ",shieldMaxMs=600000", "-cp", Paths.get("target", "test-classes").toString(),
                ModeSwitchLeakApp.class.getName(), Paths.get("target", "test-libs").toAbsolutePath().toString()));
        command.addAll(Arrays.asList(mode));
        Result agent = java(command.toArray(new String[0]));
        assertEquals(0, agent.exit, agent.err);
        assertTrue(agent.out.contains("interrupt set again after commit: true"), "the interrupt was held back and set again: " + agent.out + agent.err);
        assertTrue(agent.err.contains("interrupt of request-1 held back"), "held back: " + agent.err);
        assertTrue(agent.out.contains("collected=true"), "the webapp's class loader was collected: " + agent.out + agent.err);
    }

    /**
     * #12 hole 5: the agent's threads (sessionguard-init, which arms the shield, and the deadline thread it starts) do
     * not inherit the thread-locals of the application thread that loads the first library class. On 07cf374's jar
     * sessionguard-init was made by that thread and handed its inheritable thread-locals on to the deadline thread,
     * which kept a webapp's class loader for the life of the JVM.
     */
    @Test
    void theAgentsThreadsDoNotInheritTheFirstLoadingThreadsLocals() throws Exception {
        webappCollectedAfterAHeldBackInterrupt("log=info", "first-load");
    }

    /**
     * #13: JBoss Modules (the class loaders of WildFly 26.1.3 and of WildFly 35 to 39) does not delegate unknown
     * packages to the bootstrap class loader. With -javaagent the agent adds its helper package to
     * jboss.modules.system.pkgs itself (also when standalone.conf set it to org.jboss.byteman), and H2 inside a
     * module is guarded; attached to a running JBoss Modules, it cannot, and says so at WARN, leaving the
     * module's classes alone. The agent of a84edc0 wove H2 there and ran it unguarded, in silence.
     */
    @Test
    void jbossModules(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path module = dir.resolve("modules/test/app/main");
        Files.createDirectories(module);
        jarOfTestClasses(module.resolve("app.jar"), new java.util.jar.Manifest(), JBossApp.class.getName());
        Files.copy(h2Jar(), module.resolve("h2.jar"));
        Files.write(module.resolve("module.xml"), ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<module xmlns=\"urn:jboss:module:1.9\" name=\"test.app\">\n"
                + "  <main-class name=\"dev.sessionguard.agent.JBossApp\"/>\n"
                + "  <resources><resource-root path=\"app.jar\"/><resource-root path=\"h2.jar\"/></resources>\n"
                + "  <dependencies><module name=\"java.sql\"/><module name=\"java.logging\"/></dependencies>\n"
                + "</module>\n").getBytes(StandardCharsets.UTF_8));
        String modules = dir.resolve("modules").toString();
        for (String version : new String[] {"2.0.2.Final", "2.1.6.Final"}) {
            String jbossModules = Paths.get("target", "jboss-modules", "jboss-modules-" + version + ".jar").toAbsolutePath().toString();
            Result plain = java("-jar", jbossModules, "-mp", modules, "test.app");
            assertTrue(plain.out.contains("rollback after close: org.h2.jdbc.JdbcSQLNonTransientException"), version + ": " + plain.out + plain.err);
            assertTrue(plain.out.contains("loaded by: ModuleClassLoader"), version + ": " + plain.out);
            Result agent = java("-javaagent:" + JAR, "-jar", jbossModules, "-mp", modules, "test.app");
            assertTrue(agent.out.contains("rollback after close: returned"), version + ", -javaagent: " + agent.out + agent.err);
            Result byteman = java("-Djboss.modules.system.pkgs=org.jboss.byteman", "-javaagent:" + JAR + "=log=info", "-jar", jbossModules, "-mp", modules, "test.app");
            assertTrue(byteman.out.contains("rollback after close: returned"), version + ", standalone.conf's property: " + byteman.out + byteman.err);
            assertTrue(byteman.err.contains("jboss.modules.system.pkgs=org.jboss.byteman,dev.sessionguard.bootstrap"), byteman.err);

            File err = File.createTempFile("sg-jboss", ".txt");
            Process target = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", jbossModules, "-mp", modules, "test.app", "wait").redirectError(err).start();
            try {
                java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
                String pid = out.readLine();
                Result attach = java("-jar", JAR.toString(), "attach", pid);
                assertEquals(0, attach.exit, attach.err);
                target.getOutputStream().write('\n');
                target.getOutputStream().flush();
                String rest = out.readLine();
                assertTrue(target.waitFor(30, TimeUnit.SECONDS));
                String log = new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8);
                assertTrue(rest.startsWith("rollback after close: org.h2.jdbc"), "left alone, as without the agent: " + rest);
                assertTrue(log.contains("left the classes of ModuleClassLoader for Module \"test.app\"") && log.contains("uninstrumented")
                        && log.contains("JBoss Modules reads -Djboss.modules.system.pkgs once"), "said at WARN, with the option: " + log);
            } finally {
                target.destroyForcibly();
                err.delete();
            }
        }
    }

    private static java.util.Set<String> shared(String classLoadLog) {
        java.util.Set<String> s = new java.util.TreeSet<>();
        for (String l : classLoadLog.split("\n")) {
            if (l.contains("source: shared objects file")) {
                String[] parts = l.substring(l.indexOf(']', l.indexOf("[class,load")) + 1).trim().split(" ");
                s.add(parts[0]);
            }
        }
        return s;
    }

    private static List<String> agentLines(String err) {
        List<String> lines = new ArrayList<>();
        for (String l : err.split("\n")) {
            if (l.startsWith("[sessionguard]")) {
                lines.add(l);
            }
        }
        return lines;
    }

    /**
     * A Connection class the agent cannot weave (its commit() is 65,500 bytes long: any advice passes the JVM's
     * 65,535-byte limit per method) is named at WARN once, with the reason, left as it is, and the application
     * runs on, as it does without the agent.
     */
    @Test
    void aConnectionThatCannotBeWovenIsNamedOnceAndRunsOn(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path cls = dir.resolve("HugeConnection.class");
        writeHugeConnection(cls);
        String cp = Paths.get("target", "test-classes").toString();
        Result plain = java("-cp", cp, HugeConnectionApp.class.getName(), cls.toString());
        Result agent = java("-javaagent:" + JAR, "-cp", cp, HugeConnectionApp.class.getName(), cls.toString());
        assertEquals(0, plain.exit, plain.err);
        assertTrue(plain.out.contains("commits=3 rollback and close returned"), plain.out + plain.err);
        assertEquals(0, agent.exit, agent.err);
        assertTrue(agent.out.contains("commits=3 rollback and close returned"), "the application runs on: " + agent.out + agent.err);
        long named = agent.err.lines().filter(l -> l.contains("left " + HugeConnectionApp.NAME + " uninstrumented")).count();
        assertEquals(1, named, "one WARN names the class: " + agent.err);
        assertTrue(agent.err.contains("Method too large"), "the WARN says why: " + agent.err);
    }

    /**
     * Writes the class: a public no-argument constructor, an int field {@code commits}; {@code commit()} adds one
     * to a local 21,829 times (one {@code iinc} each, 3 bytes) and then one to the field; {@code rollback()} and
     * {@code close()} return; every other method of {@link Connection} throws UnsupportedOperationException.
     */
    private static void writeHugeConnection(Path file) throws Exception {
        String internal = HugeConnectionApp.NAME.replace('.', '/');
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V1_8, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, internal, null, "java/lang/Object",
                new String[] {Type.getInternalName(Connection.class)});
        cw.visitField(Opcodes.ACC_PUBLIC, "commits", "I", null, null).visitEnd();
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        for (Method m : Connection.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.isDefault()) {
                continue;
            }
            String desc = Type.getMethodDescriptor(m);
            MethodVisitor mv = cw.visitMethod(Opcodes.ACC_PUBLIC, m.getName(), desc, null, null);
            mv.visitCode();
            if (m.getName().equals("commit") && desc.equals("()V")) {
                mv.visitInsn(Opcodes.ICONST_0);
                mv.visitVarInsn(Opcodes.ISTORE, 1);
                for (int i = 0; i < 21_829; i++) {
                    mv.visitIincInsn(1, 1);
                }
                mv.visitVarInsn(Opcodes.ALOAD, 0);
                mv.visitInsn(Opcodes.DUP);
                mv.visitFieldInsn(Opcodes.GETFIELD, internal, "commits", "I");
                mv.visitInsn(Opcodes.ICONST_1);
                mv.visitInsn(Opcodes.IADD);
                mv.visitFieldInsn(Opcodes.PUTFIELD, internal, "commits", "I");
                mv.visitInsn(Opcodes.RETURN);
            } else if ((m.getName().equals("rollback") || m.getName().equals("close")) && desc.equals("()V")) {
                mv.visitInsn(Opcodes.RETURN);
            } else {
                mv.visitTypeInsn(Opcodes.NEW, "java/lang/UnsupportedOperationException");
                mv.visitInsn(Opcodes.DUP);
                mv.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/UnsupportedOperationException", "<init>", "()V", false);
                mv.visitInsn(Opcodes.ATHROW);
            }
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        }
        cw.visitEnd();
        Files.write(file, cw.toByteArray());
    }

    static final class Result {
        final int exit;
        final String out;
        final String err;

        Result(int exit, String out, String err) {
            this.exit = exit;
            this.out = out;
            this.err = err;
        }
    }

    private static Result java(String... args) throws Exception {
        return javaOf(System.getProperty("java.home"), args);
    }

    private static Result javaOf(String home, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(home, "bin", "java").toString());
        Collections.addAll(cmd, args);
        File out = File.createTempFile("sg-out", ".txt");
        File err = File.createTempFile("sg-err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "JVM finished");
        Result r = new Result(p.exitValue(), new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8),
                new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8));
        out.delete();
        err.delete();
        assertFalse(r.err.contains("Exception in thread"), r.err);
        return r;
    }
}
