package dev.sessionguard.agent;

import dev.sessionguard.instrumentation.Target;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Matches class names first, with one hash lookup per loaded class, and reaches for Byte Buddy only
 * when a target class actually loads. A class whose methods the advice does not fit is left untouched
 * with one WARN line: never half-instrumented.
 */
final class GuardTransformer implements ClassFileTransformer {

    private final Map<String, Target> byInternalName = new HashMap<>();
    private final Instrumentation inst;
    private final LogSink log;
    /**
     * Thread.interrupt() is instrumented only once a library target has been woven: a JVM that never loads
     * Hibernate or a JDBC driver never pays for Byte Buddy. Until then nothing is guarded, so nothing needs
     * an interrupt held back.
     */
    private volatile boolean shieldArmed;
    /** "class#method" of what was instrumented, for the report. */
    private final Set<String> instrumented = Collections.newSetFromMap(new ConcurrentHashMap<String, Boolean>());
    private volatile Weaver weaver;

    /** Connection implementations not in the list, found by their class file; null when targets has no jdbc. */
    private final ConnectionMatcher connections;

    /** Class loaders that do not delegate the helper package (JBoss Modules, OSGi) are found before weaving. */
    private final LoaderDelegation delegation;

    GuardTransformer(Instrumentation inst, List<Target> targets, LogSink log) {
        this.inst = inst;
        this.log = log;
        this.delegation = new LoaderDelegation(log);
        boolean jdbc = false;
        for (Target t : targets) {
            for (String name : t.typeNames()) {
                byInternalName.put(name.replace('.', '/'), t);
            }
            jdbc |= "jdbc".equals(t.group());
        }
        connections = jdbc ? new ConnectionMatcher() : null;
        // made here, on premain's thread (or the attach's), and started when the first library class is woven: a
        // thread takes the inheritable thread-locals and context class loader of the thread that constructs it, and
        // the first library class may load in any application thread (a webapp's, with its class loader in a logging
        // MDC); the interrupt shield's deadline thread, which this one starts, would keep them for the life of the JVM
        init = new Thread(new Runnable() { // not a lambda: each costs a class spun at run time
            @Override
            public void run() {
                initialise();
            }
        }, "sessionguard-init");
        init.setDaemon(true);
        init.setContextClassLoader(null);
    }

    /**
     * Registers this transformer (retransform-capable). On JDK 9 and later through {@link ModuleReads}, which
     * gives a woven class in a named module (a java.lang.reflect.Proxy connection) read access to the helpers.
     */
    void register() {
        ClassFileTransformer t = this;
        try {
            ModuleSupport modules = ModuleSupport.get();
            if (modules != null) {
                t = modules.moduleAware(this, inst);
            }
        } catch (Throwable e) {
            log.warn("classes in named modules (java.lang.reflect.Proxy connections) are not guarded: " + e, e);
        }
        registered = t;
        inst.addTransformer(t, true);
    }

    /** Takes back what {@link #register} did. */
    void unregister() {
        ClassFileTransformer t = registered;
        if (t != null) {
            inst.removeTransformer(t);
        }
    }

    private volatile ClassFileTransformer registered;

    void moduleReadFailed(String className, String module, Throwable t) {
        String prefix = className.replace('/', '.') + "#";
        for (String m : instrumented) {
            if (m.startsWith(prefix)) {
                instrumented.remove(m); // returned unwoven after all: not in the report, JMX, or what detach restores
            }
        }
        log.warn("left " + prefix.substring(0, prefix.length() - 1) + " uninstrumented: its module " + module
                + " cannot be given access to the helper classes (" + t + ")", t);
    }

