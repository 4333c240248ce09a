package dev.sessionguard.agent;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Agent options: {@code key=value,key=value} from the agent argument, or system properties
 * {@code sessionguard.<key>}; the agent argument wins (a key given twice in it is refused). Anything unknown or malformed is an
 * {@link InvalidOption} whose message is the one line the user sees.
 */
final class Options {

    static final String[] KEYS = {"mode", "shield", "closeWaitMs", "shieldMaxMs", "targets", "log", "report", "silentRollback", "hiddenCommit", "jmx", "cache", "shipped"};
    static final String[] MODES = {"protect", "observe", "off"};
    static final String[] ON_OFF = {"on", "off"};
    static final String[] LOG_LEVELS = {"warn", "info", "debug", "off"};
    static final String[] TARGETS = {"hibernate", "jdbc"};
    static final String[] SILENT_ROLLBACK = {"log", "throw"};

    final String mode;
    final boolean shield;
    final long closeWaitMs;
    final long shieldMaxMs;
    final boolean hibernate;
    final boolean jdbc;
    final String log;
    final String report;
    /** commit.silentRollback: log it at ERROR (default: the caller sees what it saw without the agent), or throw. */
    final boolean silentRollbackThrows;
    /** A commit run inside close() that failed while close() returned normally (c3p0 autoCommitOnClose): log it at ERROR (default), or throw it from close(). */
    final boolean hiddenCommitThrows;
    /** Woven-class cache: null (the default directory), "off", or a directory. */
    final String cache;
    /** Register the MBean dev.sessionguard:type=Guard (on by default). */
    final boolean jmx;
    /** Use the woven classes shipped in the jar for the tested library versions (on by default). */
    final boolean shipped;

    static final class InvalidOption extends Exception {
        InvalidOption(String message) {
            super(message);
        }
    }

    private Options(Map<String, String> values, boolean here) throws InvalidOption {
        mode = oneOf(values, "mode", "protect", MODES);
        shield = "on".equals(oneOf(values, "shield", "on", ON_OFF));
        closeWaitMs = millis(values, "closeWaitMs", 5000);
        shieldMaxMs = millis(values, "shieldMaxMs", 2000);
        log = oneOf(values, "log", "warn", LOG_LEVELS);
        silentRollbackThrows = "throw".equals(oneOf(values, "silentRollback", "log", SILENT_ROLLBACK));
        hiddenCommitThrows = "throw".equals(oneOf(values, "hiddenCommit", "log", SILENT_ROLLBACK));
        jmx = "on".equals(oneOf(values, "jmx", "on", ON_OFF));
        shipped = "on".equals(oneOf(values, "shipped", "on", ON_OFF));
        String c = values.get("cache");
        if (c != null && c.trim().isEmpty()) {
            throw invalid("cache", c, "off or a directory");
        }
        cache = c == null ? null : (c.trim().equalsIgnoreCase("off") ? "off" : c.trim());
        String targets = values.containsKey("targets") ? values.get("targets") : "hibernate,jdbc";
        boolean h = false;
        boolean j = false;
        for (String t : targets.replace('+', ',').split(",")) { // no regex at start-up
            String name = t.trim().toLowerCase(Locale.ROOT);
            if (name.equals("hibernate")) {
                h = true;
            } else if (name.equals("jdbc")) {
                j = true;
            } else {
                throw badTargets(targets);
            }
        }
        if (!h && !j) {
            throw badTargets(targets); // an empty list ("+", ","): nothing would be woven
        }
        hibernate = h;
        jdbc = j;
        String r = values.get("report");
        if (r != null && (r.trim().isEmpty() || r.endsWith("/") || r.endsWith(java.io.File.separator) || (here && new java.io.File(r).isDirectory()))) {
            throw invalid("report", r, "a file path, not a directory");
        }
        report = r;
    }

    /**
     * Parses system properties first, then the agent argument. In the agent argument ',' separates options,
     * and a bare word right after {@code targets=...} continues its list: {@code targets=hibernate,jdbc,mode=observe}.
     */
    private static InvalidOption badTargets(String targets) {
        return invalid("targets", targets, "a list of " + String.join(", ", TARGETS) + " separated by ',' or '+'");
    }

    static Options parse(String agentArgs) throws InvalidOption {
        return new Options(values(agentArgs, true), true);
    }

    /**
     * The agent argument alone, as the CLI checks it before it attaches: not this JVM's system properties, and no look
     * at the file system (a relative report path is the target's, from its own working directory).
     */
    static Options parseArgument(String agentArgs) throws InvalidOption {
        return new Options(values(agentArgs, false), false);
    }

    private static Map<String, String> values(String agentArgs, boolean withProperties) throws InvalidOption {
        Map<String, String> values = new LinkedHashMap<>();
        if (withProperties) {
            for (String key : KEYS) {
                String v = System.getProperty("sessionguard." + key);
                if (v != null) {
                    values.put(key, v.trim());
                }
            }
        }
        if (agentArgs != null && !agentArgs.trim().isEmpty()) {
            String lastKey = null;
            java.util.Set<String> given = new java.util.HashSet<>();
            for (String pair : agentArgs.split(",")) {
                String p = pair.trim();
                if (p.isEmpty()) {
                    continue;
                }
                int eq = p.indexOf('=');
                if (eq < 0 && values.containsKey("targets") && "targets".equals(lastKey)) {
                    // targets=hibernate,jdbc: a bare word continues the list
                    values.put("targets", values.get("targets") + "," + p);
                    continue;
                }
                if (eq <= 0) {
                    throw new InvalidOption("option '" + p + "' is not key=value; keys are " + String.join(", ", KEYS));
                }
                String key = p.substring(0, eq).trim();
                if (!Arrays.asList(KEYS).contains(key)) {
                    throw new InvalidOption("unknown option '" + key + "'; keys are " + String.join(", ", KEYS));
                }
                if (!given.add(key)) {
                    // mode=observe,...,mode=protect (a template that appends): which one the user meant is not known
                    throw new InvalidOption("option '" + key + "' is given twice (" + key + "=" + values.get(key) + ", " + p
                            + "); give it once");
                }
                values.put(key, p.substring(eq + 1).trim());
                lastKey = key;
            }
        }
        return values;
    }

    private static String oneOf(Map<String, String> values, String key, String dflt, String[] allowed)
            throws InvalidOption {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (!Arrays.asList(allowed).contains(lower)) {
            throw invalid(key, v, "one of " + String.join(", ", allowed));
        }
        return lower;
    }

    private static long millis(Map<String, String> values, String key, long dflt) throws InvalidOption {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            long ms = Long.parseLong(v);
            if (ms >= 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid(key, v, "a whole number of milliseconds, 0 or more");
    }

    private static InvalidOption invalid(String key, String value, String allowed) {
        return new InvalidOption("invalid option " + key + "=" + value + ": " + key + " must be " + allowed);
    }

    @Override
    public String toString() {
        return "mode=" + mode + ", shield=" + (shield ? "on" : "off") + ", closeWaitMs=" + closeWaitMs
                + ", shieldMaxMs=" + shieldMaxMs + ", targets=" + (hibernate ? "hibernate" : "")
                + (hibernate && jdbc ? "+" : "") + (jdbc ? "jdbc" : "") + ", log=" + log
                + (silentRollbackThrows ? ", silentRollback=throw" : "") + (hiddenCommitThrows ? ", hiddenCommit=throw" : "") + (jmx ? "" : ", jmx=off") + (shipped ? "" : ", shipped=off") + (cache == null ? "" : ", cache=" + cache)
                + (report != null ? ", report=" + report : "");
    }
}
