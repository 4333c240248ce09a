package dev.sessionguard.bootstrap;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * JTA transactions that Hibernate itself marked rollback-only outside their completion (a failed call on the
 * session: Hibernate converts the exception and marks the transaction on the way), remembered per Hibernate
 * JTA transaction coordinator until the transaction completes. When such a transaction completes without
 * committing, the work was lost because of a failure the application may have caught: a container-managed
 * transaction then ends with a rollback the caller is not told of (docs/wildfly.md, "JPA and
 * container-managed JTA transactions"). Marks are rare, so a synchronized weak map costs nothing on the normal
 * path: completion reads one volatile int when there is no mark at all.
 */
final class JtaMarks {

    /** Coordinator to where the mark was made (the first frame of the application's code). */
    private static final Map<Object, String> MARKS = new WeakHashMap<Object, String>();
    private static volatile int marked;
    /** Depth of JTA beforeCompletion() calls on this thread: marks made there come with a failed commit. */
    private static final ThreadLocal<int[]> COMPLETING = new ThreadLocal<int[]>() {
        @Override
        protected int[] initialValue() {
            return new int[1];
        }
    };

    private JtaMarks() {
    }

    static void completing(boolean begins) {
        int[] depth = COMPLETING.get();
        depth[0] += begins ? 1 : -1;
        if (depth[0] < 0) {
            depth[0] = 0;
        }
    }

    /** Hibernate marks the JTA transaction of {@code coordinator} rollback-only (its transaction still active). */
    static void marked(Object coordinator) {
        if (COMPLETING.get()[0] > 0) {
            return; // a flush failed inside the transaction manager's commit: the commit's caller is told
        }
        String where = applicationFrame(new Throwable().getStackTrace());
        synchronized (MARKS) {
            if (!MARKS.containsKey(coordinator)) {
                MARKS.put(coordinator, where);
                marked = MARKS.size();
            }
        }
    }

    /** The transaction of {@code coordinator} completed; returns where Hibernate had marked it, or null. */
    static String completed(Object coordinator) {
        if (marked == 0) {
            return null;
        }
        synchronized (MARKS) {
            String where = MARKS.remove(coordinator);
            marked = MARKS.size();
            return where;
        }
    }

    /** The first frame outside Hibernate, the JDK, the agent and the containers: the call that failed. */
    static String applicationFrame(StackTraceElement[] stack) {
        for (StackTraceElement e : stack) {
            String c = e.getClassName();
            if (!(c.startsWith("org.hibernate.") || c.startsWith("java.") || c.startsWith("javax.") || c.startsWith("jakarta.")
                    || c.startsWith("jdk.") || c.startsWith("sun.") || c.startsWith("com.sun.") || c.startsWith("dev.sessionguard.bootstrap.")
                    || c.startsWith("org.jboss.") || c.startsWith("org.wildfly.") || c.startsWith("com.arjuna."))) {
                return e.toString();
            }
        }
        return "unknown";
    }
}
