package dev.sessionguard.agent;

import dev.sessionguard.instrumentation.Target;
import dev.sessionguard.instrumentation.Targets;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import net.bytebuddy.dynamic.ClassFileLocator;

/**
 * {@code scan <jar|dir>...}: what the agent would weave in an application, without running it. Reads
 * jars (and the jars nested in Spring Boot and WAR archives), directories of jars and class directories;
 * names each library found with its version, and for each target class says which methods would be woven,
 * or why the class would be left alone (the same weaving the agent does, done in memory).
 */
public final class Scan {

    /** A target class found in an archive. */
    private static final class Found {
        final String archive;
        final String library;
        final String className;
        final byte[] bytes;
        final Target target;

        Found(String archive, String library, String className, byte[] bytes, Target target) {
            this.archive = archive;
            this.library = library;
            this.className = className;
            this.bytes = bytes;
            this.target = target;
        }
    }

    private final Map<String, Target> targets = new HashMap<>();
    private final List<Found> found = new ArrayList<>();
    /** Classes that declare commit(), rollback() or close(): woven if they turn out to be java.sql.Connections. */
    private final List<Found> candidates = new ArrayList<>();
    private final Map<String, ClassHeader> candidateHeaders = new HashMap<>();
    private final Map<String, String> archiveLibrary = new HashMap<>();
    /** Every class file seen, for the weaving of the targets (their superclasses). */
    private final Map<String, byte[]> classes = new HashMap<>();
    /**
     * The class files of each archive: a class is woven against its own archive's classes first, so that several
     * versions of one library scanned together (the build's prewoven set) never lend each other a superclass.
     */
    private final Map<String, Map<String, byte[]>> archiveClasses = new HashMap<>();
    private final Map<String, String> libraries = new TreeMap<>();
    private final PrintStream err;
    private int archives;
    private File write;
    /** --prewoven (the build): the woven class files are named by the key of their original bytes (Shipped). */
    private boolean keyed;
    /** Some class was left as it is or not checked. */
    private boolean incomplete;

    private Scan(PrintStream err) {
        this.err = err;
        for (Target t : Targets.all()) {
            if (!"shield".equals(t.group())) {
                for (String n : t.typeNames()) {
                    targets.put(n.replace('.', '/') + ".class", t);
                }
            }
        }
    }

    /** With {@code --write DIR} first, the woven class files are written there too (to check or diff them). */
    static int run(String[] paths, PrintStream out, PrintStream err) {
        Scan scan = new Scan(err);
        if (paths.length >= 2 && (paths[0].equals("--write") || paths[0].equals("--prewoven"))) {
            scan.write = new File(paths[1]);
            scan.keyed = paths[0].equals("--prewoven");
            paths = java.util.Arrays.copyOfRange(paths, 2, paths.length);
            if (paths.length == 0) {
                err.println("usage: scan [--write DIR] <jar|war|dir>...");
                return 2;
            }
        }
        boolean bad = false;
        for (String p : paths) {
            File f = new File(p);
            if (!f.exists()) {
                err.println("scan: " + p + " does not exist");
                bad = true;
                continue;
            }
            try {
                scan.path(f);
            } catch (IOException e) {
                err.println("scan: could not read " + p + ": " + e.getMessage());
                bad = true;
            }
        }
        boolean any = scan.report(out);
        if (scan.keyed && (scan.incomplete || !any)) {
            err.println("scan --prewoven: every class of the libraries to ship must be woven (see the lines above)");
            return 5;
        }
        return any ? (bad ? 1 : 0) : (bad ? 1 : 3);
    }

