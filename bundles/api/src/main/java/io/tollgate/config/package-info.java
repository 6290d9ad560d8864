/**
 * Checks a component's configuration against the keys its configuration type declares, so that a misspelt key
 * (for example {@code max.queue.per.modle}) stops the component with the right spelling in the message instead
 * of being ignored while the default applies; and reads the files a configuration names ({@link
 * io.tollgate.config.ConfigFile}: regular files of a bounded size only, since 1.1).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.tollgate.config;
