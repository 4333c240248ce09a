package dev.sessionguard.bootstrap;

/**
 * The decision at the end of a thread's outermost guarded call (docs/design.md, "The policy"): what the
 * caller sees. A commit failure always reaches the caller, wherever the commit ran; a rollback or close
 * failure is swallowed when it is safe (shutdown, interrupt, a resource already closed, the cleanup of a
 * failed commit on the same connection or session); a method the agent cannot name is never changed.
 */
final class Policy {

    private Policy() {
    }

    static String name(int op) {
        switch (op) {
            case Guard.COMMIT:
                return "commit()";
            case Guard.ROLLBACK:
                return "rollback()";
            case Guard.CLOSE:
                return "close()";
            default:
                return "the call";
        }
    }

    static Throwable decide(CallState s, int flags, int op, Object self, Object unit, String site, Throwable thrown) {
        try {
            return decideFor(s, flags, op, self, unit, site, thrown);
        } finally {
            if (op == Guard.CLOSE && rememberedFor(s, unit) != null) {
                // the connection or session is closed: its unit of work is over, and what it remembered is not
                // kept (an exception reaches its class loader: a thread of a pool must not keep a webapp's)
                forget(s);
            }
        }
    }

    private static Throwable decideFor(CallState s, int flags, int op, Object self, Object unit, String site, Throwable thrown) {
        boolean protect = (flags & Guard.PROTECT) != 0;
        // a commit that failed inside a rollback() the application made loses nothing it asked to keep
        Throwable nested = op == Guard.ROLLBACK ? null : s.nestedCommitFailure;
        if (thrown == null) {
            if (nested != null) {
                // close() (a pool committing on close) or commit() itself (a wrapper that swallows its driver's failure)
                return hiddenCommit(s, flags, op, self, unit, site, nested, protect);
            }
            if (op != Guard.ROLLBACK && rememberedFor(s, unit) != null) {
                forget(s); // a commit or a close of that unit went through: its unit of work is over
            }
            return null;
        }
        if (op == Guard.COMMIT) {
            // never swallowed: the caller must learn that its work is not in the database
            remember(s, unit, thrown);
            int reason = Failures.classify((flags & Guard.INTERRUPTED_AT_ENTRY) != 0, thrown);
            Counters.record(Events.COMMIT_FAILED, reason < 0 ? Events.STATE : reason, EventLog.WARN, false, self, site,
                    thrown, "commit failed; the exception reaches the caller unchanged");
            return thrown;
        }
        if (nested != null) {
            // a commit ran inside this call and failed: whatever this call throws now reaches the caller
            remember(s, unit, nested);
            boolean same = Failures.causedBy(thrown, nested);
            if (!same) {
                attach(thrown, nested);
            }
            Counters.record(Events.COMMIT_FAILED, Events.STATE, EventLog.WARN, false, self, site, nested,
                    "a commit run inside " + name(op) + " (" + s.nestedCommitSite + ") failed; "
                            + (same ? "the exception reaches the caller unchanged" : "the exception of " + name(op)
                            + " reaches the caller unchanged, with the commit's attached as suppressed"));
            return thrown;
        }
        if (op != Guard.ROLLBACK && op != Guard.CLOSE) {
            return thrown; // an operation the agent cannot name: never swallowed
        }
        Throwable first = rememberedFor(s, unit);
        if (first == thrown) {
            return thrown;
        }
        int reason = Failures.classify((flags & Guard.INTERRUPTED_AT_ENTRY) != 0, thrown);
        String detail = null;
        if (reason < 0 && op == Guard.ROLLBACK && Failures.isNothingToRollBack(thrown)) {
            // Hibernate released the transaction's connection mid-transaction (its factory closed under a
            // statement); the pool rolled the work back, and rollback() ran on a connection with no transaction
            reason = Events.STATE;
            detail = "the connection had no transaction to roll back: it was released mid-transaction and the pool rolled the work back";
        }
        if (reason < 0) {
            if (first == null) {
                return thrown;
            }
            // the cleanup of a failed commit: the commit failure is what the caller must see, not this one
            reason = Events.STATE;
        }
        if (op == Guard.CLOSE && Failures.stillOpen(self)) {
            return thrown; // the close did not happen: swallowing it would leak the connection and its transaction
        }
        int kind = op == Guard.ROLLBACK ? Events.ROLLBACK_SWALLOWED : Events.CLOSE_SWALLOWED;
        Counters.record(kind, reason, EventLog.WARN, protect, self, site, thrown,
                first == null ? detail : "after the failed commit of the same connection or session, which the caller sees; attached to it as suppressed");
        if (protect && first != null) {
            attach(first, thrown); // nothing lost: it travels with the exception the caller sees
        }
        return protect ? null : thrown;
    }

    /**
     * close() or commit() returned normally, but a commit it ran failed below it and was hidden: c3p0 with
     * autoCommitOnClose commits through setAutoCommit(true), logs the failure at FINE and checks the connection in; a
     * connection wrapper whose commit() swallows its driver's failure. The work is not in the database and nobody
     * was told: logged at ERROR as a failed commit, thrown from the call when hiddenCommit=throw. (A rollback() that
     * returns normally loses nothing it was asked to keep: Policy.decideFor passes no nested failure for it.)
     */
    private static Throwable hiddenCommit(CallState s, int flags, int op, Object self, Object unit, String site,
                                          Throwable nested, boolean protect) {
        boolean raise = protect && Config.hiddenCommitThrows;
        remember(s, unit, nested);
        int reason = Failures.classify((flags & Guard.INTERRUPTED_AT_ENTRY) != 0, nested);
        Counters.record(Events.COMMIT_FAILED, reason < 0 ? Events.STATE : reason, EventLog.ERROR, raise, self, site, nested,
                "a commit run inside " + name(op) + " (" + s.nestedCommitSite + ") failed and " + name(op)
                        + " returned normally: that transaction's work is not in the database and the caller was not told"
                        + (raise ? "; thrown to the caller (hiddenCommit=throw)" : "; hiddenCommit=throw makes " + name(op) + " throw it"));
        return raise ? nested : null;
    }

    /**
     * Remembers {@code failure} for {@code unit}, weakly (CallState): while the caller still holds the exception or the
     * connection, a cleanup failure of that unit is judged as the cleanup of this failure; once both are gone, nothing
     * of them stays on the thread. A null unit (a Hibernate 4.x to 5.2 transaction whose session could not be read)
     * remembers nothing: it would match any other call without a unit.
     */
    private static void remember(CallState s, Object unit, Throwable failure) {
        if (unit == null) {
            forget(s);
            return;
        }
        s.commitFailure = new java.lang.ref.WeakReference<Throwable>(failure);
        s.commitFailureUnit = new java.lang.ref.WeakReference<Object>(unit);
    }

    /** The failure remembered for {@code unit}, or null; forgets one whose exception or unit was collected. */
    static Throwable rememberedFor(CallState s, Object unit) {
        java.lang.ref.WeakReference<Throwable> failure = s.commitFailure;
        java.lang.ref.WeakReference<Object> of = s.commitFailureUnit;
        if (failure == null || of == null) {
            return null;
        }
        Throwable t = failure.get();
        Object u = of.get();
        if (t == null || u == null) {
            forget(s); // collected: the normal path (Guard.exit) is fast again
            return null;
        }
        return u == unit ? t : null;
    }

    private static void forget(CallState s) {
        s.commitFailure = null;
        s.commitFailureUnit = null;
    }

    private static void attach(Throwable to, Throwable t) {
        try {
            to.addSuppressed(t);
        } catch (Throwable ignored) {
            // suppression disabled on that exception
        }
    }
}
