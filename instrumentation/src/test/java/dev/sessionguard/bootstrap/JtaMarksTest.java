package dev.sessionguard.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What JtaMarks remembers of Hibernate's marks on JTA transactions, and for how long. */
class JtaMarksTest {

    @Test
    void aMarkIsReportedOnceAtItsTransactionsCompletion() {
        Object coordinator = new Object();
        JtaMarks.marked(coordinator);
        String where = JtaMarks.completed(coordinator);
        // (this test is in the agent's bootstrap package, whose frames are skipped: the first frame after it is JUnit's)
        assertTrue(where.startsWith("org.junit."), where);
        assertNull(JtaMarks.completed(coordinator), "the next transaction of the same session starts unmarked");
    }

    @Test
    void marksInsideBeforeCompletionAreNotRemembered() {
        Object coordinator = new Object();
        JtaMarks.completing(true);
        try {
            JtaMarks.marked(coordinator); // a flush failing in the transaction manager's commit: its caller is told
        } finally {
            JtaMarks.completing(false);
        }
        assertNull(JtaMarks.completed(coordinator));
        JtaMarks.marked(coordinator);
        assertTrue(JtaMarks.completed(coordinator) != null, "after beforeCompletion() ended, marks count again");
    }

    @Test
    void theFirstMarkOfATransactionIsKeptAndOthersAreSeparate() {
        Object one = new Object();
        Object two = new Object();
        JtaMarks.marked(one);
        String first = JtaMarks.completed(one);
        JtaMarks.marked(one);
        JtaMarks.marked(one);
        assertEquals(first.substring(0, first.indexOf('(')), JtaMarks.completed(one).substring(0, first.indexOf('(')));
        assertNull(JtaMarks.completed(two), "a coordinator nobody marked");
    }

    @Test
    void theApplicationFrameSkipsHibernateTheJdkTheAgentAndTheContainer() {
        StackTraceElement[] stack = {
            new StackTraceElement("dev.sessionguard.bootstrap.JtaMarks", "marked", "JtaMarks.java", 1),
            new StackTraceElement("org.hibernate.engine.transaction.internal.TransactionImpl", "markRollbackOnly", "TransactionImpl.java", 2),
            new StackTraceElement("jdk.internal.reflect.DirectMethodHandleAccessor", "invoke", null, -1),
            new StackTraceElement("org.jboss.as.jpa.container.AbstractEntityManager", "createNativeQuery", null, 3),
            new StackTraceElement("com.example.OrderBean", "place", "OrderBean.java", 42),
        };
        assertEquals("com.example.OrderBean.place(OrderBean.java:42)", JtaMarks.applicationFrame(stack));
        assertEquals("unknown", JtaMarks.applicationFrame(new StackTraceElement[] {stack[1]}));
    }
}
