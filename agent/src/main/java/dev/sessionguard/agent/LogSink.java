package dev.sessionguard.agent;

import dev.sessionguard.bootstrap.EventLog;
import dev.sessionguard.bootstrap.Guard;
import java.lang.reflect.Method;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes event lines to the logger named {@code sessionguard}: through the SLF4J of the class loader
 * that loaded the instrumented class when it has one with a real binding (so the lines land in the
 * application's own log files), else through java.util.logging (during JVM shutdown: stderr, because
 * java.util.logging may already have closed its handlers). The agent bundles no SLF4J.
 */
final class LogSink extends EventLog {

    static final String LOGGER = "sessionguard";

    /**
     * Per instrumented class: the SLF4J logger of its class loader with its methods, or NONE. A ClassValue
     * keeps the value in the class itself: the logger and its Method objects reach their class loader, and
     * that must not make the loader reachable from here (a redeployed webapp could never be collected).
     */
    private final ClassValue<Slf4j> slf4jByClass = new ClassValue<Slf4j>() {
        @Override
        protected Slf4j computeValue(Class<?> type) {
            ClassLoader loader = type.getClassLoader();
            return loader == null ? NONE : lookup(loader);
        }
    };
    private static final Slf4j NONE = new Slf4j(null, null, null, null, null);
    private volatile Runnable afterEvent;
    /**
     * False during premain: the agent's own lines go to stderr then, because the first use of java.util.logging
     * fixes the JVM's LogManager for good, before the application could choose its own (WildFly's logging
     * subsystem then refuses to start: WFLYLOG0078). Set when premain (or agentmain) returns.
     */
    private volatile boolean applicationStarted;

    LogSink(int threshold) {
        super(threshold);
    }

    void applicationStarted() {
        applicationStarted = true;
    }

    void afterEvent(Runnable r) {
        afterEvent = r;
    }

    @Override
    protected void recorded() {
        Runnable r = afterEvent;
        if (r != null) {
            r.run();
        }
    }

    void info(String line) {
        if (threshold <= INFO) {
            write(INFO, line, null, null);
        }
    }

    void debug(String line) {
        if (threshold <= DEBUG) {
            write(DEBUG, line, null, null);
        }
    }

    void warn(String line, Throwable t) {
        if (threshold <= WARN) {
            write(WARN, line, t, null);
        }
    }

    @Override
    protected void write(int level, String line, Throwable stack, Class<?> type) {
        Slf4j s = type == null ? NONE : slf4jByClass.get(type);
        if (s != NONE) {
            try {
                Method m = level >= ERROR ? s.error : level == WARN ? s.warn : level == INFO ? s.info : s.debug;
                m.invoke(s.logger, line, stack);
                return;
            } catch (Throwable e) {
                // fall through to java.util.logging
            }
        }
        if (type == null && !applicationStarted) {
            System.err.println("[sessionguard] " + (level >= ERROR ? "ERROR " : level == WARN ? "WARN " : "") + line);
            if (stack != null) {
                stack.printStackTrace();
            }
            return;
        }
        if (Guard.isShuttingDown()) {
            // java.util.logging closes its handlers in a shutdown hook of its own: a line logged now may vanish
            System.err.println("[sessionguard] " + (level >= ERROR ? "ERROR " : level == WARN ? "WARN " : "INFO ") + line);
            if (stack != null) {
                stack.printStackTrace();
            }
            return;
        }
        Level jul = level >= ERROR ? Level.SEVERE : level == WARN ? Level.WARNING : level == INFO ? Level.INFO : Level.FINE;
        Logger logger = Logger.getLogger(LOGGER);
        if (level < INFO && !logger.isLoggable(jul)) {
            // debug asked for explicitly: do not let the JUL default level hide it
            jul = Level.INFO;
        }
        logger.log(jul, "[sessionguard] " + line, stack);
    }

    private static Slf4j lookup(ClassLoader loader) {
        try {
            Class<?> factory = Class.forName("org.slf4j.LoggerFactory", true, loader);
            Object loggerFactory = factory.getMethod("getILoggerFactory").invoke(null);
            // no binding: SLF4J would drop the lines (NOP), java.util.logging at least shows them
            if (loggerFactory == null || loggerFactory.getClass().getName().contains("NOP")
                    || loggerFactory.getClass().getName().contains("Substitute")) {
                return NONE;
            }
            Object logger = factory.getMethod("getLogger", String.class).invoke(null, LOGGER);
            Class<?> api = Class.forName("org.slf4j.Logger", false, loader);
            return new Slf4j(logger,
                    api.getMethod("error", String.class, Throwable.class),
                    api.getMethod("warn", String.class, Throwable.class),
                    api.getMethod("info", String.class, Throwable.class),
                    api.getMethod("debug", String.class, Throwable.class));
        } catch (Throwable e) {
            return NONE;
        }
    }

    private static final class Slf4j {
        final Object logger;
        final Method error;
        final Method warn;
        final Method info;
        final Method debug;

        Slf4j(Object logger, Method error, Method warn, Method info, Method debug) {
            this.logger = logger;
            this.error = error;
            this.warn = warn;
            this.info = info;
            this.debug = debug;
        }
    }
}
