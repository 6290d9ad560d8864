package io.tollgate.tools;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.IHelpSectionRenderer;

/**
 * The top-level help's command list: every command that does something, with its full name ({@code usage export},
 * {@code device init}, ...), not only the first level; a command added anywhere in the tree is listed.
 */
final class CommandList implements IHelpSectionRenderer {
    @Override
    public String render(Help help) {
        Map<String, String> rows = new LinkedHashMap<>();
        collect(help.commandSpec().commandLine(), "", rows);
        return help.createTextTable(rows).toString();
    }

    /** Leaf commands below {@code cmd}, by name relative to the top ("plugin pack"), with their first description line. */
    static void collect(CommandLine cmd, String prefix, Map<String, String> rows) {
        for (Map.Entry<String, CommandLine> e : cmd.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            if (!e.getKey().equals(sub.getCommandName()) || sub.getCommandSpec().usageMessage().hidden()) {
                continue;   // an alias, or a command for scripts (profile jvm-options)
            }
            String name = prefix + e.getKey();
            if (sub.getSubcommands().isEmpty()) {
                String[] description = sub.getCommandSpec().usageMessage().description();
                rows.put(name, description.length == 0 ? "" : description[0]);
            } else {
                collect(sub, name + " ", rows);
            }
        }
    }
}