    /**
     * The build's entry (agent/pom.xml): {@code scan --prewoven DIR <libraries>} in Maven's own JVM, so it
     * throws instead of exiting.
     */
    public static void main(String[] args) throws IOException {
        int code = run(args, System.out, System.err);
        if (code != 0) {
            throw new IllegalStateException("scan " + String.join(" ", args) + " ended with " + code);
        }
        if (args.length >= 2 && args[0].equals("--prewoven")) {
            // DIR is <classes>/META-INF/sessionguard/woven: the build's identity goes into the same classes
            File classes = new File(args[1]).getParentFile().getParentFile().getParentFile();
            String id = BuildId.compute(classes, BuildId.classpathOf(Scan.class.getClassLoader()));
            java.nio.file.Files.write(new File(classes, BuildId.RESOURCE).toPath(), id.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            System.out.println("build id " + id);
        }
    }

    private void path(File f) throws IOException {
        if (f.isDirectory()) {
            if (new File(f, "META-INF").isDirectory() || new File(f, "org").isDirectory() || new File(f, "com").isDirectory()) {
                classDirectory(f, f);
            }
            File[] children = f.listFiles();
            if (children != null) {
                java.util.Arrays.sort(children);
                for (File c : children) {
                    if (c.isDirectory() && !c.getName().equals("META-INF") && !c.getName().equals("org") && !c.getName().equals("com")) {
                        path(c);
                    } else if (isArchive(c.getName())) {
                        archive(c.getPath(), new FileInputStream(c));
                    }
                }
            }
        } else if (isArchive(f.getName())) {
            archive(f.getPath(), new FileInputStream(f));
        } else {
            err.println("scan: " + f + " is neither a jar nor a directory; skipped");
        }
    }

    private static boolean isArchive(String name) {
        return name.endsWith(".jar") || name.endsWith(".war") || name.endsWith(".ear");
    }

    private void classDirectory(File root, File dir) throws IOException {
        File[] children = dir.listFiles();
        if (children == null) {
            return;
        }
        for (File c : children) {
            if (c.isDirectory()) {
                classDirectory(root, c);
            } else if (c.getName().endsWith(".class")) {
                String name = root.toURI().relativize(c.toURI()).getPath();
                try (InputStream in = new FileInputStream(c)) {
                    classFile(root.getPath(), root.getPath(), name, readAll(in));
                }
            }
        }
    }

    private void archive(String label, InputStream stream) throws IOException {
        archives++;
        Map<String, String> pom = new LinkedHashMap<>();
        List<Found> before = new ArrayList<>(found);
        String library = null;
        try (JarInputStream jar = new JarInputStream(stream)) {
            Manifest manifest = jar.getManifest();
            for (JarEntry e; (e = jar.getNextJarEntry()) != null; ) {
                String name = e.getName();
                if (name.endsWith(".class")) {
                    classFile(label, null, name.startsWith("BOOT-INF/classes/") ? name.substring(17)
                            : name.startsWith("WEB-INF/classes/") ? name.substring(16) : name, readAll(jar));
                } else if (isArchive(name)) {
                    // Spring Boot (BOOT-INF/lib), WAR (WEB-INF/lib), EAR modules
                    archive(label + "!/" + name, new ByteArrayInputStream(readAll(jar)));
                } else if (name.startsWith("META-INF/maven/") && name.endsWith("/pom.properties")) {
                    Properties p = new Properties();
                    p.load(new ByteArrayInputStream(readAll(jar)));
                    pom.put(p.getProperty("groupId") + ":" + p.getProperty("artifactId"), p.getProperty("version"));
                }
            }
            if (pom.size() == 1) {
                Map.Entry<String, String> only = pom.entrySet().iterator().next();
                library = only.getKey() + " " + only.getValue();
            } else if (manifest != null) {
                Attributes a = manifest.getMainAttributes();
                String title = first(a.getValue("Implementation-Title"), a.getValue("Bundle-SymbolicName"));
                String version = first(a.getValue("Implementation-Version"), a.getValue("Bundle-Version"));
                if (title != null || version != null) {
                    library = (title == null ? new File(label).getName() : title) + " " + (version == null ? "(no version)" : version);
                }
            }
        }
        if (library == null) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.+?)-([0-9][^/]*)\\.(jar|war|ear)$").matcher(new File(label).getName());
            library = m.matches() ? m.group(1) + " " + m.group(2) + " (version from the file name)"
                    : new File(label).getName() + " (no version in its manifest, pom.properties or name)";
        }
        archiveLibrary.put(label, library);
        for (int i = before.size(); i < found.size(); i++) {
            Found f = found.get(i);
            if (f.library == null && f.archive.equals(label)) {
                found.set(i, new Found(f.archive, library, f.className, f.bytes, f.target));
                libraries.put(label, library);
            }
        }
    }

    private static String first(String a, String b) {
        return a != null ? a : b;
    }

    private void classFile(String archive, String library, String entry, byte[] bytes) {
        String internal = entry.substring(0, entry.length() - ".class".length());
        String binary = internal.replace('/', '.');
        classes.put(binary, bytes);
        archiveClasses.computeIfAbsent(archive, a -> new HashMap<>()).put(binary, bytes);
        Target t = targets.get(entry);
        if (t == null && !internal.startsWith("META-INF/") && !ConnectionMatcher.skipped(internal, false)) {
            ClassHeader h = ClassHeader.read(bytes, true);
            if (h != null) {
                candidates.add(new Found(archive, library, internal, bytes, null));
                candidateHeaders.put(internal, h);
            }
        }
        if (t != null) {
            found.add(new Found(archive, library, internal.replace('/', '.'), bytes, t));
            if (library != null) {
                libraries.put(archive, library);
            }
        }
    }

    /** The candidates that implement java.sql.Connection, by the scanned class files, join the found targets. */
    private void matchConnections() {
        ConnectionMatcher matcher = new ConnectionMatcher();
        for (Found c : candidates) {
            Target t = matcher.match(c.className, candidateHeaders.get(c.className), n -> classes.get(n.replace('/', '.')));
            if (t != null) {
                String library = c.library != null ? c.library : archiveLibrary.get(c.archive);
                found.add(new Found(c.archive, library, c.className.replace('/', '.'), c.bytes, t));
                if (library != null) {
                    libraries.put(c.archive, library);
                }
            }
        }
        // grouped by archive, in the order the archives were read
        Map<String, Integer> order = new HashMap<>();
        for (Found f : found) {
            order.putIfAbsent(f.archive, order.size());
        }
        found.sort(java.util.Comparator.<Found>comparingInt(f -> order.get(f.archive)).thenComparing(f -> f.className));
    }

    private boolean report(PrintStream out) {
        matchConnections();
        if (found.isEmpty()) {
            out.println("No Hibernate, JDBC driver or pool class SessionGuard instruments was found in " + archives
                    + " archives; with this class path the agent would weave only java.lang.Thread#interrupt once a target loads (never, here).");
            return false;
        }
        // a class is woven against its own archive, then the other archives except other versions of its library
        // (an archive that has a class of the same name as one woven here): the build's prewoven set holds Hibernate
        // 4.3 to 7.4, and a type 5.1 lacks (SharedSessionContractImplementor) found in 5.2's jar made the newest
        // advice fit 5.1, whose woven commit() then failed inside its suppress handler at every call
        Map<String, java.util.Set<String>> wovenHere = new HashMap<>();
        for (Found f : found) {
            wovenHere.computeIfAbsent(f.archive, a -> new java.util.HashSet<>()).add(f.className.replace('/', '.'));
        }
        Map<String, ClassFileLocator> own = new HashMap<>();
        for (Map.Entry<String, Map<String, byte[]>> e : archiveClasses.entrySet()) {
            own.put(e.getKey(), new ClassFileLocator.Simple(e.getValue()));
        }
        ClassFileLocator system = ClassFileLocator.ForClassLoader.ofSystemLoader();
        Map<String, ClassFileLocator> byArchive = new HashMap<>();
        for (String archive : archiveClasses.keySet()) {
            java.util.Set<String> mine = wovenHere.getOrDefault(archive, java.util.Collections.<String>emptySet());
            List<ClassFileLocator> parts = new ArrayList<>();
            parts.add(own.get(archive));
            for (Map.Entry<String, Map<String, byte[]>> o : archiveClasses.entrySet()) {
                if (!o.getKey().equals(archive) && java.util.Collections.disjoint(mine, o.getValue().keySet())) {
                    parts.add(own.get(o.getKey()));
                }
            }
            parts.add(system);
            byArchive.put(archive, new ClassFileLocator.Compound(parts));
        }
        Weaver weaver = new Weaver();
        int woven = 0;
        int left = 0;
        int unchecked = 0;
        // a library is woven whole or not at all (as the agent does): the first of its classes that does not fit
        Map<String, String> refusedLibraries = new HashMap<>();
        java.util.Set<String> unfit = new java.util.HashSet<>(); // named below with their own reason
        for (Found f : found) {
            String lib = f.target.library() == null ? null : f.archive + "|" + f.target.library();
            if (lib != null) {
                try {
                    weaver.weave(f.target, f.className, f.bytes, byArchive.get(f.archive));
                } catch (Weaver.Unsupported u) {
                    unfit.add(f.className);
                    refusedLibraries.putIfAbsent(lib, f.className.substring(f.className.lastIndexOf('.') + 1)
                            + " does not fit: " + u.getMessage());
                } catch (Throwable t) {
                    // reported below, class by class
                }
            }
        }
        String archive = null;
        for (Found f : found) {
            if (!f.archive.equals(archive)) {
                archive = f.archive;
                if (!keyed) {
                    out.println(f.library + "  [" + f.archive + "]");
                }
            }
            String refused = f.target.library() == null ? null : refusedLibraries.get(f.archive + "|" + f.target.library());
            if (refused != null && !unfit.contains(f.className)) {
                out.println("  left as is: " + f.className + ": " + f.target.library() + " is woven whole or not at all, and "
                        + refused);
                left++;
                continue;
            }
            try {
                byte[] bytes = weaver.weave(f.target, f.className, f.bytes, byArchive.get(f.archive));
                if (write != null) {
                    File file = keyed ? new File(write, WovenCache.key(f.className, f.bytes))
                            : new File(write, f.className.replace('.', '/') + ".class");
                    file.getParentFile().mkdirs();
                    java.nio.file.Files.write(file.toPath(), bytes);
                }
                if (!keyed) { // the build (--prewoven) prints problems and the total only
                    out.println("  woven:     " + f.className + "#" + String.join(", #", f.target.methodNames()));
                }
                woven++;
            } catch (Weaver.Unresolvable u) {
                // a class the library refers to that is in another jar: not a verdict on the library
                out.println("  not checked: " + f.className + ": it refers to " + missingType(u.getMessage()) + ", which is not in the"
                        + " scanned files; scan the whole class path (all of the application's jars)");
                unchecked++;
            } catch (Weaver.Unsupported u) {
                out.println("  left as is: " + f.className + ": " + u.getMessage());
                left++;
            } catch (Throwable t) {
                out.println("  left as is: " + f.className + ": " + t);
                left++;
            }
        }
        incomplete = left > 0 || unchecked > 0;
        out.println(woven + " classes would be woven, " + left + " left as they are"
                + (unchecked > 0 ? ", " + unchecked + " not checked (classes they need were not scanned)" : "")
                + "; java.lang.Thread#interrupt (and"
                + " VirtualThread#interrupt on JDK 21+) too, for the interrupt shield");
        return true;
    }

    /** The type Byte Buddy could not find, from its message, or "a type". */
    private static String missingType(String message) {
        String marker = "Cannot resolve type description for ";
        int i = message == null ? -1 : message.indexOf(marker);
        if (i < 0) {
            return "a type";
        }
        String rest = message.substring(i + marker.length());
        int end = 0;
        while (end < rest.length() && (Character.isJavaIdentifierPart(rest.charAt(end)) || rest.charAt(end) == '.' || rest.charAt(end) == '$')) {
            end++;
        }
        return rest.substring(0, end);
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
