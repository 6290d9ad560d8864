package io.tollgate.config;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Map;
import java.util.Set;
import org.junit.Test;

public class ConfigurationKeysTest {
    @interface SampleConfig {
        int max_queue_per_model() default 1;

        String directory() default "";

        long disk_budget_bytes() default 0;

        String weird__name$_$x() default "";
    }

    @interface TypedConfig {
        int max_queue_per_model() default 1;

        String directory() default "";

        long disk_budget_bytes() default 0;

        boolean allow_plain() default false;

        double ratio() default 0.5;
    }

    @Test
    public void refusesValuesThatAreNotOfTheKeysTypeNamingEachKey() {
        try {
            ConfigurationKeys.refuseUnknown("io.tollgate.serving", TypedConfig.class, Map.of("max.queue.per.model",
                    "abc", "disk.budget.bytes", "10GB", "allow.plain", "ture", "ratio", "half", "directory", "x"));
            fail("accepted values of the wrong type");
        } catch (IllegalArgumentException e) {
            assertEquals("configuration io.tollgate.serving: 'allow.plain' is 'ture'; expected true or false; "
                    + "'disk.budget.bytes' is '10GB'; expected a whole number from -9223372036854775808 to "
                    + "9223372036854775807; 'max.queue.per.model' is 'abc'; expected a whole number from -2147483648 to "
                    + "2147483647; 'ratio' is 'half'; expected a number", sorted(e.getMessage()));
        }
        ConfigurationKeys.refuseUnknown("p", TypedConfig.class, Map.of("max.queue.per.model", "12",
                "disk.budget.bytes", "9000000000", "allow.plain", "TRUE", "ratio", "0.25"));
        ConfigurationKeys.refuseUnknown("p", TypedConfig.class, Map.of("max.queue.per.model", 12, "allow.plain", true));
    }

    /** The message with its "; "-separated problems in key order (getDeclaredMethods has no fixed order). */
    private static String sorted(String message) {
        String head = "configuration io.tollgate.serving: ";
        String[] parts = message.substring(head.length()).split("; (?=')");
        java.util.Arrays.sort(parts);
        return head + String.join("; ", parts);
    }

    @Test
    public void mapsMethodNamesAsDeclarativeServicesDoes() {
        assertEquals("max.queue.per.model", ConfigurationKeys.key("max_queue_per_model"));
        assertEquals("a_b", ConfigurationKeys.key("a__b"));
        assertEquals("a-b", ConfigurationKeys.key("a$_$b"));
        assertEquals("a$b", ConfigurationKeys.key("a$$b"));
        assertEquals("ab", ConfigurationKeys.key("a$b"));
        assertEquals(Set.of("max.queue.per.model", "directory", "disk.budget.bytes", "weird_name-x"),
                ConfigurationKeys.declared(SampleConfig.class));
    }

    @Test
    public void acceptsDeclaredAndFrameworkKeys() {
        ConfigurationKeys.refuseUnknown("p", SampleConfig.class, Map.of("max.queue.per.model", 3,
                "service.pid", "p", "component.name", "c", "component.id", 7L,
                "felix.fileinstall.filename", "file:/x/p.cfg", "role", "x"), "role");
        ConfigurationKeys.refuseUnknown("p", SampleConfig.class, null);
    }

    @Test
    public void refusesATypoNamingTheKeyItMeans() {
        try {
            ConfigurationKeys.refuseUnknown("io.tollgate.serving", SampleConfig.class,
                    Map.of("max.queue.per.modle", 3, "disk_budget_bytes", 5, "completely.else", 1));
            fail("typos must be refused");
        } catch (IllegalArgumentException e) {
            assertEquals("configuration io.tollgate.serving has unknown keys 'completely.else', 'disk_budget_bytes' "
                    + "(did you mean 'disk.budget.bytes'?), 'max.queue.per.modle' (did you mean "
                    + "'max.queue.per.model'?); the keys are: directory, disk.budget.bytes, max.queue.per.model, "
                    + "weird_name-x", e.getMessage());
        }
    }

    @Test
    public void distanceCountsASwapOnce() {
        assertEquals(1, ConfigurationKeys.distance("modle", "model"));
        assertEquals(0, ConfigurationKeys.distance("x", "x"));
        assertTrue(ConfigurationKeys.distance("abc", "xyz") == 3);
    }
}
