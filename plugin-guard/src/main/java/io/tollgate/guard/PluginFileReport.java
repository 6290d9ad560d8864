package io.tollgate.guard;

import java.util.List;

/**
 * The files of the plugins folder that are not installed as they are now (registered as a service by the launcher's
 * plugin folder gate, read by the serving bundle for {@code /admin/plugins}). A file installed as it is now is not
 * listed: the serving extender reports its bundle.
 *
 * <p>Threads: any; the answer is a snapshot and never blocks.
 *
 * @since 1.2
 */
public interface PluginFileReport {
    /** Every file of the plugins folder that is being written or was refused, by file name. */
    List<PluginFile> files();
}
