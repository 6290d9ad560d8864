package io.tollgate.endpoint.internal;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The JVM and process series of {@code /metrics}, under the names the Prometheus Java client's default exports use
 * ({@code process_*}, {@code jvm_*}), so that stock dashboards and alerts read them. Values come from the platform
 * MXBeans at each scrape; nothing is kept. The file descriptor and CPU counts are read as MBean attributes of
 * {@code java.lang:type=OperatingSystem} rather than through {@code com.sun.management} types, which the OSGi
 * framework does not export to bundles; where the JVM lacks them (not a Unix JVM) the series is left out.
 */
final class ProcessMetrics {
    private static final ObjectName OS = objectName("java.lang:type=OperatingSystem");

    private ProcessMetrics() {
    }

    private static ObjectName objectName(String name) {
        try {
            return new ObjectName(name);
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }

    static void render(StringBuilder out) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Long cpuNanos = attribute(server, "ProcessCpuTime");
        if (cpuNanos != null && cpuNanos >= 0) {
            EndpointMetrics.header(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent "
                    + "in seconds.");
            out.append("process_cpu_seconds_total ").append(cpuNanos / 1e9).append('\n');
        }
        EndpointMetrics.header(out, "process_start_time_seconds", "gauge",
                "Start time of the process since unix epoch in seconds.");
        out.append("process_start_time_seconds ").append(ManagementFactory.getRuntimeMXBean().getStartTime() / 1e3)
                .append('\n');
        Long open = attribute(server, "OpenFileDescriptorCount");
        Long max = attribute(server, "MaxFileDescriptorCount");
        if (open != null && max != null) {
            EndpointMetrics.header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
            out.append("process_open_fds ").append(open).append('\n');
            EndpointMetrics.header(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
            out.append("process_max_fds ").append(max).append('\n');
        }

        long[] memory = procStatus();
        if (memory != null) {
            EndpointMetrics.header(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
            out.append("process_virtual_memory_bytes ").append(memory[0]).append('\n');
            EndpointMetrics.header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
            out.append("process_resident_memory_bytes ").append(memory[1]).append('\n');
        }

        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
        EndpointMetrics.header(out, "jvm_memory_bytes_used", "gauge", "Used bytes of a given JVM memory area.");
        out.append("jvm_memory_bytes_used{area=\"heap\"} ").append(heap.getUsed()).append('\n');
        out.append("jvm_memory_bytes_used{area=\"nonheap\"} ").append(nonHeap.getUsed()).append('\n');
        EndpointMetrics.header(out, "jvm_memory_bytes_committed", "gauge",
                "Committed (bytes) of a given JVM memory area.");
        out.append("jvm_memory_bytes_committed{area=\"heap\"} ").append(heap.getCommitted()).append('\n');
        out.append("jvm_memory_bytes_committed{area=\"nonheap\"} ").append(nonHeap.getCommitted()).append('\n');
        EndpointMetrics.header(out, "jvm_memory_bytes_max", "gauge",
                "Max (bytes) of a given JVM memory area (-1 when undefined).");
        out.append("jvm_memory_bytes_max{area=\"heap\"} ").append(heap.getMax()).append('\n');
        out.append("jvm_memory_bytes_max{area=\"nonheap\"} ").append(nonHeap.getMax()).append('\n');

        EndpointMetrics.header(out, "jvm_gc_collection_seconds", "summary",
                "Time spent in a given JVM garbage collector in seconds.");
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            String name = EndpointMetrics.escape(gc.getName());
            out.append("jvm_gc_collection_seconds_count{gc=\"").append(name).append("\"} ")
                    .append(Math.max(0, gc.getCollectionCount())).append('\n');
            out.append("jvm_gc_collection_seconds_sum{gc=\"").append(name).append("\"} ")
                    .append(Math.max(0, gc.getCollectionTime()) / 1e3).append('\n');
        }

        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        gauge(out, "jvm_threads_current", "Current thread count of a JVM.", threads.getThreadCount());
        gauge(out, "jvm_threads_daemon", "Daemon thread count of a JVM.", threads.getDaemonThreadCount());
        gauge(out, "jvm_threads_peak", "Peak thread count of a JVM.", threads.getPeakThreadCount());
        EndpointMetrics.header(out, "jvm_threads_started_total", "counter", "Started thread count of a JVM.");
        out.append("jvm_threads_started_total ").append(threads.getTotalStartedThreadCount()).append('\n');
        gauge(out, "jvm_classes_currently_loaded", "The number of classes that are currently loaded in the JVM.",
                ManagementFactory.getClassLoadingMXBean().getLoadedClassCount());
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        EndpointMetrics.header(out, name, "gauge", help);
        out.append(name).append(' ').append(value).append('\n');
    }

    /** A numeric attribute of the operating system MBean, or null when this JVM does not have it. */
    private static Long attribute(MBeanServer server, String name) {
        try {
            Object v = server.getAttribute(OS, name);
            return v instanceof Number n ? n.longValue() : null;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * VmSize and VmRSS of {@code /proc/self/status} in bytes (what the Prometheus client reads), or null where there
     * is no such file (not Linux). Resident memory is what the OOM killer of a small box looks at: heap, the native
     * memory of ONNX Runtime sessions and Netty's direct buffers together.
     */
    static long[] procStatus() {
        java.nio.file.Path status = java.nio.file.Path.of("/proc/self/status");
        if (!java.nio.file.Files.isReadable(status)) {
            return null;
        }
        long size = -1;
        long rss = -1;
        try {
            for (String line : java.nio.file.Files.readAllLines(status)) {
                if (line.startsWith("VmSize:")) {
                    size = kilobytes(line);
                } else if (line.startsWith("VmRSS:")) {
                    rss = kilobytes(line);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
        return size < 0 || rss < 0 ? null : new long[] {size, rss};
    }

    /** "VmRSS:	  123456 kB" as bytes. */
    private static long kilobytes(String line) {
        String[] f = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        return Long.parseLong(f[0]) * 1024;
    }
}
