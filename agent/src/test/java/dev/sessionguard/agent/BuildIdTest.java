package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build's identity follows its contents, not its files' times or sizes: two builds of one version whose jars have
 * the same size and time (an image builder that sets every time to one value) must not share a woven-class cache.
 */
class BuildIdTest {

    @Test
    void theContentsDecideNotTimesOrSizes(@TempDir Path dir) throws Exception {
        Path classes = Files.createDirectories(dir.resolve("classes/dev/sessionguard/agent")).getParent().getParent().getParent();
        Path advice = classes.resolve("dev/sessionguard/agent/Advice.class");
        Files.write(advice, new byte[] {1, 2, 3, 4});
        Path helpers = Files.write(dir.resolve("helpers.jar"), new byte[] {9, 9, 9});
        List<File> cp = Collections.singletonList(helpers.toFile());
        String first = BuildId.compute(classes.toFile(), cp);
        assertTrue(first.matches("[0-9a-f]{16}"), first);

        Files.setLastModifiedTime(advice, FileTime.fromMillis(1000));
        Files.setLastModifiedTime(helpers, FileTime.fromMillis(1000));
        Files.createDirectories(classes.resolve("META-INF/sessionguard"));
        Files.write(classes.resolve(BuildId.RESOURCE), first.getBytes());
        assertEquals(first, BuildId.compute(classes.toFile(), cp), "times and the id's own file do not count");

        Files.write(advice, new byte[] {1, 2, 3, 5});
        String otherAdvice = BuildId.compute(classes.toFile(), cp);
        assertNotEquals(first, otherAdvice, "another advice of the same size");

        Files.write(helpers, new byte[] {9, 9, 8});
        assertNotEquals(otherAdvice, BuildId.compute(classes.toFile(), cp), "other helper classes of the same size");
    }
}
