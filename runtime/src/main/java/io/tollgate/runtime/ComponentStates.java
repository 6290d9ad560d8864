package io.tollgate.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * What Declarative Services says about each component: Felix SCR's {@code ServiceComponentRuntime} service and its
 * DTOs (DS 1.3+; SCR 2.2 fills {@code failure} for a failed activation). The launcher lives outside the framework and
 * the DS API is a bundle's ({@code system/}), so the service and its DTOs are read by reflection: DTOs are public
 * fields by specification, and the two methods used are the DS 1.3 runtime API.
 *
 * <p>Threads: any; each call reads SCR's current state.
 */
final class ComponentStates {
    static final String SCR = "org.osgi.service.component.runtime.ServiceComponentRuntime";
    // ComponentConfigurationDTO states (DS 1.3 / 1.5)
    static final int UNSATISFIED_CONFIGURATION = 1;
    static final int UNSATISFIED_REFERENCE = 2;
    static final int SATISFIED = 4;
    static final int ACTIVE = 8;
    static final int FAILED_ACTIVATION = 16;

    /** One component configuration: its state, SCR's failure text (or ""), and its unsatisfied references. */
    record Configuration(int state, String failure, List<String> unsatisfiedReferences) {
    }

    private ComponentStates() {
    }

    /**
     * Every component SCR knows, by name, with its configurations (none for a component that is disabled); empty
     * when SCR is not (yet) running.
     */
    static Map<String, List<Configuration>> read(BundleContext ctx) {
        Map<String, List<Configuration>> all = new TreeMap<>();
        ServiceReference<?> ref = ctx.getServiceReference(SCR);
        if (ref == null) {
            return all;
        }
        Object scr = ctx.getService(ref);
        if (scr == null) {
            return all;
        }
        try {
            Class<?> api = apiOf(scr.getClass());
            Method descriptions = method(api, "getComponentDescriptionDTOs");
            Method configurations = method(api, "getComponentConfigurationDTOs");
            // no bundles given: every bundle's components
            Collection<?> dtos = (Collection<?>) descriptions.invoke(scr, (Object) Array.newInstance(
                    descriptions.getParameterTypes()[0].getComponentType(), 0));
            for (Object d : dtos) {
                String name = (String) field(d, "name");
                List<Configuration> list = new ArrayList<>();
                for (Object c : (Collection<?>) configurations.invoke(scr, d)) {
                    list.add(configuration(c));
                }
                all.merge(name, list, (a, b) -> {
                    a.addAll(b);
                    return a;
                });
            }
            return all;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the component states from " + SCR + ": " + e, e);
        } finally {
            ctx.ungetService(ref);
        }
    }

    /** The configuration PIDs the components SCR knows read ({@code ComponentDescriptionDTO.configurationPid}). */
    static java.util.Set<String> configurationPids(BundleContext ctx) {
        java.util.Set<String> pids = new java.util.TreeSet<>();
        ServiceReference<?> ref = ctx.getServiceReference(SCR);
        if (ref == null) {
            return pids;
        }
        Object scr = ctx.getService(ref);
        if (scr == null) {
            return pids;
        }
        try {
            Method descriptions = method(apiOf(scr.getClass()), "getComponentDescriptionDTOs");
            Collection<?> dtos = (Collection<?>) descriptions.invoke(scr, (Object) Array.newInstance(
                    descriptions.getParameterTypes()[0].getComponentType(), 0));
            for (Object d : dtos) {
                Object p = field(d, "configurationPid");
                if (p != null) {
                    for (int i = 0; i < Array.getLength(p); i++) {
                        pids.add((String) Array.get(p, i));
                    }
                }
            }
            return pids;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the component descriptions from " + SCR + ": " + e, e);
        } finally {
            ctx.ungetService(ref);
        }
    }

    private static Configuration configuration(Object c) throws ReflectiveOperationException {
        int state = (Integer) field(c, "state");
        Object failure = optionalField(c, "failure");
        List<String> unsatisfied = new ArrayList<>();
        Object refs = field(c, "unsatisfiedReferences");
        if (refs != null) {
            for (int i = 0; i < Array.getLength(refs); i++) {
                Object r = Array.get(refs, i);
                unsatisfied.add((String) field(r, "name"));
            }
        }
        return new Configuration(state, failure == null ? "" : failure.toString(), unsatisfied);
    }

    private static Class<?> apiOf(Class<?> impl) {
        for (Class<?> c = impl; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (i.getName().equals(SCR)) {
                    return i;
                }
            }
        }
        throw new IllegalStateException(impl + " does not implement " + SCR);
    }

    private static Method method(Class<?> api, String name) throws NoSuchMethodException {
        for (Method m : api.getMethods()) {
            if (m.getName().equals(name)) {
                return m;
            }
        }
        throw new NoSuchMethodException(api.getName() + "." + name);
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        return o.getClass().getField(name).get(o);
    }

    /** {@code failure} is DS 1.5 (SCR 2.2); an older SCR has no such field. */
    private static Object optionalField(Object o, String name) throws ReflectiveOperationException {
        try {
            return field(o, name);
        } catch (NoSuchFieldException e) {
            return null;
        }
    }

    /** A state for a message: "ACTIVE", "FAILED_ACTIVATION", ... */
    static String stateName(int state) {
        return switch (state) {
            case UNSATISFIED_CONFIGURATION -> "waiting for its configuration";
            case UNSATISFIED_REFERENCE -> "waiting for a service";
            case SATISFIED -> "satisfied, not active";
            case ACTIVE -> "active";
            case FAILED_ACTIVATION -> "failed to activate";
            default -> "state " + state;
        };
    }

    /**
     * SCR's failure text (a stack trace) as one line: the deepest cause's message, which is where the components put
     * what is wrong and what to do ("invalid io.tollgate.endpoint.cfg configuration: ...").
     */
    static String reason(String failure) {
        if (failure == null || failure.isBlank()) {
            return "";
        }
        String line = null;
        for (String l : failure.split("\\R")) {
            String t = l.trim();
            if (line == null && !t.isEmpty()) {
                line = t;
            } else if (t.startsWith("Caused by: ")) {
                line = t.substring("Caused by: ".length());
            }
        }
        if (line == null) {
            return "";
        }
        // "java.lang.IllegalArgumentException: message" -> "message"
        int colon = line.indexOf(": ");
        if (colon > 0 && line.substring(0, colon).matches("[\\w.$]+(Exception|Error)")) {
            line = line.substring(colon + 2);
        }
        return line;
    }
}