    Set<String> instrumented() {
        return instrumented;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain pd,
                            byte[] bytes) {
        if (className == null) {
            return null;
        }
        Target target = byInternalName.get(className);
        if (target == null) {
            // any other java.sql.Connection: a look at the class file's own header, supertypes only for candidates
            target = connections == null ? null : connections.match(loader, pd, className, bytes);
            if (target == null) {
                return null;
            }
        }
        boolean shieldTarget = "shield".equals(target.group());
        if (shieldTarget && !shieldArmed) {
            return null;
        }
        String name = className.replace('/', '.');
        if (!shieldTarget && !delegation.seesHelpers(loader, name)) {
            return null; // JBoss Modules or OSGi without the helper package delegated: said once, at WARN
        }
        // a Proxy class has another number in every JVM, and often another method order: its entry is keyed by its
        // class file with its name replaced (the order is part of the key) and stored without its name (docs/weaving.md)
        boolean proxy = ClassRename.isProxy(className);
        String key = proxy ? ClassRename.proxyKey(bytes, className) : WovenCache.key(name, bytes);
        WovenCache cache = null;
        try {
            // a library version the build wove: shipped in the jar (Shipped), no Byte Buddy, no disk
            byte[] result = proxy || shieldTarget || !shipped ? null : Shipped.get(key);
            if (result == null && redefined != null && !proxy && !shieldTarget && shipped) {
                result = shippedForLoaded(loader, className, name, bytes);
            }
            if (result != null) {
                return woven(target, loader, name, shieldTarget, result);
            }
            cache = cache();
            if (cache == null) {
                key = null;
            }
            result = key == null ? null : cache.get(key);
            if (result == null && !proxy && !checkedWoven.isEmpty()) {
                result = checkedWoven.remove(WovenCache.key(name, bytes));
            }
            if (result != null && proxy) {
                result = ClassRename.rename(result, ClassRename.TOKEN, className);
            }
            if (result == null) {
                // Thread.interrupt() and a Proxy connection: ASM alone (ThreadWeaver, ProxyWeaver; a proxy whose body is
                // not the JDK generator's goes on); any other class: Byte Buddy, loaded here on the first class
                // that is neither shipped woven in the jar nor in the cache
                result = shieldTarget ? ThreadWeaver.weave(className, bytes)
                        : proxy ? ProxyWeaver.weave(className, bytes, target.methodNames()) : null;
                if (result == null && !shieldTarget) {
                    result = weaver().weave(target, name, bytes, loader);
                }
                if (key != null && result != null) {
                    byte[] stored = proxy ? ClassRename.rename(result, className, ClassRename.TOKEN) : result;
                    if (stored != null) {
                        cache.put(key, stored);
                    }
                }
            }
            return result == null ? null : woven(target, loader, name, shieldTarget, result);
        } catch (Weaver.Unsupported u) {
            if (key != null && cache != null) {
                cache.putUnsupported(key, u.getMessage());
            }
            log.warn("left " + name + " uninstrumented: " + u.getMessage(), null);
            return null;
        } catch (Weaver.Unresolvable u) {
            log.warn("left " + name + " uninstrumented: " + u.getMessage(), null);
            return null;
        } catch (Throwable t) {
            log.warn("left " + name + " uninstrumented: " + t, t);
            return null;
        }
    }

