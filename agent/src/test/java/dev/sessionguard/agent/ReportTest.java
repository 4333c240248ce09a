package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code report=FILE}: written whole, never through a planted link, never over a directory; bad paths refused at start. */
class ReportTest {

    private static Report report(Path file) throws Exception {
        Report r = new Report(Options.parse("report=" + file));
        r.transformer = new GuardTransformer(null, Collections.emptyList(), new LogSink(LogSink.ERROR + 1));
        return r;
    }

    private static long files(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void writtenWholeWithNothingLeftBeside(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sg.json");
        report(file).write();
        report(file).write(); // over the first
        assertTrue(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).contains("\"events\""));
        assertEquals(1, files(dir), "no temporary file left");
    }

    /**
     * Detach writes the report as it stands and takes its shutdown hook out: the hook wrote it again at exit with nothing
     * woven (racing an agent attached again with the same report) and kept the detached installation for good.
     */
    @Test
    void detachWritesTheReportAndRemovesItsHook(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sg.json");
        Report r = new Report(Options.parse("report=" + file));
        r.attach(new GuardTransformer(null, Collections.emptyList(), new LogSink(LogSink.ERROR + 1)), new LogSink(LogSink.ERROR + 1));
        assertTrue(r.hooked());
        r.detach();
        assertTrue(Files.isRegularFile(file), "written at detach");
        assertTrue(!r.hooked(), "not again at exit");
        assertTrue(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).contains("\"instrumented\""));
    }

    /** A link planted where the old code wrote its temporary file (FILE.tmp, a name anyone could foresee). */
    @Test
    void aPlantedLinkIsNotFollowed(@TempDir Path dir) throws Exception {
        Path victim = Files.write(dir.resolve("victim.txt"), "precious".getBytes(StandardCharsets.UTF_8));
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.createSymbolicLink(shared.resolve("sg.json.tmp"), victim);
        report(shared.resolve("sg.json")).write();
        assertArrayEquals("precious".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(victim));
        assertTrue(Files.isRegularFile(shared.resolve("sg.json")));
    }

    /** The report's path became a directory after start (an application's log directory, created empty). */
    @Test
    void aDirectoryIsNeverReplacedOrRemoved(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("logs");
        Report r = report(file);
        Files.createDirectory(file);
        r.write();
        assertTrue(Files.isDirectory(file), "still a directory");
        Path full = dir.resolve("full");
        Report r2 = report(full);
        Files.createDirectory(full);
        Files.write(full.resolve("app.log"), new byte[] {1});
        r2.write();
        assertTrue(Files.isRegularFile(full.resolve("app.log")));
        assertEquals(2, files(dir), "nothing else left: " + dir); // logs and full
    }

    @Test
    void aDirectoryOrAnEmptyTargetListIsRefusedAtStart(@TempDir Path dir) throws Exception {
        assertThrows(Options.InvalidOption.class, () -> Options.parse("report=" + dir));
        assertThrows(Options.InvalidOption.class, () -> Options.parse("report=" + dir + "/reports/"));
        assertThrows(Options.InvalidOption.class, () -> Options.parse("targets=+"));
        assertThrows(Options.InvalidOption.class, () -> Options.parse("targets=,"));
        assertEquals(dir + "/r-%p.json", Options.parse("report=" + dir + "/r-%p.json").report);
    }

    /**
     * The CLI checks an attach argument without this JVM's system properties or file system: report=logs is the
     * target's file, relative to its own directory, even where ./logs is a directory here.
     */
    @Test
    void theClisCheckOfAnArgumentLeavesTheFileSystemToTheTarget(@TempDir Path dir) throws Exception {
        assertThrows(Options.InvalidOption.class, () -> Options.parse("report=" + dir), "here: a directory");
        assertEquals(dir.toString(), Options.parseArgument("report=" + dir).report, "for the target: its own file system");
        assertThrows(Options.InvalidOption.class, () -> Options.parseArgument("report=" + dir + "/"), "a trailing / anywhere");
        System.setProperty("sessionguard.mode", "nonsense");
        try {
            assertEquals("protect", Options.parseArgument("").mode, "this JVM's properties are not the target's");
        } finally {
            System.clearProperty("sessionguard.mode");
        }
    }

    /** mode=observe,...,mode=protect (a template that appends to the argument): which one was meant is not known. */
    @Test
    void aKeyGivenTwiceInTheArgumentIsRefused() throws Exception {
        Options.InvalidOption twice = assertThrows(Options.InvalidOption.class, () -> Options.parse("mode=observe,log=info,mode=protect"));
        assertEquals("option 'mode' is given twice (mode=observe, mode=protect); give it once", twice.getMessage());
        System.setProperty("sessionguard.mode", "observe");
        try {
            assertEquals("protect", Options.parse("mode=protect").mode, "a system property is overridden by the argument, not refused");
        } finally {
            System.clearProperty("sessionguard.mode");
        }
    }
}
