/**
 * Model plugins are data only (issue 9, docs/plugins.md): {@link io.tollgate.guard.PluginCodeRule} says
 * whether a plugin carries code, {@link io.tollgate.guard.PluginResolverHook} keeps the framework from
 * resolving one that does, {@link io.tollgate.guard.PluginGuard} registers that hook. The launcher has this
 * package on its class path and the system bundle exports it, so the hook, the serving bundle (which
 * reports the refusal) and the offline {@code plugin inspect} use the same classes.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.5.0")
package io.tollgate.guard;