    /**
     * The shipped woven class for a class retransformed after it loaded, looked up by its own class file (read from
     * its class loader) when the bytes the JVM gave are not a class file the build wove: the JVM rebuilds a class file
     * from a class loaded with no class file hook (a JDK 24+ AOT cache loads and links the application's classes
     * before premain), with the same shape and other bytes. Used only when both have the same shape
     * ({@link ClassHeader#shape}): code another agent wove in (or a debugger swapped in) changes it, and then
     * this gives null and Byte Buddy weaves the bytes given, as before (docs/weaving.md, "AOT caches and CDS dumps").
     */
    private static byte[] shippedForLoaded(ClassLoader loader, String className, String name, byte[] bytes) {
        try {
            byte[] original = loader == null ? null : BootstrapClasses.resource(loader, className + ".class");
            if (original == null || java.util.Arrays.equals(original, bytes)) {
                return null;
            }
            byte[] woven = Shipped.get(WovenCache.key(name, original));
            if (woven == null) {
                return null;
            }
            long shape = ClassHeader.shape(original);
            return shape != -1 && shape == ClassHeader.shape(bytes) ? woven : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /**
     * Whether another class of {@code target}'s library, read from {@code loader}, does not fit its advice: the
     * reason, or null when they all fit. Checked with the other classes' original bytes from its class loader
     * when the first class of the library is woven there, and remembered per class loader and library, so a library
     * is woven whole or not at all even though its classes load one at a time (docs/weaving.md, "Gating"); the
     * library's next classes take that verdict (each was checked by its own weaving, as the first one was). A fit is
     * found without Byte Buddy where it can be: the class shipped woven in the jar, or in the cache (the weaving done
     * here is stored).
     */
    private String companionRefused(Target target, ClassLoader loader, String name) {
        Map<String, String> verdicts;
        synchronized (companionVerdicts) {
            verdicts = loader == null ? bootVerdicts : companionVerdicts.get(loader);
            if (verdicts == null) {
                verdicts = new HashMap<>();
                companionVerdicts.put(loader, verdicts);
            }
            String known = verdicts.get(target.library());
            if (known != null) {
                return known.isEmpty() ? null : known;
            }
        }
        // the library's classes by part (a target without a part is a part of its own): each part needs one
        // class that is there, and every class that is there must fit
        Map<String, java.util.List<String>> parts = new java.util.TreeMap<>();
        for (Target other : new java.util.LinkedHashSet<>(byInternalName.values())) {
            if (!target.library().equals(other.library())) {
                continue;
            }
            for (String companion : other.typeNames()) {
                String part = other.part() != null ? other.part() : companion;
                java.util.List<String> classes = parts.get(part); // no lambda: each costs a class spun at run time
                if (classes == null) {
                    classes = new java.util.ArrayList<>();
                    parts.put(part, classes);
                }
                classes.add(companion);
            }
        }
        String verdict = "";
        for (java.util.List<String> classes : parts.values()) {
            boolean present = false;
            for (String companion : classes) {
                String why = companion.equals(name) ? null
                        : fits(byInternalName.get(companion.replace('.', '/')), companion, loader);
                if (why == MISSING) {
                    continue;
                }
                present = true;
                if (why != null) {
                    verdict = why;
                    break;
                }
            }
            if (verdict.isEmpty() && !present) {
                verdict = "this version has no " + String.join(" and no ", classes) + " (unsupported library version)";
            }
            if (!verdict.isEmpty()) {
                break;
            }
        }
        synchronized (companionVerdicts) {
            verdicts.put(target.library(), verdict);
        }
        return verdict.isEmpty() ? null : verdict;
    }

    /** What {@link #fits} says of a class the class loader does not have. */
    private static final String MISSING = new String("missing");

    /**
     * Why {@code className}, as {@code loader} has it, does not fit {@code target}'s advice, null when it does, or
     * {@link #MISSING} when the loader has no such class.
     */
    private String fits(Target target, String className, ClassLoader loader) {
        String simple = className.substring(className.lastIndexOf('.') + 1);
        byte[] bytes;
        try {
            bytes = BootstrapClasses.resource(loader, className.replace('.', '/') + ".class");
        } catch (Throwable t) {
            return null; // unreadable: no verdict against the library
        }
        if (bytes == null) {
            return MISSING;
        }
        String key = WovenCache.key(className, bytes);
        if (shipped && Shipped.has(key)) {
            return null;
        }
        WovenCache cache = cache();
        try {
            if (cache != null && cache.get(key) != null) {
                return null;
            }
            byte[] woven = weaver().weave(target, className, bytes, loader);
            if (cache != null) {
                cache.put(key, woven);
            } else {
                checkedWoven.put(key, woven); // taken when the class loads: not woven twice
            }
            return null;
        } catch (Weaver.Unsupported u) {
            if (cache != null) {
                cache.putUnsupported(key, u.getMessage());
            }
            return simple + " does not fit: " + u.getMessage();
        } catch (Throwable t) {
            return null; // not a verdict on the library (a type another jar holds, a read failure)
        }
    }

    /** Woven while a companion was checked, with no cache to keep it: by key, until the class loads. */
    private final Map<String, byte[]> checkedWoven = new ConcurrentHashMap<>();

    /** Per class loader (weakly), per library: "" when its classes fit, else why not. */
    private final Map<ClassLoader, Map<String, String>> companionVerdicts = new java.util.WeakHashMap<>();
    private final Map<String, String> bootVerdicts = new HashMap<>();

    /**
     * The woven class, noted, unless another class of its library does not fit: then null, with one WARN line.
     * Checked after this class was woven, so a class that does not fit itself is named with its own reason.
     */
    private byte[] woven(Target target, ClassLoader loader, String name, boolean shieldTarget, byte[] result) {
        if (target.library() != null) {
            String refused = companionRefused(target, loader, name);
            if (refused != null) {
                log.warn("left " + name + " uninstrumented: " + target.library() + " is woven whole or not at all, and "
                        + refused, null);
                return null;
            }
        }
        noteWoven(target, name, shieldTarget);
        return result;
    }

    private void noteWoven(Target target, String name, boolean shieldTarget) {
        for (String m : target.methodNames()) {
            instrumented.add(name + "#" + m);
        }
        log.debug("instrumented " + name);
        if (!shieldTarget) {
            firstTargetWoven();
        }
    }

    /**
     * The woven-class cache, opened when the first target class loads (a JVM without Hibernate or a driver
     * never touches the disk for it); null when it is off or cannot be used.
     */
    private WovenCache cache() {
        if (!cacheOpened) {
            synchronized (this) {
                if (!cacheOpened) {
                    cache = WovenCache.open(cacheOption, log);
                    cacheOpened = true;
                }
            }
        }
        return cache;
    }

    private volatile boolean cacheOpened;
    private volatile WovenCache cache;
    private volatile String cacheOption;

    private volatile boolean shipped = true;

    /** The option shipped=on|off. */
    void shipped(boolean on) {
        shipped = on;
    }

    /** The option cache= (null: the default directory; "off"). */
    void cacheOption(String option) {
        cacheOption = option;
    }

    /** Run once, off the class-loading thread, after the first library class is woven (JMX registration). */
    void afterFirstTarget(Runnable r) {
        afterFirstTarget = r;
    }

    private volatile Runnable afterFirstTarget;

    /**
     * The first library class is woven: instrument the shield's targets (Thread.interrupt), then run what
     * waits for a library (the MBean), once, on a thread of its own: retransforming from inside a
     * transform() callback is not allowed, and class loading there must stay short.
     */
    private void firstTargetWoven() {
        if (shieldArmed) {
            return;
        }
        synchronized (this) {
            if (shieldArmed) {
                return;
            }
            shieldArmed = true;
        }
        initAfter = afterFirstTarget;
        initShield = hasShieldTargets();
        if (!initShield && initAfter == null) {
            return;
        }
        if (initShield) {
            // guarded calls that begin before Thread.interrupt() is instrumented wait for it (bounded)
            dev.sessionguard.bootstrap.Guard.shieldArming(true);
        }
        try {
            init.start(); // what it reads was written before start(): visible to it
        } catch (Throwable t) {
            // no thread (out of native threads?): guarded calls must not wait for an arming that never comes, and the
            // class being woven is still woven; the interrupt methods stay as they are (no shield), said once
            if (initShield) {
                dev.sessionguard.bootstrap.Guard.shieldArming(false);
            }
            log.warn("could not start sessionguard-init, so interrupts are not held back in this JVM: " + t, t);
        }
    }

    /** The thread that arms the shield and runs {@link #afterFirstTarget}, made in the constructor. */
    private final Thread init;
    private Runnable initAfter;
    private boolean initShield;

    private void initialise() {
        if (initShield) {
            try {
                retransformLoaded(true);
            } finally {
                dev.sessionguard.bootstrap.Guard.shieldArming(false);
            }
        }
        if (initAfter != null) {
            initAfter.run();
        }
    }

    private boolean hasShieldTargets() {
        for (Target t : byInternalName.values()) {
            if ("shield".equals(t.group())) {
                return true;
            }
        }
        return false;
    }

    /** Classes loaded before the agent (always so when attached): the library targets, or the shield's. */
    void retransformLoaded(boolean shield) {
        // no lambda: this runs in premain, where each one costs a class spun at run time
        retransform(new java.util.function.Predicate<String>() {
            @Override
            public boolean test(String group) {
                return "shield".equals(group) == shield;
            }
        }, "could not instrument the already loaded ");
    }

    /**
     * After this transformer was removed: retransforms every loaded class it wove, which gives each its
     * original bytecode back. Returns how many.
     */
    int restoreAll() {
        Set<String> woven = new java.util.HashSet<>();
        for (String m : instrumented) {
            woven.add(m.substring(0, m.indexOf('#')));
        }
        int restored = 0;
        for (Class<?> c : retransform(group -> true, "could not restore ")) {
            if (woven.contains(c.getName())) {
                restored++;
            }
        }
        instrumented.clear();
        return restored;
    }

    /** Retransforms the loaded classes of the target groups {@code which} accepts; returns those it could. */
    private List<Class<?>> retransform(java.util.function.Predicate<String> which, String failure) {
        List<Class<?>> loaded = new ArrayList<>();
        Class<?> connection = null;
        Class<?>[] all = inst.getAllLoadedClasses();
        // the shield's pass (Thread, VirtualThread) looks at names only, not at every class's supertypes
        boolean jdbc = which.test("jdbc");
        if (connections != null && jdbc) {
            // java.sql.Connection as it is loaded, if it is: while it is not, no class implementing it can be
            // (loading it here would cost a premain a few classes of the java.sql module for nothing)
            for (Class<?> c : all) {
                if ("java.sql.Connection".equals(c.getName())) { // only the JDK may define java.*
                    connection = c;
                    break;
                }
            }
        }
        for (Class<?> c : all) {
            Target t = byInternalName.get(c.getName().replace('.', '/'));
            // a Connection found by its class file belongs to the jdbc group
            String group = t != null ? t.group() : jdbc && ConnectionMatcher.isLoadedCandidate(c, connection) ? "jdbc" : null;
            if (group != null && which.test(group) && inst.isModifiableClass(c)) {
                loaded.add(c);
            }
        }
        if (loaded.size() > 1) {
            // one JVM operation for all of them, not one each: each is a safepoint that walks every loaded class, and a
            // JDK 25 AOT cache has about 13,000 loaded before premain (README, "JDK 24+ AOT cache")
            try {
                inst.retransformClasses(loaded.toArray(new Class<?>[0]));
                return loaded;
            } catch (Throwable t) {
                // the JVM refused one of them, and then retransformed none (JVMTI: all or none): one at a time, so that
                // the others are
            }
        }
        List<Class<?>> done = new ArrayList<>();
        for (Class<?> c : loaded) {
            try {
                inst.retransformClasses(c);
                done.add(c);
            } catch (Throwable t) {
                log.warn(failure + c.getName() + ": " + t, t);
            }
        }
        return done;
    }

    private Weaver weaver() {
        Weaver w = weaver;
        if (w == null) {
            synchronized (this) {
                w = weaver;
                if (w == null) {
                    w = new Weaver();
                    weaver = w;
                }
            }
        }
        return w;
    }
}
