package dev.sessionguard.agent;

import dev.sessionguard.bootstrap.EventLog;
import dev.sessionguard.bootstrap.Guard;
import dev.sessionguard.instrumentation.Target;
import dev.sessionguard.instrumentation.Targets;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;

/** Everything that happens after the helper API is on the bootstrap class path. */
final class Installer {

    private Installer() {
    }

    static void install(Instrumentation inst, Options options, boolean attached) {
        List<Target> targets = new ArrayList<>();
        for (Target t : Targets.all()) {
            if (("hibernate".equals(t.group()) && options.hibernate) || ("jdbc".equals(t.group()) && options.jdbc)
                    || ("shield".equals(t.group()) && options.shield && "protect".equals(options.mode))) {
                targets.add(t);
            }
        }
        LogSink log = new LogSink(level(options.log));
        Report report = options.report == null ? null : new Report(options);
        GuardTransformer transformer = new GuardTransformer(inst, targets, log);
        if (report != null) {
            report.attach(transformer, log);
        }
        int mode = "observe".equals(options.mode) ? Guard.MODE_OBSERVE : Guard.MODE_PROTECT;
        Guard.configure(mode, options.shield, options.shieldMaxMs, options.closeWaitMs, options.silentRollbackThrows, log);
        inst.addTransformer(transformer, true);
        // library classes loaded before us (always so when attached): transform them now
        transformer.retransformLoaded(false);
        log.info("SessionGuard " + Version.get() + " " + (attached ? "attached" : "started") + " (" + options + ")");
    }

    private static int level(String log) {
        switch (log) {
            case "debug":
                return EventLog.DEBUG;
            case "info":
                return EventLog.INFO;
            case "off":
                return EventLog.OFF;
            default:
                return EventLog.WARN;
        }
    }
}
