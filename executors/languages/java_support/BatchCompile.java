import java.io.File;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Compiles Main.java in each directory given on the command line, one after the other, in this one JVM, so the
 * compiler is warm after the first program. Each directory is compiled exactly as `javac Main.java` would be run
 * inside it (classpath and output = that directory). The outcome goes to RESULT_FILE in the directory: first line
 * "ok" or "error", then javac's diagnostics. Directories left without that file were not reached.
 */
public final class BatchCompile {
    static final String RESULT_FILE = ".javac_result";

    public static void main(String[] args) throws Exception {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        for (String dir : args) {
            compileOne(compiler, new File(dir).getAbsoluteFile());
        }
    }

    static void compileOne(JavaCompiler compiler, File dir) throws Exception {
        StringWriter diagnostics = new StringWriter();
        boolean ok;
        try (StandardJavaFileManager files = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            List<String> options = List.of(
                "-encoding", "UTF-8", "-proc:none", "-classpath", dir.getPath(), "-sourcepath", dir.getPath(),
                "-d", dir.getPath());
            ok = compiler.getTask(diagnostics, files, null, options, null,
                files.getJavaFileObjects(new File(dir, "Main.java"))).call();
        } catch (RuntimeException | StackOverflowError e) {
            ok = false;
            diagnostics.write("javac crashed: " + e);
        }
        String text = (ok ? "ok" : "error") + "\n" + diagnostics;
        Files.writeString(Path.of(dir.getPath(), RESULT_FILE), text, StandardCharsets.UTF_8);
    }
}
