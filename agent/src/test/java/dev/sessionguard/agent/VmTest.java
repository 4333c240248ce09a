package dev.sessionguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The CLI signals nothing but JVMs: the attach API sends SIGQUIT to a process with no attach socket. */
class VmTest {

    /**
     * A process that catches SIGQUIT, as PostgreSQL's postmaster does (for it: immediate shutdown). Before the check
     * the attach API, finding no attach socket, sent it SIGQUIT (seen with the CLI's status command on JDK 17.0).
     */
    @Test
    void aProcessThatIsNotAJvmIsRefusedAndNotSignalled(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        assumeTrue(new File("/proc/self/maps").canRead(), "Linux /proc");
        assumeTrue(new File("/usr/bin/python3").canExecute(), "python3, to catch SIGQUIT");
        java.nio.file.Path got = dir.resolve("got");
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import signal, time\n"
                + "signal.signal(signal.SIGQUIT, lambda s, f: open('" + got + "', 'w').write('SIGQUIT'))\n"
                + "print('ready', flush=True)\n"
                + "time.sleep(120)\n").start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8));
            assertEquals("ready", out.readLine(), "the process started, its handler in place");
            String pid = String.valueOf(p.pid());
            Vm.Failure f = assertThrows(Vm.Failure.class, () -> Vm.attach(pid).close());
            assertEquals("process " + pid + " is not a JVM (no libjvm in /proc/" + pid + "/maps); nothing was sent to it", f.getMessage());
            assertTrue(p.isAlive());
            assertTrue(!java.nio.file.Files.exists(got), "no SIGQUIT reached it");
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void thisJvmAndAFinishedProcessAreToldApart() throws Exception {
        assumeTrue(new File("/proc/self/maps").canRead(), "Linux /proc");
        assertNull(Vm.notAJvm(String.valueOf(ProcessHandle.current().pid())), "this JVM is one");
        Process done = new ProcessBuilder("true").start();
        done.waitFor();
        assertEquals("is not running", Vm.notAJvm(String.valueOf(done.pid())));
    }
}
