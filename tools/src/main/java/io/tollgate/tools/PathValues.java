package io.tollgate.tools;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Paths given on a command line, checked the same way by every command of {@code bin/tollgate} and
 * {@code tollgate-billing}, and file problems said in words that name the file and the reason.
 */
public final class PathValues {
    private PathValues() {
    }

    /**
     * {@code value} as a path. An empty (or blank) value is a bad command line ({@link ExitCodes#USAGE}): Java
     * would take {@code ""} for the current directory, and a command would write its files there.
     *
     * @param spec   the command (or, from a mixin, its {@code @Spec(MIXEE)}), for the error line
     * @param option the option as the user types it, e.g. {@code --data}
     */
    public static Path nonEmpty(CommandSpec spec, String option, String value) {
        if (value == null || value.isBlank()) {
            throw new ParameterException(spec.commandLine(), option + " must not be empty");
        }
        return Paths.get(value);
    }

    /**
     * Refuses a folder option whose path exists as something other than a folder ({@link ExitCodes#IO_ERROR}),
     * e.g. {@code --data /tmp/afile is a file, not a directory}. A path that does not exist passes.
     */
    public static void notAFile(String option, Path dir) throws ToolException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ToolException(ExitCodes.IO_ERROR, option + " " + dir + " is a file, not a directory");
        }
    }

    /**
     * What went wrong with a file, in a few words and without the path ("no such file", "permission denied", "is a
     * directory", ...), for messages that name the file themselves.
     */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException f) {
            return f.getFile() + " already exists";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return lower(f.getReason());
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        if (e instanceof FileNotFoundException && m.endsWith(")") && m.contains(" (")) {
            // java.io's "path (reason)"
            return lower(m.substring(m.lastIndexOf(" (") + 2, m.length() - 1));
        }
        return lower(m);
    }

    private static String lower(String reason) {
        return reason.length() > 1 && Character.isUpperCase(reason.charAt(0)) && Character.isLowerCase(reason.charAt(1))
                ? Character.toLowerCase(reason.charAt(0)) + reason.substring(1) : reason;
    }
}
