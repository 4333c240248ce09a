package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Collections;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link GuardTransformer}'s record of what it wove (the report, JMX, detach) holds only what was returned woven. */
class GuardTransformerTest {

    /**
     * A class in a named module whose module cannot be given access to the helper classes is returned unwoven
     * (ModuleReads, JDK 9+), after the transformer had recorded it as woven.
     */
    @Test
    void aClassLeftUnwovenForItsModuleIsNotReportedAsInstrumented() {
        GuardTransformer t = new GuardTransformer(null, Collections.emptyList(), new LogSink(LogSink.ERROR + 1));
        Set<String> instrumented = t.instrumented();
        instrumented.add("org.x.Conn#commit");
        instrumented.add("org.x.Conn#close");
        instrumented.add("org.x.ConnOther#commit");
        t.moduleReadFailed("org/x/Conn", "org.x", new IllegalStateException("refused"));
        assertEquals(Set.of("org.x.ConnOther#commit"), instrumented);
    }
}
