import com.sun.tools.javac.api.JavacTaskPool;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.DiagnosticListener;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * Compiles Main.java in each directory given on the command line, one after the other, in this one JVM. The
 * outcome goes to RESULT_FILE in the directory: first line "ok" or "error", then javac's diagnostics. Directories
 * left without that file were not reached.
 *
 * <p>Each program is compiled as `javac Main.java` inside its directory would be: its classes go to that
 * directory, and class and source path hold nothing but Main.java itself (the directory holds nothing else when
 * javac starts), so an empty directory stands in for both and they are the same for every program.
 *
 * <p>javac's own state (the JDK's classes read, the compiler warmed up) is kept from one program to the next by
 * javac's task pool (the one jshell uses; it removes every class the previous program declared and starts afresh
 * when one touches java.*). Annotation processing is off, so a program's source cannot run code in this JVM. A
 * program that fails to compile, or crashes javac, ends the pooled state: the next one starts a fresh compiler,
 * so leftovers of a compile that stopped half-way never reach another program. Where the JDK has no such pool
 * (or does not export it), every program gets a fresh compiler task.
 */
public final class BatchCompile {
    static final String RESULT_FILE = ".javac_result";
    static final String NO_POOL = "javac's task pool is not available: a fresh compiler for every program";
    static final List<String> OPTIONS = List.of("-encoding", "UTF-8", "-proc:none");

    private final JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    private final StandardJavaFileManager files = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8);
    private JavacTaskPool pool = newPool();

    public static void main(String[] args) throws Exception {
        BatchCompile batch = new BatchCompile();
        if (batch.pool == null) {
            System.err.println(NO_POOL);
        }
        List<File> nothing = List.of(Files.createTempDirectory(Path.of("").toAbsolutePath(), "empty-path-").toFile());
        batch.files.setLocation(StandardLocation.CLASS_PATH, nothing);
        batch.files.setLocation(StandardLocation.SOURCE_PATH, nothing);
        for (String dir : args) {
            batch.compileOne(new File(dir).getAbsoluteFile());
        }
    }

    void compileOne(File dir) throws IOException {
        files.setLocation(StandardLocation.CLASS_OUTPUT, List.of(dir));
        Iterable<? extends JavaFileObject> sources = files.getJavaFileObjects(new File(dir, "Main.java"));
        StringWriter diagnostics = new StringWriter();
        DiagnosticListener<JavaFileObject> collect = d -> diagnostics.write(d + System.lineSeparator());
        boolean ok;
        try {
            ok = pool == null
                ? compiler.getTask(diagnostics, files, collect, OPTIONS, null, sources).call()
                : pool.getTask(diagnostics, files, collect, OPTIONS, null, sources, task -> task.call());
        } catch (RuntimeException | StackOverflowError e) {
            ok = false;
            diagnostics.write("javac crashed: " + e);
        }
        if (!ok) {
            pool = newPool();
        }
        String text = (ok ? "ok" : "error") + "\n" + diagnostics;
        Files.writeString(Path.of(dir.getPath(), RESULT_FILE), text, StandardCharsets.UTF_8);
    }

    private static JavacTaskPool newPool() {
        try {
            return new JavacTaskPool(1);
        } catch (LinkageError notExported) {
            return null;
        }
    }
}
