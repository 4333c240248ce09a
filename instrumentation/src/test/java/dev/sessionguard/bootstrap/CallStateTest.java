package dev.sessionguard.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The interrupt shield's state word: each transition, as a pure function. */
class CallStateTest {

    @Test
    void openStartsANewGenerationAndKeepsDeliveries() {
        long w = 0;
        long open = CallState.opened(w);
        assertTrue(CallState.isOpen(open));
        assertFalse(CallState.isPending(open));
        assertEquals(1, CallState.generation(open));
        long delivering = CallState.deliveringMore(CallState.deliveringMore(CallState.closed(open)));
        assertTrue(CallState.isDelivering(delivering));
        long reopened = CallState.opened(delivering);
        assertEquals(2, CallState.generation(reopened));
        assertTrue(CallState.isDelivering(reopened), "deliveries in progress stay counted");
        assertFalse(CallState.isDelivering(CallState.deliveringLess(CallState.deliveringLess(reopened))));
    }

    @Test
    void closeClearsOpenAndPendingOnly() {
        long w = CallState.opened(CallState.opened(0)) | CallState.PENDING;
        long closed = CallState.closed(w);
        assertFalse(CallState.isOpen(closed));
        assertFalse(CallState.isPending(closed));
        assertEquals(2, CallState.generation(closed));
    }

    @Test
    void generationsDoNotOverflowIntoFlags() {
        long w = 0;
        for (int i = 0; i < 100_000; i++) {
            w = CallState.closed(CallState.opened(w));
        }
        assertEquals(100_000, CallState.generation(w));
        assertFalse(CallState.isOpen(w) || CallState.isPending(w) || CallState.isDelivering(w));
    }

    @Test
    void theRealWordMovesThroughOpenPendingClose() {
        CallState s = new CallState();
        assertFalse(InterruptShield.open(s), "no interrupt pending");
        assertTrue(CallState.isOpen(s.word));
        assertTrue(s.casWord(s.word, s.word | CallState.PENDING));
        assertTrue(InterruptShield.close(s), "the held-back interrupt is reported once");
        assertFalse(InterruptShield.close(s), "and not twice");
    }
}
